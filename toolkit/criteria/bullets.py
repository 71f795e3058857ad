"""Lines of an eligibility text: offsets, indentation and bullet markers.

`split_lines(text)` cuts a text into `Line`s in one pass (any of \\n, \\r\\n,
\\r ends a line) and recognises the bullet marker a line starts with:
`*` `-` `+` `•` `·` `o` (markdown-escaped `\\-` `\\*` too), `1.` `1)` `(1)`,
`a.` `a)` `(a)`, `i.` `ii)` `(iv)`. Each marker has a style; a change of
style at the same indentation is how plain-text lists nest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

__all__ = ["Line", "split_lines", "unescape", "NONE_STYLE"]

NONE_STYLE = "none"

# One alternative per marker family; the group name is the style.
_BULLET = re.compile(
    r"(?:(?P<sym>\\?[-*+•·▪◦‣●○■□➢►–—])(?:[ \t]+|(?=[A-Za-z(]))"
    r"|(?P<o>o)[ \t]+"
    r"|(?P<num>\d{1,2})(?P<num_end>[.)、．])(?:[ \t]+|(?=[A-Za-z\u4e00-\u9fff]))"
    r"|\((?P<pnum>\d{1,2})\)[ \t]*"
    r"|(?P<roman>(?:i{1,3}|iv|vi{0,3}|ix|x))(?P<roman_end>[.)])[ \t]+"
    r"|(?P<alpha>[A-Za-z])(?P<alpha_end>[.)])[ \t]+"
    r"|\((?P<proman>i{1,3}|iv|vi{0,3}|ix|x)\)[ \t]*"
    r"|\((?P<palpha>[A-Za-z])\)[ \t]*)"
)
# First characters a bullet marker can start with (letters only with "." or ")" next).
_MARKER_FIRST = frozenset("\\-*+•·▪◦‣●○■□➢►–—(0123456789oivx")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
# What str.splitlines ends a line with.
_LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass(slots=True)
class Line:
    """One physical line of the text.

    Attributes:
        start: offset of the line's first character.
        end: offset just after its last non-blank character.
        indent: columns of leading white space (a tab counts 4).
        content: offset of the first non-blank character.
        text_start: offset of the text after the bullet marker (== content without one).
        style: bullet style (`sym:-`, `num.`, `alpha)` ...) or "none".
        blank_before: True when blank lines come between this line and the one before.
    """

    start: int
    end: int
    indent: int
    content: int
    text_start: int
    style: str = NONE_STYLE
    blank_before: bool = False

    @property
    def bulleted(self) -> bool:
        """True when the line starts with a bullet marker."""
        return self.style != NONE_STYLE

    @property
    def width(self) -> int:
        """Length of the line up to its last non-blank character."""
        return self.end - self.start


def split_lines(text: str) -> List[Line]:
    """Cut `text` into lines with offsets, indentation and bullet markers.

    Lines end where `str.splitlines` ends them (\n, \r\n, \r and the other
    Unicode line breaks).

    Args:
        text: an eligibility text.

    Returns:
        One `Line` per non-blank physical line, in order; blank lines only
        set `blank_before` on the line after them.
    """
    lines = []
    blank = False
    pos = 0
    for piece in text.splitlines(True):
        if piece.isspace():
            pos += len(piece)
            blank = True
            continue
        line = _line(text, piece.rstrip(_LINE_BREAKS), pos)
        pos += len(piece)
        line.blank_before = blank
        lines.append(line)
        blank = False
    return lines


def _line(text: str, raw: str, start: int) -> Optional[Line]:
    """The `Line` of `raw` (a line without its line break) at offset `start`, None if blank."""
    body = raw.lstrip()
    if not body:
        return None
    indent = len(raw) - len(body)
    content = start + indent
    end = start + len(raw.rstrip())
    if "\t" in raw[:indent]:
        indent = len(raw[:indent].expandtabs(4))
    if body[0] in _MARKER_FIRST or (len(body) > 1 and body[1] in ".)"):
        style, text_start = marker_at(text, content, end)
        if style.startswith("sym:"):
            inner, inner_start = marker_at(text, text_start, end)
            if inner != NONE_STYLE and not inner.startswith("sym:"):
                # "* 1. Unwilling ...": the number is the marker, at its own column
                indent += text_start - content
                style, text_start = inner, inner_start
        return Line(start, end, indent, content, text_start, style)
    return Line(start, end, indent, content, content)


def marker_at(text: str, pos: int, end: int) -> tuple:
    """The bullet style and text offset of the marker at `pos`, if any.

    Returns:
        (style, offset of the text after the marker); ("none", pos) when
        there is no marker or nothing follows it.
    """
    match = _BULLET.match(text, pos, end)
    if match is None or match.end() >= end:
        return NONE_STYLE, pos
    return _style(match), match.end()


def _style(match: re.Match) -> str:
    kind = match.lastgroup
    if match.group("sym") is not None:
        return "sym:" + match.group("sym").lstrip("\\")
    if match.group("o") is not None:
        return "sym:o"
    if match.group("num") is not None:
        return "num" + match.group("num_end")
    if match.group("pnum") is not None:
        return "(num)"
    if match.group("roman") is not None:
        return "roman" + match.group("roman_end")
    if match.group("alpha") is not None:
        return "alpha" + match.group("alpha_end")
    if match.group("proman") is not None:
        return "(roman)"
    return "(alpha)" if kind else NONE_STYLE


def unescape(text: str) -> str:
    """Remove markdown backslash escapes: `\\>` becomes `>`."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(r"\1", text)


def first_word_length(text: str, pos: int, end: int) -> int:
    """Length of the first white-space delimited word of text[pos:end]."""
    space = text.find(" ", pos, end)
    return (end if space < 0 else space) - pos


def marker_rank(style: Optional[str]) -> int:
    """Outline depth a style usually has: numbers 0, letters 1, romans 2, symbols 3."""
    if style is None or style == NONE_STYLE:
        return -1
    if style.startswith(("num", "(num")):
        return 0
    if style.startswith(("alpha", "(alpha")):
        return 1
    if style.startswith(("roman", "(roman")):
        return 2
    return 3
