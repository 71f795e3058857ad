"""Golden case files of the criteria tree: a readable outline of each case and its expected outline.

`render_outline(result)` writes one line per heading, criterion and note:

    # Inclusion Criteria
    I1 inclusion @21-74 :: Pediatric participants aged > 1 month ...
      I2.1 inclusion [Other Medical Conditions] @90-125 :: Second or later ...
    ! no inclusion/exclusion heading: polarity unknown

A case file holds named examples, each an input text and its expected
outline (after mistune's `tests/fixtures/*.txt`):

    ~~~~~~~~ case: seed_following_unindented | NCT06054113 | why it is odd
    <input text, verbatim>
    ~~~~~~~~ expected
    <outline>
    ~~~~~~~~ end
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List



__all__ = ["render_outline", "GoldenCase", "load_cases", "dump_cases"]

_FENCE = "~~~~~~~~"
_CASE = re.compile(r"^~{8} case: (?P<name>[\w.-]+) \| (?P<trial>[^|]*?) \| (?P<about>.*)$")


def render_outline(result) -> str:
    """Render a `CriteriaResult` as the outline text described above."""
    lines = [f"# {heading}" for heading in result.headings]
    _render_criteria(result.criteria, 0, lines)
    lines.extend(f"! {note}" for note in result.notes)
    return "\n".join(lines)


def _render_criteria(criteria, depth: int, lines: List[str]) -> None:
    for criterion in criteria:
        category = f" [{criterion.category}]" if criterion.category else ""
        lines.append(
            f"{'  ' * depth}{criterion.id} {criterion.polarity}{category} "
            f"@{criterion.start}-{criterion.end} :: {criterion.text}"
        )
        _render_criteria(criterion.children, depth + 1, lines)


@dataclass(frozen=True)
class GoldenCase:
    """One named example: the input text and its expected outline."""

    name: str
    trial: str
    about: str
    text: str
    expected: str


class GoldenFormatError(ValueError):
    """A case file is malformed."""


def load_cases(path: Path) -> List[GoldenCase]:
    """Read every case of a case file.

    Raises:
        GoldenFormatError: a case without its `expected` or `end` fence.
    """
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    cases, index = [], 0
    while index < len(lines):
        header = _CASE.match(lines[index])
        index += 1
        if header is None:
            continue
        text, index = _until(lines, index, f"{_FENCE} expected", path)
        expected, index = _until(lines, index, f"{_FENCE} end", path)
        cases.append(GoldenCase(header["name"], header["trial"], header["about"], text, expected))
    return cases


def _until(lines: List[str], index: int, fence: str, path: Path):
    for stop in range(index, len(lines)):
        if lines[stop] == fence:
            return "\n".join(lines[index:stop]), stop + 1
    raise GoldenFormatError(f"{path}: missing {fence!r} after line {index}")


def dump_cases(cases: Iterable[GoldenCase]) -> str:
    """Write cases back in the case file format."""
    blocks = []
    for case in cases:
        blocks.append(
            f"{_FENCE} case: {case.name} | {case.trial} | {case.about}\n{case.text}\n"
            f"{_FENCE} expected\n{case.expected}\n{_FENCE} end\n"
        )
    return "\n".join(blocks)
