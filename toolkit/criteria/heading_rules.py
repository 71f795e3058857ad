"""Heading rules of the criteria parser, loaded from `criteria_rules.json`.

Rules are data: each has a name, a regex and (for block and cue headings) the
polarity it sets. `load_rules()` validates the JSON once and compiles it;
unknown keys and bad patterns raise `RulesError`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, Optional, Tuple

from toolkit.errors import RulesError

__all__ = ["HeadingRule", "RuleSet", "RulesError", "load_rules", "HeadingMatch"]

KINDS = ("block", "cue", "category")
POLARITIES = ("inclusion", "exclusion", "keyword", "verb", None)


@dataclass(frozen=True)
class HeadingMatch:
    """A heading found at the start of a line.

    Attributes:
        kind: block, cue or category.
        polarity: inclusion, exclusion or unknown (None for a category).
        head_end: offset just after the heading as written (colon included).
        rest: offset of the text after the heading, or None when none follows.
        category: the sub-heading name for a category heading.
    """

    kind: str
    polarity: Optional[str]
    head_end: int
    rest: Optional[int]
    category: Optional[str] = None


@dataclass(frozen=True)
class HeadingRule:
    """One heading pattern."""

    name: str
    kind: str
    pattern: re.Pattern
    polarity: Optional[str] = None
    needs: Tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, kind: str, data: Mapping[str, Any]) -> "HeadingRule":
        """Build a rule from its JSON form.

        Raises:
            RulesError: unknown keys, missing pattern, bad regex or polarity.
        """
        unknown = set(data) - {"name", "pattern", "polarity", "needs"}
        if unknown or "pattern" not in data or "name" not in data:
            raise RulesError(f"criteria rule {data.get('name')!r}: bad keys {sorted(unknown)}")
        polarity = data.get("polarity")
        if polarity not in POLARITIES:
            raise RulesError(f"criteria rule {data['name']!r}: bad polarity {polarity!r}")
        try:
            pattern = re.compile(_unanchored(data["pattern"]), re.IGNORECASE)
        except re.error as exc:
            raise RulesError(f"criteria rule {data['name']!r}: {exc}") from None
        if "head" not in pattern.groupindex:
            raise RulesError(f"criteria rule {data['name']!r}: no 'head' group")
        needs = tuple(word.lower() for word in data.get("needs", ()))
        return cls(data["name"], kind, pattern, polarity, needs)

    def match(self, text: str, pos: int, end: int) -> Optional[HeadingMatch]:
        """Match this rule against text[pos:end]."""
        found = self.pattern.match(text, pos, end)
        if found is None:
            return None
        rest = found.start("rest") if "rest" in self.pattern.groupindex else -1
        rest = rest if 0 <= rest < end else None
        category = found.group("head").strip() if self.kind == "category" else None
        return HeadingMatch(self.kind, self._polarity(found), _head_end(found, rest, end), rest, category)

    def _polarity(self, found: re.Match) -> Optional[str]:
        if self.polarity == "keyword":
            return _keyword_polarity(found.group("head"))
        if self.polarity == "verb":
            return "exclusion" if found.group("neg") else "inclusion"
        return self.polarity


def _unanchored(pattern: str) -> str:
    """Drop a leading `^`: rules are matched at a line's offset with `match(text, pos)`."""
    return pattern[1:] if pattern.startswith("^") else pattern


def _head_end(found: re.Match, rest: Optional[int], end: int) -> int:
    """End of the heading as written: up to the text after it (`rest`), else the line end."""
    if rest is None:
        return end
    stop = rest
    while stop > found.start() and found.string[stop - 1] in " \t":
        stop -= 1
    return stop


_NON_INCLUSION = re.compile(r"non[-\s]?inclusion")  # French "critères de non-inclusion": exclusion


def _keyword_polarity(head: str) -> str:
    lowered = _NON_INCLUSION.sub("exclusion", head.lower())
    has_in = "inclusion" in lowered
    has_ex = "exclusion" in lowered
    if has_in == has_ex:
        return "unknown"
    return "inclusion" if has_in else "exclusion"


@dataclass(frozen=True)
class RuleSet:
    """All heading rules, tried in order: block, cue, category."""

    rules: Tuple[HeadingRule, ...]
    words: Tuple[str, ...] = ()  # every word some rule needs

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RuleSet":
        """Build the rule set from the JSON document.

        Raises:
            RulesError: unknown sections or malformed rules.
        """
        unknown = set(data) - set(KINDS) - {"about"}
        if unknown:
            raise RulesError(f"criteria rules: unknown sections {sorted(unknown)}")
        rules = tuple(
            HeadingRule.from_dict(kind, item) for kind in KINDS for item in data.get(kind, ())
        )
        return cls(rules, tuple(sorted({word for rule in rules for word in rule.needs})))

    def match(self, text: str, pos: int, end: int) -> Optional[HeadingMatch]:
        """The first rule matching text[pos:end], or None."""
        lowered = text[pos:end].lower()
        present = {word for word in self.words if word in lowered}
        for rule in self.rules:
            if rule.needs and present.isdisjoint(rule.needs):
                continue
            found = rule.match(text, pos, end)
            if found is not None:
                return found
        return None


@lru_cache(maxsize=1)
def load_rules() -> RuleSet:
    """Load and compile the packaged heading rules (cached)."""
    source = resources.files("toolkit.criteria").joinpath("heading_rules.json")
    return RuleSet.from_dict(json.loads(source.read_text(encoding="utf-8")))
