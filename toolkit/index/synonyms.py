"""Query expansion from the synonym table in `data/synonyms.json`.

A group lists spellings of one concept (abbreviation, full name, variants);
a query term whose analyzed words equal one spelling also matches the others.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Dict, Mapping, Sequence, Tuple

from toolkit.errors import ToolkitError
from toolkit.index.analysis import analyze

__all__ = ["SynonymTable", "default_synonyms"]

Words = Tuple[str, ...]


class SynonymTable:
    """Analyzed spellings -> every analyzed spelling of the same group."""

    def __init__(self, groups: Sequence[Sequence[str]]):
        self._variants: Dict[Words, Tuple[Words, ...]] = {}
        for group in groups:
            spellings = (tuple(analyze(text)) for text in group)
            variants = tuple(dict.fromkeys(words for words in spellings if words))
            for words in variants:
                merged = self._variants.get(words, ()) + variants
                self._variants[words] = tuple(dict.fromkeys(merged))

    @classmethod
    def from_dict(cls, data: Mapping) -> "SynonymTable":
        """Build from `{"groups": [[spelling, ...], ...]}`; other keys but `about` raise."""
        unknown = set(data) - {"groups", "about"}
        if unknown:
            raise ToolkitError(f"synonym table: unknown keys {sorted(unknown)}")
        return cls(data.get("groups", []))

    def expand(self, words: Words) -> Tuple[Words, ...]:
        """Every spelling of the concept `words` names (itself first)."""
        variants = self._variants.get(tuple(words))
        if not variants:
            return (tuple(words),)
        return (tuple(words),) + tuple(v for v in variants if v != tuple(words))

    def __len__(self) -> int:
        return len(self._variants)


@lru_cache(maxsize=1)
def default_synonyms() -> SynonymTable:
    """The table shipped with the package."""
    text = resources.files("toolkit.index").joinpath("data/synonyms.json").read_text("utf-8")
    return SynonymTable.from_dict(json.loads(text))
