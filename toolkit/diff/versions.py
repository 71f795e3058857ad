"""A trial's versions: de-duplicated by canonical content, and chosen by name.

Two exports of one history (different exporters, different snapshots) give
the same version twice with different bookkeeping columns; `dedupe` keeps
one version per canonical content (`canonical_key`: the record without its
source and derived criteria tree, and bookkeeping `extra` keys).

`resolve` turns what a user typed for `--from`/`--to` into one version:

- `vN`: the N-th version (1 = oldest), and nothing else;
- a version label as the registry gives it;
- a date (`2015`, `2015-01`, `2015-01-30`; years 1900-2100): the version in force that day;
- a content-hash prefix (4+ hex digits; it may start with a digit);
- a bare number N: the label N, else the N-th version.

A value that names two different versions (a label and a sequence number, a
date and a hash prefix, a short hash prefix) is an error listing them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from toolkit.diff import DiffError
from toolkit.diff.fields import BOOKKEEPING
from toolkit.canonical import compact_json
from toolkit.records import TrialRecord, to_dict

__all__ = ["Candidate", "canonical_key", "dedupe", "select", "resolve", "resolve_pair", "describe"]

_SEQ = re.compile(r"^[vV](\d+)$")
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_HASH = re.compile(r"^[0-9a-fA-F]{4,}$")
# nested bookkeeping: byte counts of text a converter left out, download stamps
_NESTED_BOOKKEEPING = frozenset({"omitted_bytes", "versionHolder", "download_date"})
_DERIVED = ("source", "content_hash")  # the label stays: a registry may post two versions alike


@dataclass(frozen=True)
class Candidate:
    """One version a user's value could mean, and why."""

    seq: int
    record: TrialRecord
    reason: str  # label | sequence number | date | hash prefix


def canonical_key(record: TrialRecord) -> str:
    """Hash of what a version says, not of how an exporter wrote it down."""
    data = to_dict(record)
    for key in _DERIVED:
        data.pop(key, None)
    data["extra"] = _without_bookkeeping({k: v for k, v in (data.get("extra") or {}).items()
                                          if k not in BOOKKEEPING})
    eligibility = data.get("eligibility")
    if isinstance(eligibility, dict):
        eligibility.pop("criteria", None)  # derived from the text, which stays
    return hashlib.sha1(compact_json(data, sort_keys=True)).hexdigest()


def _without_bookkeeping(value):
    if isinstance(value, dict):
        return {k: _without_bookkeeping(v) for k, v in value.items() if k not in _NESTED_BOOKKEEPING}
    if isinstance(value, list):
        return [_without_bookkeeping(v) for v in value]
    return value


def dedupe(records: Iterable[TrialRecord]) -> List[TrialRecord]:
    """One record per canonical content, oldest first (by date, then arrival).

    Args:
        records: versions of one trial, from any number of files or exports.

    Returns:
        The distinct versions; of identical ones the first read is kept.
    """
    seen: Dict[str, int] = {}
    out: List[TrialRecord] = []
    for record in records:
        key = canonical_key(record)
        if key not in seen:
            seen[key] = len(out)
            out.append(record)
    order = sorted(range(len(out)), key=lambda i: (out[i].last_updated is None, out[i].last_updated or "", i))
    return [out[i] for i in order]


def select(records: Iterable[TrialRecord], trial_id: str, *, registry: Optional[str] = None,
           tagger: Optional[Callable[[TrialRecord], TrialRecord]] = None) -> List[TrialRecord]:
    """The distinct versions of one trial among `records`, tagged if a tagger is given.

    Only the trial's own records are tagged: a file of thousands of trials
    costs one read, not thousands of taggings.

    Raises:
        DiffError: the trial is not among the records.
    """
    found = [r for r in records if r.trial_id == trial_id and (registry is None or r.registry == registry)]
    if not found:
        raise DiffError(f"{trial_id} is not among the records read")
    versions = dedupe(found)
    return [tagger(r) for r in versions] if tagger is not None else versions


def _candidates(versions: Sequence[TrialRecord], wanted: str) -> List[Candidate]:
    numbered = list(enumerate(versions, start=1))
    seq = _SEQ.match(wanted)
    if seq:
        n = int(seq.group(1))
        return [Candidate(n, versions[n - 1], "sequence number")] if 1 <= n <= len(versions) else []
    found = [Candidate(i, v, "label") for i, v in numbered if v.version == wanted]
    if wanted.isdigit() and not wanted.startswith("0") and 1 <= int(wanted) <= len(versions):
        found.append(Candidate(int(wanted), versions[int(wanted) - 1], "sequence number"))
    if _DATE.match(wanted) and 1900 <= int(wanted[:4]) <= 2100:
        dated = [(i, v) for i, v in numbered if v.last_updated and v.last_updated[:len(wanted)] <= wanted]
        if dated:
            found.append(Candidate(dated[-1][0], dated[-1][1], "date"))
    if _HASH.match(wanted):
        prefix = wanted.lower()
        found += [Candidate(i, v, "hash prefix") for i, v in numbered
                  if v.content_hash and v.content_hash.startswith(prefix)]
    return found


def describe(seq: int, record: TrialRecord) -> str:
    """`v3 (label 3, 2015-01-30, 1d84d423)`: how a version is named in messages."""
    bits = [f"label {record.version}" if record.version else None, record.last_updated,
            (record.content_hash or "")[:8] or None]
    return f"v{seq} (" + ", ".join(b for b in bits if b) + ")"


def resolve(versions: Sequence[TrialRecord], wanted: Optional[str], *, default: int = -1) -> TrialRecord:
    """The one version `wanted` names (see module doc).

    Args:
        versions: a trial's versions, oldest first (`dedupe`d).
        wanted: what the user typed, or None for `versions[default]`.
        default: index used when nothing was asked.

    Raises:
        DiffError: nothing matches, too few versions, or `wanted` is ambiguous
            (the message lists the candidates).
    """
    if not versions:
        raise DiffError("no versions to choose from")
    trial = versions[0].trial_id
    if wanted is None:
        if not -len(versions) <= default < len(versions):
            raise DiffError(f"{trial} has only {len(versions)} version(s)")
        return versions[default]
    found = _candidates(versions, wanted.strip())
    distinct: Dict[int, List[str]] = {}
    for c in found:
        distinct.setdefault(c.seq, []).append(c.reason)
    if len(distinct) == 1:
        return versions[next(iter(distinct)) - 1]
    if not distinct:
        known = ", ".join(describe(i, v) for i, v in enumerate(versions, start=1))
        raise DiffError(f"no version {wanted!r} of {trial} (known: {known})")
    listed = "; ".join(f"{describe(seq, versions[seq - 1])} by {' and '.join(reasons)}"
                       for seq, reasons in sorted(distinct.items()))
    raise DiffError(f"version {wanted!r} of {trial} is ambiguous: {listed}. "
                    "Use vN for a sequence number, or more hash digits")


def resolve_pair(versions: Sequence[TrialRecord], from_: Optional[str],
                 to: Optional[str]) -> Tuple[TrialRecord, TrialRecord]:
    """(old, new) for `--from`/`--to`: the latest by default, and the one before it.

    Raises:
        DiffError: see `resolve`; or no version before the chosen new one.
    """
    new = resolve(versions, to, default=-1)
    if from_ is not None:
        return resolve(versions, from_), new
    index = next(i for i, v in enumerate(versions) if v is new)
    if index == 0:
        raise DiffError(f"{new.trial_id} has no version before {new.version or new.last_updated}")
    return versions[index - 1], new
