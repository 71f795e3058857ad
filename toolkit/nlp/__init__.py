"""Tag drugs, conditions, time windows, temporal cues and values in criteria.

`tag_text(text)` tags one text; `tag_record(record)` returns the record with
`tags` on every criterion, children included (offsets into `Criterion.text`).
Abbreviations defined anywhere in a record's criteria ("allogeneic
hematopoietic stem cell transplant (alloHSCT)") are expanded in all of them.
spaCy loads on first use, once per process.
"""

from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

from toolkit.records import Criterion, Tag, TrialRecord, replace_fields, walk_criteria

__all__ = [
    "tag_text", "tag_texts", "tag_text_groups", "tag_record", "tag_records", "get_nlp",
    "MAX_TAGGED_CRITERIA", "MAX_TAGGED_CHARS", "untagged_count",
]

_BATCH = 256
# Criteria tagged per record: about fourteen times the most a real record holds (145, a legacy
# XML study). Tagging costs time and memory per criterion, so one freak record of tens of
# thousands of criteria must not cost minutes and gigabytes; those beyond are stored untagged.
MAX_TAGGED_CRITERIA = 2000
# Longest criterion tagged, in characters: real criteria stay under 10,000 (the longest whole
# eligibility text of the legacy XML sample is 9,801); a longer one is stored untagged.
MAX_TAGGED_CHARS = 20000


def get_nlp():
    """The process-wide spaCy pipeline (built once)."""
    from toolkit.nlp.pipeline import get_nlp as _get_nlp

    return _get_nlp()


def tag_text(text: str) -> List[Tag]:
    """Tags of one text, sorted by start offset.

    Args:
        text: a criterion (or any short text); offsets count its characters.

    Returns:
        Tags (drug, condition, time_window, temporal, value, negation,
        exception, abbreviation).
    """
    return tag_texts([text])[0]


def tag_texts(texts: Sequence[str]) -> List[List[Tag]]:
    """Tags of many texts; abbreviations defined in one text expand in all.

    Args:
        texts: criterion texts (for example every criterion of one record).

    Returns:
        One sorted tag list per text.
    """
    nlp = get_nlp()
    return _group_tags(nlp, list(_pipe(nlp, texts)))


def tag_text_groups(groups: Sequence[Sequence[str]]) -> List[List[List[Tag]]]:
    """`tag_texts` of many groups (for example the criteria of many records), run as one batch.

    The entity model has a fixed cost per batch: one batch over many records
    is cheaper than one per record. Abbreviations expand within each group only.
    """
    nlp = get_nlp()
    docs = _pipe(nlp, (text for group in groups for text in group))
    # one group's docs at a time: memory holds a group, not the whole batch
    return [_group_tags(nlp, [next(docs) for _ in group]) for group in groups]


def _pipe(nlp, texts: Iterable[str]) -> Iterator:
    """The pipeline's docs of the texts, in order (each doc made knowing its text, see `lexicon.text_doc`)."""
    from toolkit.nlp.lexicon import text_doc

    return nlp.pipe((text_doc(nlp, text) for text in texts), batch_size=_BATCH)


def _group_tags(nlp, docs) -> List[List[Tag]]:
    """Tags of the docs of one group, with abbreviations defined in one expanded in all."""
    from toolkit.nlp import pipeline, terms

    own_tables = [terms.abbreviation_table(doc) for doc in docs]
    table: Dict[str, Tuple[str, ...]] = {}
    for own in own_tables:
        for short, long_form in own.items():
            table.setdefault(short, long_form)
    short_forms = terms.ShortForms(table)
    if short_forms.pattern is None:
        return [pipeline.doc_tags(doc) for doc in docs]
    lexicon = nlp.get_pipe("trial_terms").lexicon
    return [_with_record_abbreviations(doc, own, short_forms, lexicon) for doc, own in zip(docs, own_tables)]


def _with_record_abbreviations(doc, own_table, short_forms, lexicon) -> List[Tag]:
    """The doc's tags plus uses of short forms defined in the other texts of the batch."""
    from toolkit.nlp import cues, pipeline, terms

    own = frozenset(terms.short_form_variants(own_table))
    tags = [_expanded(tag, short_forms, lexicon) if tag.text not in own else tag for tag in pipeline.doc_tags(doc)]
    extra = short_forms.tags(doc, lexicon, terms.covered(tags, ("drug", "condition")), skip=own)
    if not extra:
        return tags
    found = [tag for tag in tags if tag.label in ("negation", "exception")]
    extra = cues.apply_cues(extra, found)
    return pipeline.sorted_tags(tags + extra)


def _expanded(tag: Tag, short_forms, lexicon) -> Tag:
    """A concept tag written as a short form the record defines, normalised like its long form."""
    from toolkit.nlp import terms

    long_tokens = short_forms.forms.get(tag.text)
    if long_tokens is None or tag.label not in ("drug", "condition", "measurement", "procedure"):
        return tag
    if tag.attrs.get("expansion"):
        return tag
    entry = terms.long_form_entry(long_tokens, lexicon)
    long_form = " ".join(long_tokens)
    norm, code = (entry.norm, entry.code) if entry is not None else (long_form, None)
    return replace_fields(tag, norm=norm, code=code, attrs={**tag.attrs, "expansion": long_form})


def tag_record(record: TrialRecord) -> TrialRecord:
    """The record with tags on every criterion (children included).

    Existing tags are replaced, so tagging twice gives the same record.
    Records without eligibility criteria are returned unchanged.
    """
    return tag_records([record])[0]


def tag_records(records: Sequence[TrialRecord]) -> List[TrialRecord]:
    """`tag_record` of many records, their criteria tagged as one batch (cheaper than record by record).

    A record's criteria past the first `MAX_TAGGED_CRITERIA` are left untagged
    (`untagged_count` says how many, for the caller to report).
    """
    todo = [r for r in records if r.eligibility is not None and r.eligibility.criteria]
    groups = [_taggable(r) for r in todo]
    tagged = tag_text_groups([[c.text for c in criteria] for criteria in groups])
    done = {id(r): _with_tags(r, criteria, tag_lists) for r, criteria, tag_lists in zip(todo, groups, tagged)}
    return [done.get(id(r), r) for r in records]


def _taggable(record: TrialRecord) -> List[Criterion]:
    """The criteria of a record the tagger takes: the first `MAX_TAGGED_CRITERIA`, none over `MAX_TAGGED_CHARS`."""
    return [c for i, c in enumerate(walk_criteria(record.eligibility.criteria)) if _takes(i, c)]


def untagged_count(record: TrialRecord) -> int:
    """How many criteria of `record` tagging leaves untagged (past the two limits above)."""
    if record.eligibility is None:
        return 0
    return sum(1 for i, c in enumerate(walk_criteria(record.eligibility.criteria)) if not _takes(i, c))


def _takes(position: int, criterion: Criterion) -> bool:
    """Whether the tagger takes the criterion at `position` (depth first) of its record."""
    return position < MAX_TAGGED_CRITERIA and len(criterion.text) <= MAX_TAGGED_CHARS


def _with_tags(record: TrialRecord, criteria: list, tag_lists: list) -> TrialRecord:
    by_id = {id(c): tuple(tags) for c, tags in zip(criteria, tag_lists)}
    tree = tuple(_retag(criterion, by_id) for criterion in record.eligibility.criteria)
    eligibility = replace_fields(record.eligibility, criteria=tree)
    return replace_fields(record, eligibility=eligibility)


def _retag(criterion: Criterion, by_id: dict) -> Criterion:
    children = tuple(_retag(child, by_id) for child in criterion.children)
    return replace_fields(criterion, tags=by_id.get(id(criterion), ()), children=children)
