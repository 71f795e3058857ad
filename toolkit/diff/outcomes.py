"""Outcome measures aligned between versions.

Outcomes pair up like criteria: identical normalised measures first, then
the rest by rapidfuzz score >= `MATCH_THRESHOLD` (mean of `fuzz.ratio` and
`fuzz.token_set_ratio`, as for criteria, so a measure that grew a sentence is
still the same outcome). Both passes run first within a kind (primary with
primary), then across kinds, so a measure that moved kind is still one
outcome but a reworded primary is not taken for a secondary that happens to
match the new wording. Last, when one primary outcome is left on each side,
the two are one outcome renamed ("Percentage who demonstrate a response at
Week 20 ..." -> "Responder"); its significance says whether it still measures
the same thing.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from toolkit.diff.model import OutcomeChange
from toolkit.diff.significance import (
    COSMETIC, SUBSTANTIVE, description_significance, measure_significance, time_frame_significance,
)
from toolkit.diff.text import best_pairs, comparison_key, exact_pairs, normalize, word_ops
from toolkit.records import Outcome

__all__ = ["MATCH_THRESHOLD", "diff_outcomes", "aspect_significance"]

MATCH_THRESHOLD = 60.0


def diff_outcomes(old: Sequence[Outcome], new: Sequence[Outcome], *,
                  threshold: float = MATCH_THRESHOLD) -> Tuple[OutcomeChange, ...]:
    """Describe every outcome of both versions.

    Args:
        old: outcomes of the old version.
        new: outcomes of the new version.
        threshold: lowest fuzzy score (0-100) for a reworded pair.

    Returns:
        Unchanged, modified (with `changes`: measure, time_frame,
        description, kind), added and removed outcomes, in new order.
    """
    pairs = _exact(old, new, same_kind=True)
    pairs.update(_fuzzy(old, new, pairs, threshold, same_kind=True))
    pairs.update(_exact(old, new, pairs))
    pairs.update(_fuzzy(old, new, pairs, threshold))
    pairs.update(_lone(old, new, pairs))
    out: List[Tuple[int, int, OutcomeChange]] = []
    shared = tuple(o.measure for o in old if o.kind == "primary")
    for i, (j, score) in pairs.items():
        out.append((j, i, _pair(old[i], new[j], score, shared)))
    taken = {j for j, _ in pairs.values()}
    out += [(j, -1, _one("added", new[j], new=True, restates=_restates(new[j], old, pairs)))
            for j in range(len(new)) if j not in taken]
    out += [(len(new) + i, i, _one("removed", old[i], new=False)) for i in range(len(old)) if i not in pairs]
    out.sort(key=lambda x: (x[0], x[1]))
    return tuple(x[2] for x in out)


def _rest(old, new, pairs) -> tuple:
    pairs = pairs or {}
    taken = {j for j, _ in pairs.values()}
    return [i for i in range(len(old)) if i not in pairs], [j for j in range(len(new)) if j not in taken]


def _exact(old, new, pairs=None, *, same_kind: bool = False) -> dict:
    """Equal measures paired in order; with `same_kind`, only within primary or secondary."""
    rest_old, rest_new = _rest(old, new, pairs)
    def key(o):
        return (o.kind if same_kind else "", comparison_key(o.measure))
    found = exact_pairs([key(old[i]) for i in rest_old], [key(new[j]) for j in rest_new])
    return {rest_old[x]: (rest_new[y], 100.0) for x, y in found.items()}


def _fuzzy(old, new, pairs, threshold, *, same_kind: bool = False) -> dict:
    """Reworded measures paired best first; with `same_kind`, kind by kind."""
    rest_old, rest_new = _rest(old, new, pairs)
    groups = {o.kind for o in old} if same_kind else {None}
    out = {}
    for kind in groups:
        xs = [i for i in rest_old if kind is None or old[i].kind == kind]
        ys = [j for j in rest_new if kind is None or new[j].kind == kind]
        found = best_pairs([normalize(old[i].measure) for i in xs], [normalize(new[j].measure) for j in ys],
                           threshold=threshold, rank=lambda score, x, y: (-score, -x, -y))
        out.update({xs[x]: (ys[y], score) for x, (y, score) in found.items()})
    return out


def _lone(old, new, pairs) -> dict:
    """The one primary outcome left on each side: the same outcome renamed."""
    rest_old, rest_new = _rest(old, new, pairs)
    xs = [i for i in rest_old if old[i].kind == "primary"]
    ys = [j for j in rest_new if new[j].kind == "primary"]
    return {xs[0]: (ys[0], 0.0)} if len(xs) == len(ys) == 1 else {}


def _pair(a: Outcome, b: Outcome, score: float, shared: Tuple[str, ...] = ()) -> OutcomeChange:
    changes = []
    if comparison_key(a.measure) != comparison_key(b.measure):
        changes.append("measure")
    if comparison_key(a.time_frame) != comparison_key(b.time_frame):
        changes.append("time_frame")
    if comparison_key(a.description) != comparison_key(b.description):
        changes.append("description")
    if a.kind != b.kind:
        changes.append("kind")
    substantive = tuple(c for c in changes if aspect_significance(c, a, b, shared) == SUBSTANTIVE)
    return OutcomeChange(
        significance=(SUBSTANTIVE if substantive else COSMETIC) if changes else None, substantive=substantive,
        status="modified" if changes else "unchanged", old_kind=a.kind, new_kind=b.kind,
        old_measure=a.measure, new_measure=b.measure,
        old_time_frame=a.time_frame, new_time_frame=b.time_frame,
        changes=tuple(changes), similarity=score,
        words=word_ops(a.measure, b.measure) if "measure" in changes else (),
    )


def aspect_significance(aspect: str, a: Outcome, b: Outcome, shared: Tuple[str, ...] = ()) -> str:
    """Significance of one changed aspect (measure, time_frame, description, kind) of a pair.

    A new or reworded description is substantive only when it sets a new
    threshold (see `description_significance`). Moving between primary and
    secondary is always substantive.
    """
    if aspect == "measure":
        return measure_significance(a.measure, b.measure, old_context=(a.time_frame, a.description, *shared),
                                    new_context=(b.time_frame, b.description))
    if aspect == "time_frame":
        return time_frame_significance(a.time_frame, b.time_frame, old_context=(a.measure, a.description),
                                       new_context=(b.measure, b.description))
    if aspect == "description":
        return description_significance(a.description, b.description, old_context=(a.measure, a.time_frame))
    return SUBSTANTIVE


def _restates(outcome: Outcome, old: Sequence[Outcome], pairs: dict) -> bool:
    """An added outcome that says what an old outcome, still carried on, said, no
    more and no less: the old one restated twice ("Interim Analysis: X", "Primary Analysis: X")."""
    return any(i in pairs and o.kind == outcome.kind and _same(o, outcome) and _same(outcome, o)
               for i, o in enumerate(old))


def _same(a: Outcome, b: Outcome) -> bool:
    """`b` says nothing `a` did not: its measure and time frame are cosmetic changes of `a`'s."""
    return all(aspect_significance(aspect, a, b) == COSMETIC for aspect in ("measure", "time_frame"))


def _one(status: str, outcome: Outcome, *, new: bool, restates: bool = False) -> OutcomeChange:
    if new:
        return OutcomeChange(status=status, significance=COSMETIC if restates else SUBSTANTIVE, new_kind=outcome.kind,
                             new_measure=outcome.measure, new_time_frame=outcome.time_frame)
    return OutcomeChange(status=status, significance=SUBSTANTIVE, old_kind=outcome.kind, old_measure=outcome.measure,
                         old_time_frame=outcome.time_frame)
