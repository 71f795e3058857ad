"""Which registry a trial id belongs to, from its prefix (table: `registries.json`)."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Tuple

__all__ = ["registry_of"]

_EUDRACT_NUMBER = re.compile(r"^\d{4}-\d{6}-\d{2}")
_LETTERS = re.compile(r"[A-Za-z]*")


@functools.lru_cache(maxsize=1)
def _prefixes() -> Tuple[Tuple[str, str], ...]:
    """(prefix, registry) pairs, longest prefix first."""
    text = resources.files("toolkit.normalize").joinpath("registries.json").read_text("utf-8")
    table = json.loads(text)["prefixes"]
    return tuple(sorted(table.items(), key=lambda item: -len(item[0])))


def registry_of(trial_id: str) -> str:
    """The registry of a trial id (`NCT...` -> `ctgov`, `ChiCTR...` -> `chictr`).

    Args:
        trial_id: e.g. "NCT06054113", "ChiCTR2000029953", "EUCTR2020-000890-25-FR".

    Returns:
        The registry name; `euctr` for a bare EudraCT number; for an unknown
        prefix the lower-case leading letters of the id ("unknown" if none).
    """
    for prefix, registry in _prefixes():
        if trial_id.startswith(prefix) and not trial_id[len(prefix):len(prefix) + 1].isalpha():
            return registry
    if _EUDRACT_NUMBER.match(trial_id):
        return "euctr"
    return _LETTERS.match(trial_id).group().lower() or "unknown"
