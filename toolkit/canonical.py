"""Canonical JSON and the content hash of a record.

`compact_json` writes the bytes every stage stores and hashes (orjson where
it gives the json module's exact bytes); `content_hash` hashes a record's
source content, leaving out where it was read from and what the toolkit
derived, so the same source content always hashes alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from toolkit.codec import replace_fields, to_dict
from toolkit.records import TrialRecord

try:  # optional accelerator: same bytes as the json module, checked below
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None

__all__ = ["compact_json", "content_hash", "with_hash"]


# Eligibility fields derived from `Eligibility.text` by the parser and tagger:
# left out of the hash so a better parser does not invent new versions.
_DERIVED_ELIGIBILITY = ("criteria", "headings", "notes")


def content_hash(record: TrialRecord) -> str:
    """Hash of the source content of a record.

    Leaves out where the record was read from and what the toolkit derived
    (criteria tree, tags), so the same source content always hashes alike.
    The derived parts are dropped before the JSON form is built, so the
    cost does not grow with the criteria tree.
    """
    blob = compact_json(to_dict(_source_content(record)), sort_keys=True)
    return hashlib.sha256(blob).hexdigest()[:20]


# Types orjson would write but json refuses (or writes otherwise) raise instead.
_ORJSON_OPTIONS = (orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME) if orjson is not None else 0
# "e-" or "e+" right after a digit: an exponent. The search stops only at an "e"
# (a literal first), and looks behind only where a sign follows it.
_EXPONENT = re.compile(rb"e[-+](?<=[0-9]e[-+])")


def _orjson_may_differ(blob: bytes) -> bool:
    """Whether orjson's bytes may differ from the json module's.

    They differ on floats under 1e-4 (0.00001 vs 1e-05, 1.9e-6 vs 1.9e-06)
    and on NaN and infinities (null vs NaN); exponent forms are refused too.
    A marker anywhere, even inside a string, means: let json write it.
    (`in` runs at memory speed; one regex for all three markers would try
    every byte, and cost more than the json module saves.)
    """
    return b"null" in blob or b"0.0000" in blob or _EXPONENT.search(blob) is not None


def compact_json(data: Any, *, sort_keys: bool = False) -> bytes:
    """`json.dumps(data, ensure_ascii=False, separators=(",", ":"))` as UTF-8 bytes.

    orjson gives the same bytes three times faster; where its output could
    differ (see `_orjson_may_differ`) or it refuses the data, the json module
    does the work, so the bytes (and the hashes made from them) never change.

    Args:
        data: plain dicts, lists and scalars (a `to_dict` result).
        sort_keys: sort object keys (the canonical form for hashing).

    Raises:
        UnicodeEncodeError: a string holds a lone surrogate.
    """
    if orjson is not None:
        try:
            blob = orjson.dumps(data, option=_ORJSON_OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0))
        except TypeError:  # non-string keys, huge ints, surrogates: json decides
            blob = None
        if blob is not None and not _orjson_may_differ(blob):
            return blob
    text = json.dumps(data, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _source_content(record: TrialRecord) -> TrialRecord:
    """The record without hash, source and derived eligibility fields."""
    changes = {"content_hash": None, "source": None}
    eligibility = record.eligibility
    if eligibility is not None and any(getattr(eligibility, k) for k in _DERIVED_ELIGIBILITY):
        changes["eligibility"] = replace_fields(eligibility, **{k: () for k in _DERIVED_ELIGIBILITY})
    return replace_fields(record, **changes)


def with_hash(record: TrialRecord) -> TrialRecord:
    """Return the record with its `content_hash` filled in."""
    return replace_fields(record, content_hash=content_hash(record))
