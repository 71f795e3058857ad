"""Running a query: criterion hits with highlights, counts, facets, groups, suggestions."""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from toolkit.index.analysis import stem, tokens_with_offsets
from toolkit.index.compile import QueryTerms, query_terms
from toolkit.index.schema import FACET_SOURCE, FACETS, facet_values
from toolkit.index.query import And, Node, Word
from toolkit.index.search_index import SearchIndex, engine_errors

__all__ = [
    "CriterionHit", "TrialHit", "TrialGroup", "FACETS", "run_search", "count_hits", "count_and_facets", "facet_counts",
    "group_by_trial", "highlight", "suggest_terms",
]



@dataclass(frozen=True)
class CriterionHit:
    """One matching criterion with its trial."""

    trial_id: str
    registry: str
    version: str
    title: str
    status: str
    phases: str
    criterion_id: str
    polarity: str
    category: str
    text: str
    score: float
    highlights: Tuple[Tuple[int, int], ...] = ()
    windows: str = ""  # the time windows with their entities (see toolkit.index.windows)

    def marked_text(self, before: str = "**", after: str = "**") -> str:
        """The text with every highlighted span wrapped in `before`/`after`."""
        return mark(self.text, self.highlights, before, after)

    def to_dict(self) -> dict:
        """JSON form (adds the marked text as `snippet`)."""
        return {
            "trial_id": self.trial_id, "registry": self.registry, "version": self.version,
            "title": self.title, "status": self.status, "phases": self.phases,
            "criterion_id": self.criterion_id, "polarity": self.polarity,
            "category": self.category, "text": self.text, "snippet": self.marked_text(),
            "highlights": [list(span) for span in self.highlights], "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class TrialHit:
    """One matching trial (a `--trials` search)."""

    trial_id: str
    registry: str
    version: str
    title: str
    status: str
    phases: str
    countries: str
    dates: str
    score: float
    highlights: Tuple[Tuple[int, int], ...] = ()

    def to_dict(self) -> dict:
        """JSON form (the title with its matched words marked as `snippet`)."""
        return {
            "trial_id": self.trial_id, "registry": self.registry, "version": self.version,
            "title": self.title, "status": self.status, "phases": self.phases, "countries": self.countries,
            "dates": self.dates, "snippet": mark(self.title, self.highlights, "**", "**"),
            "highlights": [list(span) for span in self.highlights], "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class TrialGroup:
    """The hits of one trial, best first."""

    trial_id: str
    title: str
    status: str
    phases: str
    score: float
    hits: Tuple[CriterionHit, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"trial_id": self.trial_id, "title": self.title, "status": self.status,
                "phases": self.phases, "score": round(self.score, 4), "count": len(self.hits),
                "criteria": [hit.to_dict() for hit in self.hits]}


def run_search(index: SearchIndex, node: Node, *, limit: Optional[int] = 20, keep=None,
               trials: Optional[int] = None) -> List[CriterionHit]:
    """The best `limit` criterion hits of a compiled query (`None`: all).

    Args:
        keep: a test on a match's stored fields (e.g. its bound windows); None keeps all.
        trials: keep every hit of the best `trials` trials instead (for grouping by trial).

    Only the hits returned are highlighted (highlighting is most of the cost of many hits).
    """
    node = index.resolve(node)
    terms = query_terms(node)
    everything = keep is not None or trials is not None
    with engine_errors(index.path):
        if trials is not None and keep is None:
            hits = index.engine.best_trial_hits(node, trials)
        else:
            hits = index.engine.search(node, limit=None if everything else limit)
    ordered = sorted(hits, key=lambda h: (-round(h.score, 6), h.fields.get("doc_id", "")))
    if keep is not None:
        ordered = [hit for hit in ordered if keep(hit.fields)]
    if trials is not None:
        ordered = _best_trials(ordered, trials)
    elif limit is not None:
        ordered = ordered[:limit]
    return [_trial_hit(hit.fields, hit.score, terms) if hit.fields.get("kind") == "trial"
            or hit.fields.get("kind_raw") == "trial" else _criterion_hit(hit.fields, hit.score, terms)
            for hit in ordered]


def _best_trials(ordered: list, count: int) -> list:
    """The hits of the `count` trials with the best hits (ordered as `group_by_trial` orders groups)."""
    best: Dict[str, Tuple[float, str]] = {}
    for hit in ordered:
        key = hit.fields.get("trial_key", "")
        if key not in best:
            best[key] = (-round(hit.score, 6), hit.fields.get("trial_id", ""))
    kept = set(sorted(best, key=best.get)[:count])
    return [hit for hit in ordered if hit.fields.get("trial_key", "") in kept]


def _trial_hit(fields, score: float, terms: QueryTerms) -> TrialHit:
    title = fields.get("title_raw", "")
    return TrialHit(
        trial_id=fields.get("trial_id", ""), registry=_registry(fields), version=fields.get("version", ""),
        title=title, status=fields.get("status_raw", ""), phases=fields.get("phases_raw", ""),
        countries=fields.get("countries_raw", ""), dates=fields.get("dates_raw", ""), score=float(score),
        highlights=highlight(title, terms),
    )


def _criterion_hit(fields, score: float, terms: QueryTerms) -> CriterionHit:
    text = fields.get("text_raw", "")
    return CriterionHit(
        trial_id=fields.get("trial_id", ""), registry=_registry(fields),
        version=fields.get("version", ""), title=fields.get("title_raw", ""),
        status=fields.get("status_raw", ""), phases=fields.get("phases_raw", ""),
        criterion_id=fields.get("criterion_id", ""), polarity=fields.get("polarity_raw", ""),
        category=fields.get("category_raw", ""), text=text, score=float(score),
        highlights=highlight(text, terms), windows=fields.get("windows_raw", ""),
    )


def _registry(fields) -> str:
    return fields.get("trial_key", ":").split(":", 1)[0]


def count_hits(index: SearchIndex, node: Node) -> int:
    """How many criteria match."""
    with engine_errors(index.path):
        return index.engine.count(index.resolve(node))


def facet_counts(index: SearchIndex, node: Node, facets: Sequence[str] = FACETS) -> Dict[str, Dict[str, int]]:
    """{facet: {value: number of matching criteria}} for status, phase, polarity, country."""
    return count_and_facets(index, node, facets)[1]


def count_and_facets(index: SearchIndex, node: Node, facets: Sequence[str] = FACETS, *,
                     extra: Sequence[str] = (), keep=None,
                     distinct: Optional[str] = None) -> Tuple[int, Dict[str, Dict[str, int]]]:
    """How many documents match, and their `facet_counts`, from one pass over the matches.

    Args:
        extra: more stored fields to read (for `keep` and `distinct`).
        keep: a test on each match's stored fields (None: keep all).
        distinct: count one match per value of this stored field (e.g. `trial_key`: trials; a trial
            then counts once under each value its matches have, as `Engine.tally` counts).
    """
    with engine_errors(index.path):
        resolved = index.resolve(node)
        tallied = index.engine.tally(resolved, by_trial=distinct == "trial_key") if keep is None and distinct in (
            None, "trial_key") else None
        if tallied is not None:
            total, counts = tallied
            return total, {facet: _ordered(counts.get(facet, {})) for facet in facets}
        rows = index.engine.stored_values(resolved, [FACET_SOURCE[f] for f in facets] + list(extra))
    if keep is not None:
        rows = [row for row in rows if keep(row)]
    return len({row[distinct] for row in rows} if distinct else rows), _tally_facets(rows, facets, distinct)


def _tally_facets(rows: List[Dict[str, str]], facets: Sequence[str],
                  distinct: Optional[str]) -> Dict[str, Dict[str, int]]:
    """Matches per facet value (each value once per row, or once per value of `distinct`)."""
    out = {}
    for facet in facets:
        seen = set()
        for row in rows:
            owner = row[distinct] if distinct else id(row)
            seen.update((owner, value) for value in facet_values(facet, row.get(FACET_SOURCE[facet]) or ""))
        out[facet] = _ordered(Counter(value for _, value in seen))
    return out


def _ordered(counts: Dict[str, int]) -> Dict[str, int]:
    """Facet values by count, most first, then by value."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def group_by_trial(hits: Sequence[CriterionHit]) -> List[TrialGroup]:
    """Hits grouped by trial; groups ordered by their best score."""
    groups: "OrderedDict[Tuple[str, str], List[CriterionHit]]" = OrderedDict()
    for hit in hits:
        groups.setdefault((hit.registry, hit.trial_id), []).append(hit)
    out = [TrialGroup(trial_id=h[0].trial_id, title=h[0].title, status=h[0].status, phases=h[0].phases,
                      score=max(x.score for x in h), hits=tuple(h)) for h in groups.values()]
    return sorted(out, key=lambda g: (-g.score, g.trial_id))


def highlight(text: str, terms: QueryTerms) -> Tuple[Tuple[int, int], ...]:
    """Spans of the words and phrases of `text` the query asks for, neighbours merged."""
    tokens = list(tokens_with_offsets(text))
    stems = [stem(word) for word, _, _ in tokens]
    wanted = _wanted_flags(stems, [word for word, _, _ in tokens], terms)
    for phrase in terms.phrases:
        n, first = len(phrase), phrase[0]
        for i in range(len(stems) - n + 1):
            if stems[i] == first and tuple(stems[i:i + n]) == phrase:
                wanted[i:i + n] = [True] * n
    spans: List[Tuple[int, int]] = []
    for (_, start, end), keep in zip(tokens, wanted):
        if not keep:
            continue
        if spans and not text[spans[-1][1]:start].strip(" -/"):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return tuple(spans)


def _wanted_flags(stems: List[str], words: List[str], terms: QueryTerms) -> List[bool]:
    """Per token: is it one of the query's stems, or does it start with one of its prefixes?"""
    if not terms.prefixes:  # the common case: a set lookup per token
        return [stemmed in terms.stems for stemmed in stems]
    return [_wanted(stemmed, word, terms) for stemmed, word in zip(stems, words)]


def _wanted(stemmed: str, word: str, terms: QueryTerms) -> bool:
    return stemmed in terms.stems or any(stemmed.startswith(p) or word.startswith(p) for p in terms.prefixes)


def mark(text: str, spans, before: str, after: str) -> str:
    """Wrap each span of a text in `before`/`after`."""
    out, at = [], 0
    for start, end in spans:
        out.append(text[at:start] + before + text[start:end] + after)
        at = end
    out.append(text[at:])
    return "".join(out)


def suggest_terms(index: SearchIndex, words: Sequence[str], *, limit: int = 5, cutoff: float = 75.0) -> List[str]:
    """Close words from the index vocabulary for the query words that found nothing.

    Each suggestion is checked to match at least one criterion.
    """
    from rapidfuzz import fuzz, process, utils  # only when nothing matched: kept off the search path

    vocabulary = index.vocabulary()
    suggestions: List[str] = []
    for word in words:
        matches = process.extract(word, vocabulary, scorer=fuzz.ratio, processor=utils.default_process,
                                  score_cutoff=cutoff, limit=limit * 2)
        for candidate, _, _ in matches:
            if candidate == word.lower() or candidate in suggestions:
                continue
            if index.engine.count(And((Word("kind", "criterion"), Word("text", stem(candidate))))):
                suggestions.append(candidate)
    return suggestions[:limit]
