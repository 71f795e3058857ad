"""The query language: parse a query string into a tree of nodes.

Grammar (case-insensitive operators, implicit AND between terms)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | FIELD ":" primary | atom
    atom    := WORD | WORD "*" | WORD "~" [N] | '"' PHRASE '"'

The tree is engine-neutral; `toolkit.index.compile` turns raw words into
indexed terms (stems, keywords, concepts) and engines translate the result.

A query is bounded (`MAX_QUERY_CHARS`, `MAX_DEPTH`, `MAX_TERMS`): a longer,
deeper or wider one is a `QueryError` (a usage error), never a crash.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from toolkit.errors import QueryError
from toolkit.index.schema import QUERY_FIELDS

__all__ = [
    "MAX_DEPTH", "MAX_TERMS", "MAX_QUERY_CHARS", "Word", "Phrase", "Prefix", "Fuzzy", "Range", "And", "Or", "Not", "All",
    "Node", "parse_query", "render",
]


@dataclass(frozen=True)
class Word:
    """One word (raw before compiling, a stem or keyword after)."""

    field: Optional[str]
    text: str


@dataclass(frozen=True)
class Phrase:
    """Words that must follow each other; with `positions`, each word at its own
    position from the first ("hepatitis * or c": 0, 2, 3), any word in the gaps."""

    field: Optional[str]
    words: Tuple[str, ...]
    positions: Tuple[int, ...] = ()


@dataclass(frozen=True)
class Prefix:
    """Any indexed term starting with `text`."""

    field: Optional[str]
    text: str


@dataclass(frozen=True)
class Fuzzy:
    """Any indexed term within `distance` edits of `text`."""

    field: Optional[str]
    text: str
    distance: int = 1


@dataclass(frozen=True)
class Range:
    """A number field between `low` and `high` (inclusive; None is open)."""

    field: str
    low: Optional[float]
    high: Optional[float]


@dataclass(frozen=True)
class And:
    items: Tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: Tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


@dataclass(frozen=True)
class All:
    """Every document."""


Node = Union[Word, Phrase, Prefix, Fuzzy, Range, And, Or, Not, All]

_LEXER = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<phrase>"[^"]*"?)
  | (?P<field>[A-Za-z_]+):
  | (?P<minus>-(?=[\w("]))
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = {"AND", "OR", "NOT"}

MAX_QUERY_CHARS = 20_000
MAX_DEPTH = 24  # nested groups, NOTs and fields
MAX_TERMS = 64  # words, phrases, prefixes and fuzzy words


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _lex(source: str) -> List[_Token]:
    tokens = []
    for match in _LEXER.finditer(source):
        kind = match.lastgroup
        if kind == "space":
            continue
        text = match.group(kind)
        if kind == "word" and text.upper() in _OPERATORS:
            kind = text.upper()
        if kind == "phrase" and (len(text) < 2 or not text.endswith('"')):
            raise _error(source, match.start(), "unterminated quote")
        tokens.append(_Token(kind, text, match.start()))
    return tokens


def _error(source: str, pos: int, reason: str) -> QueryError:
    """A query error naming the column and pointing at it under the query."""
    return QueryError(f"{reason} at column {pos + 1}\n  {source}\n  {' ' * pos}^")


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, source: str):
        if len(source) > MAX_QUERY_CHARS:
            raise QueryError(f"the query is {len(source):,} characters long (at most {MAX_QUERY_CHARS:,})")
        self.source = source
        self.tokens = _lex(source)
        self.at = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> Optional[_Token]:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _error(self.source, len(self.source), "the query ends too early")
        self.at += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QueryError("empty query: give words, \"phrases\" or field:value terms")
        node = self.parse_or(None)
        token = self.peek()
        if token is not None:
            reason = "unbalanced ')'" if token.kind == "rparen" else f"unexpected {token.text!r}"
            raise _error(self.source, token.pos, reason)
        return node

    def parse_or(self, field: Optional[str]) -> Node:
        items = [self.parse_and(field)]
        while self.peek() is not None and self.peek().kind == "OR":
            self.take()
            items.append(self.parse_and(field))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self, field: Optional[str]) -> Node:
        items = [self.parse_unary(field)]
        while True:
            token = self.peek()
            if token is None or token.kind in ("OR", "rparen"):
                break
            if token.kind == "AND":
                self.take()
            items.append(self.parse_unary(field))
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self, field: Optional[str]) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("NOT", "minus"):
            self.take()
            with self._nested(token):
                return Not(self.parse_unary(field))
        return self.parse_primary(field)

    def parse_primary(self, field: Optional[str]) -> Node:
        token = self.take()
        if token.kind == "lparen":
            with self._nested(token):
                node = self.parse_or(field)
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise _error(self.source, token.pos, "'(' is never closed")
            self.take()
            return node
        if token.kind == "field":
            with self._nested(token):
                return self.parse_primary(self._field(token, field))
        if token.kind in ("phrase", "word"):
            self._count_term(token)
            return Phrase(field, (token.text[1:-1],)) if token.kind == "phrase" else self._atom(token, field)
        raise _error(self.source, token.pos, f"expected a term, found {token.text!r}")

    @contextmanager
    def _nested(self, token: _Token) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(self.source, token.pos, f"the query nests more than {MAX_DEPTH} levels"
                         " (groups, NOTs and fields)")
        try:
            yield
        finally:
            self.depth -= 1

    def _count_term(self, token: _Token) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise _error(self.source, token.pos, f"the query has more than {MAX_TERMS} terms")

    def _field(self, token: _Token, outer: Optional[str]) -> str:
        name = token.text.lower()
        if name not in QUERY_FIELDS:
            known = ", ".join(sorted(QUERY_FIELDS))
            raise _error(self.source, token.pos, f"unknown field {name!r} (known: {known})")
        if outer is not None and outer != QUERY_FIELDS[name]:
            raise _error(self.source, token.pos, f"field {name!r} inside field {outer!r}")
        return QUERY_FIELDS[name]

    def _atom(self, token: _Token, field: Optional[str]) -> Node:
        text = token.text
        fuzzy = re.fullmatch(r"(.+?)~([12])?", text)
        if fuzzy:
            return Fuzzy(field, fuzzy.group(1), int(fuzzy.group(2) or 0))
        if text.startswith("*") and len(text) > 1:
            raise _error(self.source, token.pos, f"a word cannot start with '*' (no leading wildcards): {text!r}")
        if text.endswith("*") and len(text) > 1:
            return Prefix(field, text[:-1])
        if "*" in text or "~" in text:
            raise _error(self.source, token.pos, f"'*' and '~' go at the end of a word: {text!r}")
        return Word(field, text)


def parse_query(source: str) -> Node:
    """Parse a query string into a node tree (words still raw).

    Raises:
        QueryError: on a syntax error, with the column and a caret.
    """
    return _Parser(source).parse()


def _phrase_slots(phrase: Phrase) -> List[str]:
    """A phrase's words with `*` in its gaps: ["hepatitis", "*", "or", "c"]."""
    if not phrase.positions:
        return list(phrase.words)
    slots = ["*"] * (phrase.positions[-1] + 1)
    for word, position in zip(phrase.words, phrase.positions):
        slots[position] = word
    return slots


def render(node: Node) -> str:
    """A readable form of a node tree, as `--show-query` prints it."""
    if isinstance(node, (And, Or)):
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(render(item) for item in node.items) + ")"
    if isinstance(node, Not):
        return f"NOT {render(node.item)}"
    if isinstance(node, All):
        return "*:*"
    prefix = f"{node.field}:" if node.field else ""
    if isinstance(node, Phrase):
        return f'{prefix}"{" ".join(_phrase_slots(node))}"'
    if isinstance(node, Prefix):
        return f"{prefix}{node.text}*"
    if isinstance(node, Fuzzy):
        return f"{prefix}{node.text}~{node.distance}"
    if isinstance(node, Range):
        low = "*" if node.low is None else f"{node.low:g}"
        high = "*" if node.high is None else f"{node.high:g}"
        return f"{node.field}:[{low} TO {high}]"
    return f"{prefix}{node.text}"
