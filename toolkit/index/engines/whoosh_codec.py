"""A Whoosh codec that writes segments faster, read back by the stock codec.

When a segment is flushed, Whoosh's W3 codec looks up the field length of
every posting's document in the length column it has just written: one
seek and read per posting. `WriteCodec` reads each length column once into
a list instead. Segments it writes are tagged with the stock `W3Codec`, so
searchers open them exactly as before.

`install` makes the W3 codec pickle its posting blocks and term infos with
protocol 4 instead of 2: protocol 2 spells every bytes value (a posting's
positions) as a call to `_codecs.encode`, about 30 bytes before compression.
Any protocol reads back with the stock reader, to the same values.
"""

from __future__ import annotations

import pickle

from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, W3Segment, _lenfield
from whoosh.util.numeric import byte_to_length

__all__ = ["WriteCodec", "install"]

_PROTOCOL = 4


def _dumps(value, protocol=None) -> bytes:
    """`pickle.dumps` at `_PROTOCOL`, whatever protocol the codec asks for."""
    return pickle.dumps(value, _PROTOCOL)


def install() -> None:
    """Pickle W3 posting blocks and term infos at `_PROTOCOL` (idempotent; reading is unchanged)."""
    whoosh3.dumps = _dumps


class WriteCodec(W3Codec):
    """The stock W3 codec, but for the per-document reader a flush uses."""

    def per_document_reader(self, storage, segment):
        return _LengthsInMemory(storage, segment)

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(), indexname)


class _LengthsInMemory(W3PerDocReader):
    """A per-document reader answering field lengths from whole columns read once."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._lengths = {}

    def doc_field_length(self, docnum, fieldname, default=0):
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = self._read_lengths(fieldname)
        if lengths is False:
            return default
        return lengths[docnum]

    def _read_lengths(self, fieldname):
        """Every document's length of a field (None where Whoosh gives none), or False."""
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None:
            return False
        return [_LENGTHS[code] for code in _column_bytes(reader)]


# length byte -> length, as W3PerDocReader.doc_field_length answers (None for 0)
_LENGTHS = [byte_to_length(code) if code else None for code in range(256)]


def _column_bytes(reader) -> bytes:
    """A one-byte-per-document column read whole (documents past its end take the default)."""
    stored = reader._dbfile.get(reader._basepos, reader._count)
    return stored + bytes([reader._default]) * (reader._doccount - reader._count)
