"""The eligibility criteria tree: one pass over the lines of any registry's text.

`parse_criteria(text)` reads API v2 markdown, legacy hard-wrapped XML
textblocks, ICTRP/DRKS free text and rendered trial pages alike. A line holding
a capitalised "Exclusion Criteria:" after criterion text is first cut in two.
Each line is, in this order of rules:

1. a continuation of the current criterion (indented deeper, or a hard-wrapped
   line whose first word would not have fitted on the line before);
2. a heading (`criteria_rules.json`): an inclusion/exclusion block heading, a
   polarity cue ("Excluded:") or a category ("DISEASE CHARACTERISTICS:"),
   possibly followed by criterion text on the same line;
3. a sub-heading: a short line without bullet or final punctuation followed by
   bullets, or ending with a colon;
4. a criterion. Nesting comes from deeper indentation, from a change of bullet
   style under an item ending with ":", and from "... of the following:"
   items whose children are not indented (the list runs while its items end
   with ";", ",", "or", "and", ":" or repeat the first two words).

Every non-blank line lands in exactly one criterion or heading span; the test
`tests/test_criteria_invariant.py` checks it on every shared record.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from toolkit.criteria.bullets import (
    NONE_STYLE,
    Line,
    first_word_length,
    marker_at,
    marker_rank,
    split_lines,
    unescape,
)
from toolkit.criteria.line_cues import (
    DANGLING,
    MIDLINE_HEADING,
    NOT_A_TITLE,
    block_category,
    lead_in,
    ends_criterion,
    find_colon,
    list_goes_on,
    opens_list,
    restarts,
    strip_emphasis,
    title_words,
)
from toolkit.criteria.heading_rules import HeadingMatch, load_rules
from toolkit.records import Criterion

__all__ = ["CATEGORY_SEPARATOR", "CriteriaResult", "parse_criteria", "criterion_text"]

PREFIXES = {"inclusion": "I", "exclusion": "E", "unknown": "U"}
CATEGORY_SEPARATOR = " / "
NOTE_NO_HEADING = "no inclusion/exclusion heading: polarity unknown"
NOTE_PREAMBLE = "{} criteria before the first inclusion/exclusion heading: polarity unknown"

# Texts longer than this were not hard-wrapped; no wrap test is made on them.
MAX_WRAP_WIDTH = 120
MIN_WRAP_WIDTH = 70
SUBHEADING_MAX_CHARS = 60
# A heading is at most this long, up to its colon when text follows it.
HEADING_MAX_CHARS = 160
BARE_HEADING_MAX_CHARS = 100
SUBHEADING_MAX_WORDS = 8

# Words one of which every heading rule needs; found in the lower-cased text.
HEADING_WORDS = (
    "inclu", "exclu", "eligib", "enrol", "must", "allowed", "required", "permitted",
    "recommended", "prohibited", "characteristic", "therapy", "following", "--",
)
_HEADING_HINT = re.compile("|".join(HEADING_WORDS))
_HEADING_HINT_ANY_CASE = re.compile(_HEADING_HINT.pattern, re.IGNORECASE)
# Headings without a colon are short and name the criteria ("Inclusion Criteria", "--Disease--").
_BARE_HEADING_HINT = re.compile(r"inclu|exclu|eligib|following|--")
_BARE_HEADING_HINT_ANY_CASE = re.compile(_BARE_HEADING_HINT.pattern, re.IGNORECASE)
@dataclass(frozen=True)
class CriteriaResult:
    """What the parser found in one eligibility text.

    Attributes:
        criteria: the criteria tree in source order.
        headings: heading and sub-heading lines recognised, as written.
        notes: parser remarks (e.g. polarity unknown).
        heading_spans: (start, end) offsets of each heading in `headings`.
    """

    criteria: Tuple[Criterion, ...] = ()
    headings: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    heading_spans: Tuple[Tuple[int, int], ...] = ()


@dataclass
class _Node:
    """A criterion under construction."""

    polarity: str
    category: Optional[str]
    start: int
    end: int
    indent: int
    style: str
    restarts: bool = False
    children: List["_Node"] = field(default_factory=list)


@dataclass
class _Level:
    """A run of sibling items at one indentation (their bullet styles in `styles`)."""

    indent: int
    items: List[_Node]
    implicit: bool = False
    last: Optional[_Node] = None
    styles: set = field(default_factory=set)


class _Parser:
    """Parser state: polarity, category, the open levels and the current item."""

    def __init__(self, text: str):
        self.text = text
        self.lines = split_lines(text)
        lowered = text.lower()
        # lower() may change the length of a few characters: then search any case
        same = len(lowered) == len(text)
        self.hint_text = lowered if same else text
        self.hint = _HEADING_HINT if same else _HEADING_HINT_ANY_CASE
        self.bare_hint = _BARE_HEADING_HINT if same else _BARE_HEADING_HINT_ANY_CASE
        # where heading words occur: most lines hold none and skip the heading rules
        self.hint_offsets = _word_offsets(lowered, HEADING_WORDS) if same else [
            found.start() for found in self.hint.finditer(text)
        ]
        self.rules = load_rules()
        self.width = _wrap_width(self.lines)
        self.roots: List[_Node] = []
        self.stack: List[_Level] = []
        self.current: Optional[_Node] = None
        self.block: Optional[str] = None
        self.cue: Optional[str] = None
        # The category of the items is the path of the headings above them:
        # a section (PDQ label, qualified block heading), a sub-heading, a lead-in cue.
        self.section: Optional[str] = None
        self.intro: Optional[str] = None  # a lead-in line followed by sub-headings
        self.subheading: Optional[str] = None
        self.lead: Optional[str] = None
        self.lead_items = 0  # items read since the lead-in line
        self.headings: List[str] = []
        self.spans: List[Tuple[int, int]] = []
        self.prev: Optional[Line] = None

    @property
    def polarity(self) -> str:
        return self.cue or self.block or "unknown"

    @property
    def category(self) -> Optional[str]:
        """"PRIOR CONCURRENT THERAPY / Chemotherapy / Excluded": each heading kept, outermost first."""
        parts = [part for part in (self.section, self.intro, self.subheading, self.lead) if part]
        return CATEGORY_SEPARATOR.join(parts) if parts else None

    def run(self) -> CriteriaResult:
        """Read every line, then build the frozen tree."""
        for index, line in enumerate(self.lines):
            self.read_line(index, line)
            self.prev = line
        criteria = _freeze(self.text, self.roots)
        return CriteriaResult(criteria, tuple(self.headings), self.notes(criteria), tuple(self.spans))

    def read_line(self, index: int, line: Line, *, whole: bool = True) -> None:
        """Apply the line rules in order (see the module docstring).

        `whole` is False for the part of a line before a heading inside it,
        which is never a sub-heading.
        """
        cut = self.midline_heading(line)
        if cut is not None:
            self.read_line(index, cut[0], whole=False)
            self.prev = cut[0]
            return self.read_line(index, cut[1])
        if self.continues_deeper(line):
            return self.extend(line)
        heading = self.match_heading(line)
        if heading is not None:
            return self.apply_heading(line, heading)
        if self.continues_wrapped(line):
            return self.extend(line)
        if whole and self.is_subheading(index, line):
            return self.apply_subheading(line)
        self.start_item(line, line.indent, line.style, line.text_start)

    # --- continuation lines ---------------------------------------------------

    def continues_deeper(self, line: Line) -> bool:
        """A line indented deeper than the current item's marker and not a new item.

        Unbulleted lines continue the item (after a blank line only under a
        bullet); a deeper "(16) unless ..." continues it when hard-wrapped.
        """
        node = self.current
        if node is None or line.indent <= node.indent:
            return False
        if line.bulleted:
            return not line.blank_before and line.style[:3] != "sym" and self.wrapped(line)
        return not line.blank_before or node.style != NONE_STYLE

    def continues_wrapped(self, line: Line) -> bool:
        """A same-indent unbulleted line that is the rest of the line before.

        Either the text is hard-wrapped and the line's first word would not have
        fitted before, or the line starts in lower case after a dangling word
        ("... is possible if" / "extensive search ...").
        """
        if self.current is None or line.blank_before or line.bulleted:
            return False
        if self.wrapped(line):
            return True
        last = self.prev
        return (
            self.text[line.content].islower()
            and DANGLING.search(self.text, max(last.content, last.end - 12), last.end) is not None
        )

    def wrapped(self, line: Line) -> bool:
        """True when the first word of `line` would not have fitted on the line before."""
        last = self.prev
        if not self.width or last is None:
            return False
        if self.text[last.end - 1] in ".;" and not self.text[line.text_start].islower():
            return False
        return last.width + 1 + first_word_length(self.text, line.content, line.end) > self.width

    def extend(self, line: Line) -> None:
        self.current.end = line.end

    # --- headings ---------------------------------------------------------------

    def match_heading(self, line: Line) -> Optional[HeadingMatch]:
        """A heading rule matching the line (after bullet and emphasis marks)."""
        offsets = self.hint_offsets
        first = bisect_left(offsets, line.content)
        if first == len(offsets) or offsets[first] >= line.end:
            return None
        pos, end = strip_emphasis(self.text, line.text_start, line.end)
        colon = find_colon(self.text, pos, min(end, pos + HEADING_MAX_CHARS))
        if colon >= 0:
            if self.text[end - 1] in ":：" and end - pos <= BARE_HEADING_MAX_CHARS:
                colon = end  # "AS PER AMENDMENT 1/10/97: Excluded:"
            found = offsets[first] < colon
        elif end - pos <= BARE_HEADING_MAX_CHARS:
            found = self.bare_hint.search(self.hint_text, pos, end)
        else:
            return None
        return self.rules.match(self.text, pos, end) if found else None

    def midline_heading(self, line: Line) -> Optional[Tuple[Line, Line]]:
        """Cut a line before an "Exclusion Criteria:" that follows criterion text.

        "* Stable heterosexual relationship Exclusion Criteria:- Primary ..."
        (NCT00668135): the text before stays a criterion, the rest starts a block.
        """
        offsets = self.hint_offsets
        first = bisect_left(offsets, line.text_start + 1)
        if first == len(offsets) or offsets[first] >= line.end:
            return None
        found = MIDLINE_HEADING.search(self.text, line.text_start + 1, line.end)
        if found is None or not ends_criterion(self.text, line.text_start, found.start()):
            return None
        before = self.text[line.start:found.start()].rstrip()
        head = Line(line.start, line.start + len(before), line.indent, line.content,
                    line.text_start, line.style, line.blank_before)
        tail = Line(found.start(), line.end, line.indent, found.start(), found.start())
        return head, tail

    def apply_heading(self, line: Line, heading: HeadingMatch) -> None:
        head_start = strip_emphasis(self.text, line.text_start, line.end)[0]
        self.record_heading(line.content, head_start, heading.head_end)
        if heading.kind == "block":
            self.block, self.cue = heading.polarity, None
            self.section, self.intro, self.subheading = block_category(self.headings[-1]), None, None
            self.set_lead(lead_in(self.headings[-1]))
        elif heading.kind == "cue":
            self.cue = heading.polarity
            self.set_lead(_title(self.headings[-1]))
        else:
            self.section, self.intro, self.subheading, self.lead = heading.category, None, None, None
            self.cue = None
            self.block = heading.polarity or self.block
        if heading.rest is not None:
            style, text_start = marker_at(self.text, heading.rest, line.end)
            self.start_item(line, line.indent, style, text_start)

    def set_lead(self, lead: Optional[str]) -> None:
        self.lead, self.lead_items = lead, 0

    def is_subheading(self, index: int, line: Line) -> bool:
        """A short unbulleted title line introducing the lines that follow."""
        size = line.end - line.content
        if line.bulleted or size > SUBHEADING_MAX_CHARS:
            return False
        title = self.text[line.content:line.end]
        if title[-1] in ".;,。；，" or not (title[0].isupper() or title[0].isdigit()):
            return False
        if title.count(" ") >= SUBHEADING_MAX_WORDS or "following" in title.lower():
            return False
        capitalised, words = title_words(title)
        following = self.next_line(index)
        if following is None or capitalised * 2 < words or NOT_A_TITLE.match(title):
            return False
        heading = self.match_heading(following)
        if heading is not None and heading.kind == "block":
            return False
        if title[-1] in ":：" or (following.bulleted and following.indent >= line.indent):
            return True
        return words >= 2 and capitalised == words and following.blank_before

    def apply_subheading(self, line: Line) -> None:
        end = line.end
        self.record_heading(line.content, line.content, end)
        if self.lead and not self.lead_items:  # "... if any of the following apply:" then "Medical Conditions"
            self.intro = self.lead
        self.subheading, self.lead = _title(self.text[line.content:end]), None
        self.cue = None

    def record_heading(self, span_start: int, head_start: int, head_end: int) -> None:
        self.headings.append(self.text[head_start:head_end].strip())
        self.spans.append((span_start, head_end))
        self.stack.clear()
        self.current = None

    def next_line(self, index: int) -> Optional[Line]:
        return self.lines[index + 1] if index + 1 < len(self.lines) else None

    # --- items ----------------------------------------------------------------

    def start_item(self, line: Line, indent: int, style: str, text_start: int) -> None:
        first = marker_rank(style) < 3 and restarts(self.text[line.content:text_start])
        node = _Node(self.polarity, self.category, text_start, line.end, indent, style, first)
        self.lead_items += 1
        self.place(node)
        self.current = node

    def place(self, node: _Node) -> None:
        """Put a new item in the tree: sibling, child, or child of an implicit list."""
        stack = self.stack
        if stack and stack[-1].indent > node.indent and self.opens_outdented(node):
            return self.push(node, stack[-1].last.children, implicit=True)
        while stack and stack[-1].indent > node.indent:
            stack.pop()
        if not stack:
            return self.push(node, self.roots)
        top = stack[-1]
        if top.indent < node.indent:
            return self.push(node, top.last.children)
        if node.style == top.last.style:
            return self.place_same_style(node)
        self.place_new_style(node)

    def place_same_style(self, node: _Node) -> None:
        top = self.stack[-1]
        if top.implicit and not list_goes_on(self.text, top.last, node):
            self.close_implicit(node)
            return self.place(node)
        if opens_list(self.text, top.last):
            if marker_rank(node.style) < 0 or marker_rank(node.style) == 3 or node.restarts:
                return self.push(node, top.last.children, implicit=True)
        self.append(top, node)

    def place_new_style(self, node: _Node) -> None:
        """Same indentation, other bullet style: under an item ending with ":", back
        to the level of that style, or nested when the style ranks deeper."""
        top = self.stack[-1]
        if opens_list(self.text, top.last):
            return self.push(node, top.last.children)
        for depth in range(len(self.stack) - 1, -1, -1):
            level = self.stack[depth]
            if level.indent != node.indent:
                break
            if node.style in level.styles:
                del self.stack[depth + 1:]
                return self.append(level, node)
        if marker_rank(node.style) > marker_rank(top.last.style) >= 0:
            return self.push(node, top.last.children)
        self.append(top, node)

    def opens_outdented(self, node: _Node) -> bool:
        """A bullet less indented than an item ending with ":" (and of another style) is its child.

        Rendered markdown often loses the indentation of such children
        ("  o ... one of the following:" then "* The injury to the head;").
        """
        top = self.stack[-1]
        return (
            node.style != NONE_STYLE
            and node.style not in top.styles
            and opens_list(self.text, top.last)
        )

    def close_implicit(self, node: _Node) -> None:
        """End every implicit list open at this indentation."""
        stack = self.stack
        while stack and stack[-1].implicit and stack[-1].indent == node.indent:
            stack.pop()

    def push(self, node: _Node, items: List[_Node], *, implicit: bool = False) -> None:
        level = _Level(node.indent, items, implicit)
        self.stack.append(level)
        self.append(level, node)

    @staticmethod
    def append(level: _Level, node: _Node) -> None:
        level.items.append(node)
        level.last = node
        level.styles.add(node.style)

    # --- notes ----------------------------------------------------------------

    def notes(self, criteria: Tuple[Criterion, ...]) -> Tuple[str, ...]:
        if not criteria:
            return ()
        unknown = sum(1 for criterion in criteria if criterion.polarity == "unknown")
        if unknown == len(criteria):
            return (NOTE_NO_HEADING,)
        if unknown and criteria[0].polarity == "unknown":
            return (NOTE_PREAMBLE.format(_leading_unknown(criteria)),)
        return ()


def parse_criteria(text: str) -> CriteriaResult:
    """Parse an eligibility text into its criteria tree.

    Args:
        text: the eligibility text of any registry (markdown, hard-wrapped, plain).

    Returns:
        `CriteriaResult` with the tree, the headings recognised and notes.
    """
    if not text or not text.strip():
        return CriteriaResult()
    return _Parser(text).run()


def criterion_text(text: str, start: int, end: int) -> str:
    """The text of a criterion from its span: unescaped, white space collapsed."""
    return " ".join(unescape(text[start:end]).split())


# --- helpers -------------------------------------------------------------------


def _title(heading: str) -> str:
    """A heading as a category: without its colon and emphasis marks."""
    return heading.strip().strip("*_#").rstrip(":： \t").strip()


def _wrap_width(lines: List[Line]) -> int:
    """The hard-wrap width of a text (its longest line), or 0 when not wrapped."""
    width = max((line.width for line in lines), default=0)
    return width if MIN_WRAP_WIDTH <= width <= MAX_WRAP_WIDTH else 0


def _word_offsets(text: str, words: Tuple[str, ...]) -> List[int]:
    """Sorted offsets of every occurrence of `words` in `text` (str.find: faster than a regex)."""
    offsets = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            offsets.append(at)
            at = text.find(word, at + 1)
    offsets.sort()
    return offsets


def _leading_unknown(criteria: Tuple[Criterion, ...]) -> int:
    count = 0
    for criterion in criteria:
        if criterion.polarity != "unknown":
            break
        count += 1
    return count


def _freeze(text: str, roots: List[_Node]) -> Tuple[Criterion, ...]:
    """Number the tree (I1, I1.2, E3, U1) and turn it into `Criterion`s."""
    counters = {"I": 0, "E": 0, "U": 0}
    frozen = []
    for node in roots:
        prefix = PREFIXES.get(node.polarity, "U")
        counters[prefix] += 1
        frozen.append(_criterion(text, node, f"{prefix}{counters[prefix]}"))
    return tuple(frozen)


def _criterion(text: str, node: _Node, ident: str) -> Criterion:
    children = tuple(
        _criterion(text, child, f"{ident}.{number}")
        for number, child in enumerate(node.children, start=1)
    ) if node.children else ()
    return Criterion(
        id=ident,
        polarity=node.polarity if node.polarity in PREFIXES else "unknown",
        text=criterion_text(text, node.start, node.end),
        start=node.start,
        end=node.end,
        category=node.category,
        children=children,
    )
