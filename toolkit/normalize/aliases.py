"""Trial ids that name the same trial in another registry.

A trial is often registered twice or more: ClinicalTrials.gov (NCT), the EU
Clinical Trials Register (EudraCT number), ISRCTN, ChiCTR, DRKS. Records list
the other registries' ids among their secondary ids. `alias_of(text)` reads
one such id and returns (registry, id in that registry's spelling), so the
store can link the records of one trial across registries.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, Tuple

__all__ = ["ALIAS_REGISTRIES", "alias_of", "alias_keys"]

ALIAS_REGISTRIES = ("ctgov", "euctr", "isrctn", "chictr", "drks")

# (registry, pattern); group 1 is the id in the registry's own spelling
_PATTERNS = (
    ("ctgov", re.compile(r"\b(NCT\d{8})\b", re.IGNORECASE)),
    ("euctr", re.compile(r"(?:\bEUCTR|\bEudraCT[\s:#-]*(?:No\.?|number)?[\s:#-]*|\b)(\d{4}-\d{6}-\d{2})(?!\d)",
                         re.IGNORECASE)),
    ("isrctn", re.compile(r"\b(ISRCTN\s?\d{8})\b", re.IGNORECASE)),
    ("chictr", re.compile(r"\b(ChiCTR-?[A-Z]{0,4}-?\d{6,12})\b", re.IGNORECASE)),
    ("drks", re.compile(r"\b(DRKS\d{8})\b", re.IGNORECASE)),
)


def alias_of(text: str) -> Optional[Tuple[str, str]]:
    """The registry and canonical id of a trial id, if it is one of `ALIAS_REGISTRIES`.

    Args:
        text: an id as a record writes it ("NCT04315948", "EUCTR2020-000890-25-FR",
            "EudraCT 2020-000890-25", "ISRCTN 12345678", "ChiCTR2000029953").

    Returns:
        ("euctr", "2020-000890-25") and the like; None for other ids
        (sponsor protocol numbers, grants, registries not linked).
    """
    for registry, pattern in _PATTERNS:
        match = pattern.search(text or "")
        if match:
            found = _canonical(registry, match.group(1))
            return None if _PLACEHOLDER.search(found) else (registry, found)
    return None


_PLACEHOLDER = re.compile(r"^\D*0+$")  # "NCT00000000", "ISRCTN00000000": a form's empty answer


def _canonical(registry: str, found: str) -> str:
    if registry in ("ctgov", "isrctn", "drks"):
        return found.replace(" ", "").upper()
    if registry == "chictr":
        return "ChiCTR" + found[6:].upper()
    return found


def alias_keys(registry: str, trial_id: str, secondary_ids: Iterable[str]) -> Tuple[str, ...]:
    """Every alias key ("ctgov:NCT04315948") a trial is known by: its own id and its secondary ids.

    The trial's own id counts even when its registry is not linkable
    (the key is then "<registry>:<trial_id>").
    """
    own = alias_of(trial_id) if registry in ALIAS_REGISTRIES else None
    keys = [f"{own[0]}:{own[1]}" if own else f"{registry}:{trial_id}"]
    for text in secondary_ids:
        found = alias_of(text)
        if found:
            keys.append(f"{found[0]}:{found[1]}")
    return tuple(dict.fromkeys(keys))
