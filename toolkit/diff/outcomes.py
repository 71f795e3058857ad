"""Outcome measures aligned between versions.

Outcomes pair up like criteria: identical normalised measures first (in
order, across primary and secondary, so a measure that moved kind is still
one outcome), then the rest by rapidfuzz score >= `MATCH_THRESHOLD` (mean
of `fuzz.ratio` and `fuzz.token_set_ratio`, as for criteria, so a measure
that grew a sentence is still the same outcome).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from toolkit.diff.model import OutcomeChange
from toolkit.diff.text import best_pairs, comparison_key, exact_pairs, normalize, word_ops
from toolkit.records import Outcome

__all__ = ["MATCH_THRESHOLD", "diff_outcomes"]

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
    pairs = _exact(old, new)
    pairs.update(_fuzzy(old, new, pairs, threshold))
    out: List[Tuple[int, int, OutcomeChange]] = []
    for i, (j, score) in pairs.items():
        out.append((j, i, _pair(old[i], new[j], score)))
    taken = {j for j, _ in pairs.values()}
    out += [(j, -1, _one("added", new[j], new=True)) for j in range(len(new)) if j not in taken]
    out += [(len(new) + i, i, _one("removed", old[i], new=False)) for i in range(len(old)) if i not in pairs]
    out.sort(key=lambda x: (x[0], x[1]))
    return tuple(x[2] for x in out)


def _exact(old, new) -> dict:
    found = exact_pairs([comparison_key(a.measure) for a in old], [comparison_key(b.measure) for b in new])
    return {i: (j, 100.0) for i, j in found.items()}


def _fuzzy(old, new, pairs, threshold) -> dict:
    rest_old = [i for i in range(len(old)) if i not in pairs]
    taken = {j for j, _ in pairs.values()}
    rest_new = [j for j in range(len(new)) if j not in taken]
    found = best_pairs([normalize(old[i].measure) for i in rest_old], [normalize(new[j].measure) for j in rest_new],
                       threshold=threshold, rank=lambda score, x, y: (-score, -x, -y))
    return {rest_old[x]: (rest_new[y], score) for x, (y, score) in found.items()}


def _pair(a: Outcome, b: Outcome, score: float) -> OutcomeChange:
    changes = []
    if comparison_key(a.measure) != comparison_key(b.measure):
        changes.append("measure")
    if comparison_key(a.time_frame) != comparison_key(b.time_frame):
        changes.append("time_frame")
    if comparison_key(a.description) != comparison_key(b.description):
        changes.append("description")
    if a.kind != b.kind:
        changes.append("kind")
    return OutcomeChange(
        status="modified" if changes else "unchanged", old_kind=a.kind, new_kind=b.kind,
        old_measure=a.measure, new_measure=b.measure,
        old_time_frame=a.time_frame, new_time_frame=b.time_frame,
        changes=tuple(changes), similarity=score,
        words=word_ops(a.measure, b.measure) if "measure" in changes else (),
    )


def _one(status: str, outcome: Outcome, *, new: bool) -> OutcomeChange:
    if new:
        return OutcomeChange(status=status, new_kind=outcome.kind, new_measure=outcome.measure,
                             new_time_frame=outcome.time_frame)
    return OutcomeChange(status=status, old_kind=outcome.kind, old_measure=outcome.measure,
                         old_time_frame=outcome.time_frame)
