"""Registries and trial ids (table: `registries.json`).

`registry_of(trial_id)` names the registry of an id from its prefix;
`trial_id_problem(registry, trial_id)` checks an id against the pattern of
its registry (and, for every registry, a plain-characters rule: no space,
no control character, at most 80 characters), so a damaged or forged id is
reported instead of stored.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Dict, Optional, Tuple

__all__ = ["registry_of", "trial_id_problem"]

_EUDRACT_NUMBER = re.compile(r"^\d{4}-\d{6}-\d{2}")
_LETTERS = re.compile(r"[A-Za-z]*")


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("toolkit.normalize").joinpath("registries.json").read_text("utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _prefixes() -> Tuple[Tuple[str, str], ...]:
    """(prefix, registry) pairs, longest prefix first."""
    table = _table()["prefixes"]
    return tuple(sorted(table.items(), key=lambda item: -len(item[0])))


@functools.lru_cache(maxsize=1)
def _patterns() -> Dict[str, "re.Pattern"]:
    return {name: re.compile(pattern) for name, pattern in _table()["patterns"].items()}


def trial_id_problem(registry: str, trial_id: str) -> Optional[str]:
    """Why a trial id cannot be right for its registry, or None when it can.

    Args:
        registry: the record's registry (`ctgov`, `drks` ...).
        trial_id: the id as mapped.

    Returns:
        A one-line reason naming the id (escaped) and the pattern it misses.
    """
    patterns = _patterns()
    for name in ("any", registry):
        pattern = patterns.get(name)
        if pattern is not None and not pattern.fullmatch(trial_id or ""):
            return f"invalid trial id {trial_id!r} for registry {registry}: expected {pattern.pattern}"
    return None


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
