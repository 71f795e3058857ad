"""Criteria aligned between two versions of a record.

Alignment runs in two passes:
1. exact: criteria whose normalised text (see `toolkit.diff.text.normalize`)
   is identical pair up in source order; renumbering, re-bulleting,
   re-wrapping and whitespace changes therefore leave a criterion unchanged;
2. fuzzy: the rest are scored with `rapidfuzz.process.cdist`, score = mean of
   `fuzz.ratio` and `fuzz.token_set_ratio` on `utils.default_process`ed text,
   and paired greedily best-first when the score is at least
   `MATCH_THRESHOLD` (60): those are "modified"; what is left is added or removed.

Between the two passes, a criterion split into consecutive bullets (or
bullets merged into one) with no letter or digit changed pairs with each of
its pieces as "unchanged": re-bulleting alone is no change.

A pair whose polarity or category changed, or that left the longest common
order of pairs, is "moved" (a modified criterion can be moved too).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from rapidfuzz import fuzz

from toolkit.diff.model import CriterionChange
from toolkit.diff.significance import COSMETIC, SUBSTANTIVE, text_significance
from toolkit.diff.tags import prime_tags, tag_changes
from toolkit.diff.text import _MARKER, best_pairs, comparison_key, exact_pairs, word_ops
from toolkit.records import Criterion, TrialRecord

__all__ = ["MATCH_THRESHOLD", "Item", "criteria_items", "diff_criteria"]

MATCH_THRESHOLD = 60.0
REPEAT_RUN = 3
SPLIT_THRESHOLD = 90.0
_INLINE_NUMBER = re.compile(r"(?:(?<=\s)|^)\(?\d{1,2}[.)](?=\s|[^\W\d_]|$)")
_HEADING_ONLY = re.compile(r"^[\W_]*(?:key\s+)?(?:inclusion|exclusion)(?:\s+criteri[ao]n?)?[\W_]*$", re.I)
_NOT_ALNUM = re.compile(r"[\W_]+")  # what `str.isalnum` rejects


@dataclass(frozen=True)
class Item:
    """A criterion prepared for alignment, with its comparison text."""

    criterion: Criterion
    norm: str

    @property
    def category_key(self) -> str:
        return comparison_key(self.criterion.category)


_RECENT: List[tuple] = []  # (record, items) of the last records seen: a history diffs each version twice


def criteria_items(record: TrialRecord) -> List[Item]:
    """The criteria of a record in source order, ready to align.

    A record whose eligibility text was never split into criteria (no
    parser output) is split here by lines, so its text is still compared.
    The items of the last few records are kept: diffing a history, each
    version is the new side of one pair and the old side of the next.
    """
    for seen, items in _RECENT:
        if seen is record:
            return items
    items = _items_of(record)
    _RECENT.insert(0, (record, items))
    del _RECENT[4:]
    return items


def _items_of(record: TrialRecord) -> List[Item]:
    """`criteria_items` without the cache."""
    criteria = list(record.all_criteria())
    if not criteria and record.eligibility is not None:
        criteria = _line_criteria(record.eligibility.text)
    items = []
    for criterion in criteria:
        norm = comparison_key(criterion.text)
        if norm and not _HEADING_ONLY.match(criterion.text or ""):
            items.append(Item(criterion, norm))
    return _without_repeats(items)


def _without_repeats(items: List[Item]) -> List[Item]:
    """Drop runs of `REPEAT_RUN` or more consecutive criteria that repeat
    earlier ones word for word: a registry export that doubled the text
    (ICTRP weekly records), not new criteria."""
    seen, repeat = set(), []
    for item in items:
        repeat.append(item.norm in seen)
        seen.add(item.norm)
    out, i = [], 0
    while i < len(items):
        j = i
        while j < len(items) and repeat[j]:
            j += 1
        if j - i >= REPEAT_RUN:
            i = j
            continue
        out.extend(items[i:max(j, i + 1)])
        i = max(j, i + 1)
    return out


def _line_criteria(text: str) -> List[Criterion]:
    """Fallback: criteria from lines; polarity from headings.

    When some lines carry list markers, a criterion runs from one marker
    (or blank line) to the next, so hard-wrapped lines stay one criterion;
    otherwise every line is one.
    """
    lines = _lines(text)
    bulleted = any(_MARKER.match(line) for _, line in lines)
    polarity, out, current = "unknown", [], None
    for offset, line in lines:
        stripped = line.strip()
        if _is_heading(stripped):
            polarity, current = ("exclusion" if "exclusion" in stripped.lower() else "inclusion"), None
            continue
        if not stripped:
            current = None
            continue
        if current is not None and bulleted and not _MARKER.match(line):
            out[-1] = dataclasses.replace(out[-1], text=out[-1].text + " " + stripped, end=offset + len(line))
            continue
        prefix = polarity[0].upper() if polarity != "unknown" else "C"
        out.append(Criterion(f"{prefix}{len(out) + 1}", polarity, _MARKER.sub("", stripped), offset,
                             offset + len(line)))
        current = out[-1]
    return out


def _lines(text: str) -> List[Tuple[int, str]]:
    out, offset = [], 0
    for line in text.splitlines(keepends=True):
        out.append((offset, line.rstrip("\r\n")))
        offset += len(line)
    return out


def _is_heading(line: str) -> bool:
    lowered = line.lower().rstrip(":").strip()
    return bool(lowered) and len(lowered) < 60 and ("inclusion" in lowered or "exclusion" in lowered) and (
        "criteri" in lowered or lowered in ("inclusion", "exclusion") or line.endswith(":"))


def diff_criteria(old: Sequence[Item], new: Sequence[Item], *,
                  threshold: float = MATCH_THRESHOLD) -> Tuple[CriterionChange, ...]:
    """Align two criteria lists and describe every criterion of both.

    Args:
        old: items of the old version (`criteria_items`).
        new: items of the new version.
        threshold: lowest fuzzy score (0-100) for a modified pair.

    Returns:
        One change per aligned pair, added or removed criterion, in the
        order of the new version (removed ones after their old neighbours).
    """
    exact = exact_pairs([item.norm for item in old], [item.norm for item in new])
    rest_old, rest_new = _rest(old, new, exact, set(exact.values()))
    # renumbered inline ("5. ... 6. ..." -> "4. ... 5. ..."): the same words
    exact.update(_pairs_by(lambda item: _unnumbered(item.norm), old, new, rest_old, rest_new))
    rest_old, rest_new = _rest(old, new, exact, set(exact.values()))
    regrouped = _regrouped(old, new, rest_old, rest_new)
    regrouped_old, regrouped_new = {i for i, _ in regrouped}, {j for _, j in regrouped}
    rest_old = [i for i in rest_old if i not in regrouped_old]
    rest_new = [j for j in rest_new if j not in regrouped_new]
    split = _near_splits(old, new, rest_old, rest_new)
    rest_old = [i for i in rest_old if i not in {c[1] for c in split}]
    rest_new = [j for j in rest_new if j not in {c[0] for c in split}]
    fuzzy = _fuzzy_pairs(old, new, rest_old, rest_new, threshold)
    pairs = {**exact, **{i: j for i, (j, _) in fuzzy.items()}}
    in_order = _in_order(pairs)
    changes = list(split)
    prime_tags(item.criterion.text for i, (j, _) in fuzzy.items() for item in (old[i], new[j])
               if not item.criterion.tags)
    for i, j in pairs.items():
        score = fuzzy[i][1] if i in fuzzy else 100.0
        changes.append((j, i, _pair_change(old[i], new[j], score, i in fuzzy, i in in_order)))
    changes += [(j, i, _pair_change(old[i], new[j], 100.0, False, True)) for i, j in regrouped]
    paired_new = set(pairs.values()) | regrouped_new | {c[0] for c in split}
    paired_old = set(pairs) | regrouped_old | {c[1] for c in split}
    changes += [(j, -1, _added(new[j])) for j in range(len(new)) if j not in paired_new]
    changes += [(_anchor(i, pairs), i, _removed(old[i])) for i in range(len(old)) if i not in paired_old]
    changes.sort(key=lambda c: (c[0], c[1]))
    return tuple(c[2] for c in changes)


def _rest(old, new, paired_old, paired_new) -> Tuple[List[int], List[int]]:
    return ([i for i in range(len(old)) if i not in paired_old],
            [j for j in range(len(new)) if j not in paired_new])


def _pairs_by(key, old, new, rest_old, rest_new) -> Dict[int, int]:
    """Exact pairs of the unpaired criteria under another comparison key."""
    found = exact_pairs([key(old[i]) for i in rest_old], [key(new[j]) for j in rest_new])
    return {rest_old[x]: rest_new[y] for x, y in found.items()}


def _near_splits(old, new, rest_old, rest_new) -> List[tuple]:
    """A criterion split into 2-4 consecutive ones (or merged from them) with
    a few words changed on the way: (new index, old index, change) per piece.

    The pieces are compared with the whole joined together, so a window
    that was in the whole and is now in one piece is no window changed.
    """
    out = [(j, i, _piece(old[i], new[j], run, new, first, score, split=True))
           for i, run, score in _near_runs(old, new, rest_old, rest_new)
           for first, j in zip((True,) + (False,) * len(run), run)]
    taken_old = {c[1] for c in out}
    taken_new = {c[0] for c in out}
    merges = _near_runs(new, old, [j for j in rest_new if j not in taken_new],
                        [i for i in rest_old if i not in taken_old])
    out += [(j, i, _piece(old[i], new[j], run, old, first, score, split=False))
            for j, run, score in merges for first, i in zip((True,) + (False,) * len(run), run)]
    return out


def _near_runs(whole, parts, rest_whole, rest_parts) -> List[Tuple[int, List[int], float]]:
    free = set(rest_parts)
    found = []
    for i in rest_whole:
        target = whole[i].norm
        for start in rest_parts:
            run = _near_run(target, start, parts, free)
            if run:
                found.append((i, run[0], run[1]))
                free -= set(run[0])
                break
    return found


def _near_run(target: str, start: int, parts, free: set) -> Optional[Tuple[List[int], float]]:
    run: List[int] = []
    j = start
    while j in free and len(run) < 4 and len(parts[j].norm) < len(target):
        run.append(j)
        if len(run) > 1:
            score = fuzz.ratio(target, " ".join(parts[k].norm for k in run), score_cutoff=SPLIT_THRESHOLD)
            if score:
                return run, round(score, 1)
        j += 1
    return None


def _piece(a: Item, b: Item, run: List[int], items, first: bool, score: float, *, split: bool) -> CriterionChange:
    """One piece of a split (or merge): the words diff of the whole against the joined pieces, on the first."""
    joined = " ".join(items[k].criterion.text for k in run)
    old_text, new_text = (a.criterion.text, joined) if split else (joined, b.criterion.text)
    return CriterionChange(
        status="modified", old_id=a.criterion.id, new_id=b.criterion.id,
        old_text=a.criterion.text, new_text=b.criterion.text,
        old_polarity=a.criterion.polarity, new_polarity=b.criterion.polarity,
        old_category=a.criterion.category, new_category=b.criterion.category,
        similarity=score, moved=("split",) if split else ("merged",),
        words=word_ops(old_text, new_text) if first else (),
        significance=criterion_significance(old_text, new_text),
    )


def _regrouped(old, new, rest_old, rest_new) -> List[Tuple[int, int]]:
    """Criteria split into consecutive bullets, or bullets merged into one,
    with no word changed: (old, new) pairs, one side repeated."""
    pairs = _splits(old, new, rest_old, rest_new)
    taken_old, taken_new = {i for i, _ in pairs}, {j for _, j in pairs}
    merges = _splits(new, old, [j for j in rest_new if j not in taken_new],
                     [i for i in rest_old if i not in taken_old])
    return pairs + [(i, j) for j, i in merges]


def _splits(whole, parts, rest_whole, rest_parts) -> List[Tuple[int, int]]:
    """(whole index, part index) for each item of `whole` whose letters and
    digits equal those of a run of two or more consecutive `parts`."""
    squashed = {j: _squash(parts[j].norm) for j in rest_parts}
    free = set(rest_parts)
    found = []
    for i in rest_whole:
        target = _squash(whole[i].norm)
        for start in rest_parts:
            run = _run(target, start, squashed, free)
            if run:
                found += [(i, j) for j in run]
                free -= set(run)
                break
    return found


def _run(target: str, start: int, squashed: dict, free: set) -> List[int]:
    run, text, j = [], "", start
    while j in free and target.startswith(text + squashed[j]):
        text += squashed[j]
        run.append(j)
        if text == target:
            return run if len(run) > 1 else []
        j += 1
    return []


@functools.lru_cache(maxsize=65536)
def _unnumbered(text: str) -> str:
    """The words of a text without inline list numbers, one space apart."""
    return " ".join(_NOT_ALNUM.sub(" ", _INLINE_NUMBER.sub(" ", text)).split())


@functools.lru_cache(maxsize=65536)
def _squash(text: str) -> str:
    """The letters and digits of a text without inline list numbers ("5. ... 6. ...")
    (cached: `_regrouped` squashes each text both ways)."""
    return _NOT_ALNUM.sub("", _INLINE_NUMBER.sub(" ", text))


def _fuzzy_pairs(old, new, rest_old, rest_new, threshold) -> Dict[int, Tuple[int, float]]:
    found = best_pairs([old[i].norm for i in rest_old], [new[j].norm for j in rest_new], threshold=threshold,
                       rank=lambda score, x, y: (-score, abs(rest_old[x] - rest_new[y])))
    return {rest_old[x]: (rest_new[y], score) for x, (y, score) in found.items()}


def _in_order(pairs: Dict[int, int]) -> set:
    """Old indices of the pairs on a longest increasing run of new positions."""
    ordered = sorted(pairs.items())
    tails: List[int] = []
    tail_index: List[int] = []
    parent: List[Optional[int]] = [None] * len(ordered)
    for k, (_, j) in enumerate(ordered):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[pos] = j
            tail_index[pos] = k
        parent[k] = tail_index[pos - 1] if pos else None
    keep, k = set(), tail_index[-1] if tail_index else None
    while k is not None:
        keep.add(ordered[k][0])
        k = parent[k]
    return keep


def _pair_change(a: Item, b: Item, score: float, fuzzy: bool, in_order: bool) -> CriterionChange:
    moved = []
    if not in_order:
        moved.append("position")
    polarities = {a.criterion.polarity, b.criterion.polarity}
    if len(polarities) == 2 and "unknown" not in polarities:
        moved.append("polarity")
    if a.category_key != b.category_key:
        moved.append("category")
    status = "modified" if fuzzy else ("moved" if moved else "unchanged")
    return CriterionChange(
        significance=_pair_significance(a, b, status, moved),
        status=status, old_id=a.criterion.id, new_id=b.criterion.id,
        old_text=a.criterion.text, new_text=b.criterion.text,
        old_polarity=a.criterion.polarity, new_polarity=b.criterion.polarity,
        old_category=a.criterion.category, new_category=b.criterion.category,
        similarity=score, moved=tuple(moved),
        words=word_ops(a.criterion.text, b.criterion.text) if fuzzy else (),
        tags=tag_changes(a.criterion, b.criterion) if fuzzy else (),
    )


def _pair_significance(a: Item, b: Item, status: str, moved: List[str]) -> Optional[str]:
    """Cosmetic: reordered, re-headed or reworded with the same words; a polarity flip is not."""
    if status == "unchanged":
        return None
    if "polarity" in moved:
        return SUBSTANTIVE
    if status == "moved":
        return COSMETIC
    return criterion_significance(a.criterion.text, b.criterion.text)


def criterion_significance(old: Optional[str], new: Optional[str]) -> str:
    """`text_significance`, with inline list numbers ("... 5. ... 6. ...") not counted."""
    if _unnumbered(comparison_key(old)) == _unnumbered(comparison_key(new)):
        return COSMETIC
    return text_significance(old, new)


def _added(item: Item) -> CriterionChange:
    c = item.criterion
    return CriterionChange(status="added", significance=SUBSTANTIVE, new_id=c.id, new_text=c.text,
                           new_polarity=c.polarity, new_category=c.category)


def _removed(item: Item) -> CriterionChange:
    c = item.criterion
    return CriterionChange(status="removed", significance=SUBSTANTIVE, old_id=c.id, old_text=c.text,
                           old_polarity=c.polarity, old_category=c.category)


def _anchor(i: int, pairs: Dict[int, int]) -> int:
    """New position a removed criterion is shown at: after its old predecessor's partner."""
    before = [pairs[k] for k in pairs if k < i]
    return max(before) if before else -1
