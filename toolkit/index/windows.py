"""Time windows bound to their entity: `--window-max 4w --drug rituximab` means the rituximab window.

Each criterion document stores its windows with the entity each one limits
(`toolkit.index.documents.bound_windows`: `rituximab=28; car t=60`). The
index finds criteria with some window in range and the drug; this module then
keeps those whose window *of that drug* is in range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from toolkit.index.compile import Filters
from toolkit.index.query import And, Node, Or, Phrase, Word

__all__ = ["WindowBinding", "window_binding", "parse_windows"]

Words = Tuple[str, ...]
_ENTITY_FIELDS = ("drug",)


@dataclass(frozen=True)
class WindowBinding:
    """A window range that must hold for a window bound to one of `entities` (analyzed words)."""

    low: Optional[float]
    high: Optional[float]
    entities: Tuple[Words, ...]

    def keeps(self, windows: str) -> bool:
        """True when a window of `windows` (a stored `bound_windows` string) is in range and bound to an entity."""
        for entity, days in parse_windows(windows):
            if self._in_range(days) and any(_holds(entity, words) for words in self.entities):
                return True
        return False

    def _in_range(self, days: float) -> bool:
        return (self.low is None or days >= self.low - 0.005) and (self.high is None or days <= self.high + 0.005)


def window_binding(filters: Filters, node: Node) -> Optional[WindowBinding]:
    """The binding of a window option to the drug the query or `--drug` names, if both are given."""
    if filters.window_min_days is None and filters.window_max_days is None:
        return None
    entities: List[Words] = []
    _drug_terms(node, entities)
    if not entities:
        return None
    return WindowBinding(filters.window_min_days, filters.window_max_days, tuple(dict.fromkeys(entities)))


def _drug_terms(node: Node, into: List[Words]) -> None:
    """The drug words and phrases of a compiled tree (not under NOT)."""
    if isinstance(node, (And, Or)):
        for item in node.items:
            _drug_terms(item, into)
    elif isinstance(node, Word) and node.field in _ENTITY_FIELDS:
        into.append((node.text,))
    elif isinstance(node, Phrase) and node.field in _ENTITY_FIELDS and not node.positions:
        into.append(tuple(node.words))


def parse_windows(text: str) -> List[Tuple[Words, float]]:
    """[(entity words, days)] of a stored `bound_windows` string."""
    out = []
    for part in (text or "").split(";"):
        entity, _, days = part.strip().rpartition("=")
        try:
            out.append((tuple(entity.split()), float(days)))
        except ValueError:
            continue
    return out


def _holds(words: Words, part: Words) -> bool:
    n = len(part)
    return n > 0 and any(words[i:i + n] == part for i in range(len(words) - n + 1))
