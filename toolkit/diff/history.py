"""A trial's history and whole-dump comparisons, built on `diff_records`.

`history_rows` lists every version with what changed since the one
before; `pick_version` resolves `--from`/`--to` in a list of versions;
`summarize_dumps` compares two snapshots trial by trial, streaming the new
one (the old one waits on disk, `snapshot.SpilledSnapshot`).
"""

from __future__ import annotations

from typing import Iterable, Iterator, List, Optional, Sequence

from toolkit.diff import diff_records
from toolkit.records import TrialRecord

__all__ = ["history_rows", "pick_version", "summarize_dumps"]


def history_rows(versions: Sequence[TrialRecord]) -> List[dict]:
    """One row per version, oldest first: version, date, status, enrollment, changed parts.

    Args:
        versions: the versions of one trial, oldest first.
    """
    rows, previous = [], None
    for seq, record in enumerate(versions, start=1):
        diff = diff_records(previous, record) if previous is not None else None
        enrollment = record.enrollment
        rows.append({
            "seq": seq, "version": record.version, "date": record.last_updated,
            "status": record.status,
            "enrollment": enrollment.count if enrollment else None,
            "enrollment_type": enrollment.type if enrollment else None,
            "changed": _changed(diff),
            "events": [e.kind for e in diff.events] if diff is not None else [],
            "significance": diff.significance if diff is not None else None,
        })
        previous = record
    return rows


def _changed(diff) -> str:
    """The parts that changed in substance; cosmetic-only parts in brackets after them."""
    if diff is None:
        return "(first version)"
    if not diff.parts:
        return "(no change)"
    substantive = diff.only("substantive").parts
    cosmetic = [p for p in diff.parts if p not in substantive]
    text = ", ".join(substantive)
    if cosmetic:
        text += (" " if text else "") + f"(cosmetic: {', '.join(cosmetic)})"
    return text


def pick_version(versions: Sequence[TrialRecord], wanted: Optional[str], *, default: int) -> TrialRecord:
    """One version by `vN`, label, date or hash prefix: see `toolkit.diff.versions.resolve`.

    Raises:
        DiffError: no version matches, too few versions, or an ambiguous value.
    """
    from toolkit.diff.versions import resolve

    return resolve(versions, wanted, default=default)


def summarize_dumps(old: Iterable[TrialRecord], new: Iterable[TrialRecord]) -> Iterator[dict]:
    """Compare two snapshots trial by trial, in memory that does not grow with them.

    The old snapshot is spilled to a temporary file (`SpilledSnapshot`: last
    record per trial wins); the new one is streamed, and each of its trials
    is reported as it is read (the last of consecutive versions of one trial,
    for history files). A trial whose content hash is unchanged is reported
    unchanged without a diff. Trials only in the old snapshot come last, as
    removed.

    Yields:
        {registry, trial_id, change: added|removed|changed|unchanged, parts, events}
    """
    from toolkit.diff.snapshot import SpilledSnapshot

    with SpilledSnapshot(old) as before:
        for record in _last_of_runs(new):
            previous = before.take(record.key)
            if previous is None:  # met before in this dump
                continue
            if previous.hash is None:
                yield _row(record, "added")
            elif previous.hash == record.content_hash:
                yield _row(record, "unchanged")
            else:
                diff = diff_records(previous.load(), record)
                change = "changed" if diff.changed else "unchanged"
                yield _row(record, change, diff.parts, [e.kind for e in diff.events], diff.significance)
        for record in before.unseen():
            yield _row(record, "removed")


def _last_of_runs(records: Iterable[TrialRecord]) -> Iterator[TrialRecord]:
    """The last record of each run of one trial (a history file lists a trial's versions together)."""
    previous = None
    for record in records:
        if previous is not None and record.key != previous.key:
            yield previous
        previous = record
    if previous is not None:
        yield previous


def _row(record: TrialRecord, change: str, parts=(), events=(), significance=None) -> dict:
    return {"registry": record.registry, "trial_id": record.trial_id, "change": change,
            "parts": list(parts), "events": list(events), "significance": significance}
