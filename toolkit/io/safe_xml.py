"""Safe XML parsing for the XML readers.

Registry dumps are untrusted input. The rule here is the one defusedxml
applies with `forbid_dtd=True`: a document with a DOCTYPE is refused. Without
a DTD no entity can be declared, so there is no external entity to fetch, no
external subset and no entity-expansion bomb; a reference to an undeclared
entity is a plain parse error. The refusal is the parser's own: every parser
made here has a tree builder whose `doctype` hook raises `UnsafeXMLError` the
moment expat meets the declaration, before its entities are declared,
wherever the DOCTYPE sits (a 1 MiB peek at the prolog only gives the early,
friendly message).

`parse_bytes` has the whole document, so it can do without the hook: when its
peek finds the root element's start tag right after the prolog, no DOCTYPE can
follow (expat refuses a declaration inside or after the root element as
malformed), and the document is parsed by the plain C tree builder, which
builds the tree with no per-element Python calls (the hooked builder is a
Python subclass: expat then calls its methods one by one, a fifth more time).
expat reads only encodings that keep ASCII's bytes for markup (UTF-8,
Latin-1 and other single-byte sets) or UTF-16, which the peek re-encodes, so
it sees the prolog the peek sees.

Public helpers:
- `root_tag(head)`: the name of the root element, for `sniff`;
- `check_prolog(head)`: raise `UnsafeXMLError` on a DOCTYPE;
- `parse_bytes(data)`: one whole document -> its root element;
- `iter_children(stream, tag=...)`: stream the children of the root, cleared
  as they go (for exports holding many records);
- `new_parser()`: the refusing parser, for callers that feed it themselves.
"""

from __future__ import annotations

import codecs
import gc
import re
import xml.etree.ElementTree as ET
from typing import BinaryIO, Iterator, Optional, Tuple

from toolkit.errors import UnsafeXMLError, XMLReadError

__all__ = [
    "XMLReadError", "UnsafeXMLError", "root_tag", "check_prolog", "parse_bytes",
    "iter_children", "describe_parse_error", "new_parser",
]

CHUNK_SIZE = 1 << 16
# Longest prolog (declaration, comments, processing instructions) read
# while looking for the root element.
MAX_PROLOG = 1 << 20

# Whitespace, the XML declaration, comments and processing instructions that
# may come before the DOCTYPE or the root element.
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_NAME = re.compile(rb"[^\s/>]+")
# An element's start tag: `<` and a name's first character (not `!` or `?`).
_START_TAG = re.compile(rb"<[^\s/>!?]")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


_DTD_REFUSED = "DTD (DOCTYPE) not allowed: entities and external subsets are refused"


class _NoDoctypeBuilder(ET.TreeBuilder):
    """The standard tree builder, whose `doctype` hook refuses the declaration.

    expat calls the hook at the start of a DOCTYPE, before any of its entity
    declarations is read; the builder stays the C one for everything else.
    """

    def doctype(self, name, pubid, system):  # noqa: D102 (the hook of XMLParser)
        raise UnsafeXMLError(_DTD_REFUSED)


def new_parser() -> ET.XMLParser:
    """An XML parser that refuses any DOCTYPE, wherever it is."""
    return ET.XMLParser(target=_NoDoctypeBuilder())


def root_tag(head: bytes) -> Optional[str]:
    """The name of the root element of a document, from its first bytes.

    A DOCTYPE is skipped here (so the reader can refuse it with a reason).

    Args:
        head: the first bytes of the document.

    Returns:
        The root element's name, or None when no element start is in `head`.
    """
    head = _as_utf8(head)
    pos = _skip_prolog(head)
    if head.startswith(b"<!DOCTYPE", pos):
        end = _doctype_end(head, pos)
        if end < 0:
            return None
        pos = _skip_prolog(head, end)
    if not head.startswith(b"<", pos):
        return None
    match = _NAME.match(head, pos + 1)
    return match.group().decode("utf-8", "replace") if match else None


def check_prolog(head: bytes) -> None:
    """Refuse a document whose prolog holds a DOCTYPE.

    Args:
        head: the start of the document, up to and including the root tag.

    Raises:
        UnsafeXMLError: the document declares a DTD.
    """
    head = _as_utf8(head)
    pos = _skip_prolog(head)
    if head.startswith(b"<!DOCTYPE", pos):
        raise UnsafeXMLError(_DTD_REFUSED)
    if _prolog_open(head, pos):
        raise XMLReadError("malformed XML: prolog unterminated or longer than 1 MiB")


def parse_bytes(data: bytes) -> ET.Element:
    """Parse one whole document safely.

    Args:
        data: the document's bytes.

    Returns:
        The root element.

    Raises:
        UnsafeXMLError: the document declares a DTD.
        XMLReadError: the document is malformed, truncated or mis-encoded.
    """
    head = data[:MAX_PROLOG]
    check_prolog(head)
    parser = ET.XMLParser() if _root_follows_prolog(head) else new_parser()
    collecting = gc.isenabled()
    gc.disable()  # the new elements are no garbage: a collection would only walk them
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        raise XMLReadError(describe_parse_error(exc)) from None
    finally:
        if collecting:
            gc.enable()


def iter_children(stream: BinaryIO, *, root: Optional[str] = None) -> Iterator[ET.Element]:
    """Stream the children of the root element of a large document.

    Each child is yielded complete and removed from the tree afterwards, so
    memory stays bounded by one child.

    Args:
        stream: a binary stream positioned at the start of the document.
        root: the expected name of the root element (None: any).

    Yields:
        Each complete element directly under the root, in document order.

    Raises:
        UnsafeXMLError: the document declares a DTD.
        XMLReadError: the root element is not `root`, or the document breaks
            off or is malformed; the children already yielded stay valid.
    """
    parser = ET.XMLPullParser(events=("start", "end"), _parser=new_parser())
    head = _read_head(stream)
    check_prolog(head)
    depth = 0
    top = None
    chunk = head
    while chunk:
        for event, elem in _feed(parser, chunk):
            if top is None and root is not None and elem.tag != root:
                raise XMLReadError(f"root element is <{elem.tag}>, expected <{root}>")
            depth, top, done = _track(event, elem, depth, top)
            if done is not None:
                yield done
                top.remove(done)
        chunk = stream.read(CHUNK_SIZE)
    _close(parser)


def describe_parse_error(exc: ET.ParseError) -> str:
    """One line naming what expat found and where."""
    line, column = getattr(exc, "position", (None, None))
    message = str(exc).split(":")[0]
    if "no element found" in message:
        message = "truncated XML (no element found)"
    elif "unclosed token" in message:
        message = "truncated XML (unclosed token)"
    return f"malformed XML: {message} at line {line}, column {column}"


# --- internals ---------------------------------------------------------------


def _track(event: str, elem: ET.Element, depth: int, root) -> Tuple[int, object, object]:
    """Follow start/end events; return a child of the root when it ends."""
    if event == "start":
        return depth + 1, root if depth else elem, None
    depth -= 1
    return depth, root, elem if depth == 1 else None


def _feed(parser: ET.XMLPullParser, chunk: bytes) -> list:
    """Feed a chunk; return its events (a parse error raised as ours)."""
    try:
        parser.feed(chunk)
        return list(parser.read_events())
    except ET.ParseError as exc:
        raise XMLReadError(describe_parse_error(exc)) from None


def _close(parser: ET.XMLPullParser) -> None:
    try:
        parser.close()
    except ET.ParseError as exc:
        raise XMLReadError(describe_parse_error(exc)) from None


def _read_head(stream: BinaryIO) -> bytes:
    """Read until the prolog is over (the root tag is in the buffer)."""
    head = stream.read(CHUNK_SIZE)
    while len(head) < MAX_PROLOG:
        utf8 = _as_utf8(head)
        pos = _skip_prolog(utf8)
        if not _prolog_open(utf8, pos) and pos + 9 < len(utf8):
            break
        more = stream.read(CHUNK_SIZE)
        if not more:
            break
        head += more
    return head


def _root_follows_prolog(head: bytes) -> bool:
    """Whether the prolog (no DOCTYPE in it) ends at an element's start tag within `head`."""
    head = _as_utf8(head)
    return _START_TAG.match(head, _skip_prolog(head)) is not None


def _prolog_open(data: bytes, pos: int) -> bool:
    """Whether an unterminated comment or PI runs past the end of `data`."""
    return data.startswith((b"<!--", b"<?"), pos)


def _skip_prolog(data: bytes, pos: int = 0) -> int:
    if data.startswith(codecs.BOM_UTF8, pos):
        pos += len(codecs.BOM_UTF8)
    return _PROLOG.match(data, pos).end()


def _doctype_end(data: bytes, pos: int) -> int:
    """End of a DOCTYPE declaration (internal subset included), or -1."""
    bracket = data.find(b"[", pos)
    close = data.find(b">", pos)
    if bracket != -1 and bracket < close:
        close = data.find(b"]", bracket)
        close = data.find(b">", close) if close != -1 else -1
    return close + 1 if close != -1 else -1


def _as_utf8(head: bytes) -> bytes:
    """Re-encode a UTF-16 head as UTF-8 so the byte patterns apply."""
    if head[:2] in _UTF16_BOMS or head[:2] in (b"<\x00", b"\x00<"):
        codec = "utf-16" if head[:2] in _UTF16_BOMS else (
            "utf-16-le" if head[:1] == b"<" else "utf-16-be")
        return head[: len(head) & ~1].decode(codec, "replace").encode("utf-8")
    return head
