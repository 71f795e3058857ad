"""Split a plain-text trial page into header and sections (layout only).

The headings, their captions and the value enums come from
`page_headings.json`; the layout rules are documented in `toolkit.formats.ctgov_page.map`.
These helpers are shared by the page mapper and the page renderer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Dict, List, Optional, Tuple

from rapidfuzz import fuzz, utils

__all__ = [
    "RULES", "HEADINGS", "VALUES", "CONTINUATION", "MISSING", "DATE", "AGE", "URL", "ENROLLMENT",
    "PageSection", "PageLayout", "split_page", "page_header", "is_heading_line", "escape_lines", "free_text",
    "values", "missing_to_none", "labelled", "trim",
]

RULES = json.loads(resources.files("toolkit.formats.ctgov_page").joinpath("headings.json").read_text("utf-8"))
HEADINGS = {entry["heading"].lower(): entry for entry in RULES["headings"]}
VALUES = RULES["values"]
CONTINUATION = "    "
MISSING = "-"
CAPTION_CUTOFF = 85.0

ID_LINE = re.compile(r"^\s*(?:[\w.\- ]{0,30}?\s)?(?:ID|Identifier|Number|No\.?)\s*:\s*(\S.*?)\s*$", re.I)
HEADER_LABELS = {"last updated": "last_updated", "version": "version", "registry": "registry",
                 "official title": "official_title",
                 "acronym": "acronym", "first posted": "first_posted"}
DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
ENROLLMENT = re.compile(r"^(\d+|-) participants?(?: \((\w+)\))?$", re.I)
AGE = re.compile(r"^(?:\d+(?:\.\d+)?\s+[A-Za-z]+|N/A)$")
URL = re.compile(r"^(?:https?|ftp)://\S+$", re.I)


@dataclass(frozen=True)
class PageSection:
    """A titled block of a page: heading and its lines, caption dropped."""

    heading: str
    lines: Tuple[str, ...]
    field: Optional[str] = None


@dataclass(frozen=True)
class PageLayout:
    """A page split into header and sections."""

    title: Optional[str]
    header: Dict[str, str]
    preamble: Tuple[str, ...]
    sections: Tuple[PageSection, ...]


# --- splitting a page into sections -------------------------------------------------


def _heading_key(line: str) -> str:
    return line.strip().rstrip(":").strip().lower()


CAPTION_VERBS = frozenset(RULES["caption_verbs"])
TITLE_PUNCTUATION = re.compile(r"[.:;,!?*\\]")
TITLE_SMALL_WORDS = frozenset({"and", "of", "or", "&"})


CAPTION_MAX = 200


def _looks_like_caption(line: str) -> bool:
    """One imperative sentence of page text, like the known captions."""
    words = line.split(maxsplit=6)
    return len(words) >= 6 and words[0] in CAPTION_VERBS and line.rstrip().endswith(".") \
        and len(line) <= CAPTION_MAX


def _looks_like_title(line: str) -> bool:
    """A short title-case line (not an all-caps enum value like `ALL`)."""
    words = line.split(maxsplit=7)
    return 0 < len(words) <= 6 and not TITLE_PUNCTUATION.search(line) and not line.isupper() \
        and all(w[:1].isupper() or w in TITLE_SMALL_WORDS for w in words)


def _next_filled(lines: List[str], index: int) -> str:
    for later in range(index + 1, len(lines)):
        if lines[later].strip():
            return lines[later].strip()
    return ""


def is_heading_line(lines: List[str], index: int) -> bool:
    """Whether `lines[index]` opens a section (a known or a caption-led heading)."""
    line = lines[index]
    if line[:1].isspace() or not line.strip():
        return False
    if _heading_key(line) in HEADINGS:
        return True
    return _looks_like_title(line) and _looks_like_caption(_next_filled(lines, index))


def _is_caption(heading: Optional[dict], line: str) -> bool:
    """Whether a line is the known caption of a heading (an unknown heading's
    caption-like line is kept: it cannot be told from a value)."""
    if heading is None or not _lengths_may_match(len(line), len(heading["caption"])):
        return False
    score = fuzz.ratio(line, heading["caption"], processor=utils.default_process)
    return score >= CAPTION_CUTOFF


def _lengths_may_match(a: int, b: int) -> bool:
    """Whether texts of lengths `a` and `b` may reach `CAPTION_CUTOFF`: `fuzz.ratio` is at most
    200 * min / (a + b), under 67 when one is twice the other. So a megabyte line is never
    compared with a caption, which cost seconds and hundreds of MB."""
    return max(a, b) <= 2 * min(a, b)


def _page_lines(text: str) -> List[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def page_header(text: str) -> Dict[str, str]:
    """The header labels of a page (`id`, `last_updated` ...), as `split_page`
    finds them, without reading the sections after the first heading."""
    lines = _page_lines(text)
    first = next((i for i in range(len(lines)) if is_heading_line(lines, i)), len(lines))
    return _split_header(lines[:first])[1]


def split_page(text: str) -> PageLayout:
    """Split a page into title, header labels, preamble lines and sections."""
    lines = _page_lines(text)
    starts = [i for i in range(len(lines)) if is_heading_line(lines, i)]
    head = lines[: starts[0]] if starts else lines
    title, header, preamble = _split_header(head)
    sections = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        sections.append(_section(lines[start], lines[start + 1:end]))
    return PageLayout(title, header, tuple(preamble), tuple(sections))


def _section(heading_line: str, body: List[str]) -> PageSection:
    entry = HEADINGS.get(_heading_key(heading_line))
    heading = entry["heading"] if entry else heading_line.strip()
    first = next((i for i, line in enumerate(body) if line.strip()), None)
    if first is not None and _is_caption(entry, body[first].strip()):
        body = body[first + 1:]
    return PageSection(heading, tuple(trim(body)), entry["field"] if entry else None)


def trim(lines: List[str]) -> List[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _split_header(lines: List[str]) -> Tuple[Optional[str], Dict[str, str], List[str]]:
    """Title, header labels and leftover lines of the part before the first heading.

    The id is the first token of the first id line; a title that itself reads
    as an id line is the title when another id line follows it. An id line
    with more than the id is also kept as a preamble line. Values continue on
    lines indented by four spaces, as in the structured sections.
    """
    filled = values(lines)
    id_lines = [i for i, line in enumerate(filled) if ID_LINE.match(line)]
    id_at = id_lines[1] if id_lines[:1] == [0] and len(id_lines) > 1 else (id_lines or [None])[0]
    title, header, preamble = None, {}, []
    for i, line in enumerate(filled):
        label, _, value = line.partition(":")
        if i == id_at:
            header["id"], _, rest = ID_LINE.match(line).group(1).partition(" ")
            preamble += [line] if rest.strip() else []
        elif value and label.strip().lower() in HEADER_LABELS:
            header[HEADER_LABELS[label.strip().lower()]] = value.strip()
        elif title is None:
            title = line.strip()
        else:
            preamble.append(line)
    return title, header, preamble


def _escapable(text: str) -> bool:
    """Whether a line could read as a heading (or as an escaped line) by itself."""
    if text.startswith("\\"):
        return _escapable(text[1:])
    return _heading_key(text) in HEADINGS or _looks_like_title(text)


def _unescape(line: str) -> str:
    return line[1:] if line.startswith("\\") and _escapable(line[1:]) else line


def escape_lines(lines: List[str]) -> List[str]:
    """Backslash-escape the lines that would read as headings or as escapes."""
    out = []
    for i, line in enumerate(lines):
        clash = is_heading_line(lines, i) or (line.startswith("\\") and _escapable(line[1:]))
        out.append("\\" + line if clash else line)
    return out


def free_text(lines) -> str:
    """The text of a free-text section: lines as written, escapes removed."""
    return "\n".join(_unescape(line) for line in lines)


# A list item inside a description: `* x`, `- x`, `• x`, `1. x`, `2) x`.
LIST_ITEM = re.compile(r"^\s*(?:[*•-]|\d{1,2}[.)])\s+\S")


def values(lines, *, paragraphs: bool = False) -> List[str]:
    """Value lines of a structured section: continuations folded, blanks skipped.

    Args:
        lines: the section's lines.
        paragraphs: a line after a blank line continues the value before it as
            a new paragraph (the site writes multi-paragraph descriptions so),
            and a list item after a list item or a line ending in `:`
            continues it as a new line; unless the section is double-spaced (a blank before every line).

    Returns:
        One string per value.
    """
    out: List[str] = []
    blank = listed = False
    paragraphs = paragraphs and not _double_spaced(lines)
    for line in lines:
        if line.startswith(CONTINUATION) and out:
            out[-1] += "\n" + line[len(CONTINUATION):]
        elif line.strip() and paragraphs and blank and out:
            out[-1] += "\n\n" + _unescape(line.strip())
        elif paragraphs and LIST_ITEM.match(line) and out and (listed or out[-1].endswith(":")):
            out[-1] += "\n" + _unescape(line.strip())
        elif line.strip():
            out.append(_unescape(line.strip()))
        blank, listed = not line.strip(), bool(LIST_ITEM.match(line))
    return out


def _double_spaced(lines) -> bool:
    """Whether every filled line but the first follows a blank line."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return len(filled) > 1 and all(not lines[i - 1].strip() for i in filled[1:])


def missing_to_none(text: Optional[str]) -> Optional[str]:
    return None if text is None or text == MISSING else text


def labelled(line: str, labels: Dict[str, str]) -> Optional[Tuple[str, str]]:
    label, sep, value = line.partition(":")
    key = labels.get(label.strip().lower())
    return (key, value.strip()) if sep and key else None
