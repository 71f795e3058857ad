"""A Whoosh codec that writes segments faster, read back by the stock codec.

When a segment is flushed, Whoosh's W3 codec looks up the field length of
every posting's document in the length column it has just written: one
seek and read per posting. `WriteCodec` reads each length column once into
a list instead, and hands each term's sorted postings to the posting writer
as whole blocks rather than through four method calls per posting (the
blocks and their statistics are the ones the stock writer makes). Segments it writes are tagged with the stock `W3Codec`, so
searchers open them exactly as before.

`install` makes the W3 codec pickle its posting blocks and term infos with
protocol 4 instead of 2: protocol 2 spells every bytes value (a posting's
positions) as a call to `_codecs.encode`, about 30 bytes before compression.
Any protocol reads back with the stock reader, to the same values.
"""

from __future__ import annotations

import pickle
from array import array

from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, W3PerDocReader, W3Segment, _lenfield
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
    """The stock W3 codec, but for the per-document reader and the field writer a flush uses."""

    def per_document_reader(self, storage, segment):
        return _LengthsInMemory(storage, segment)

    def field_writer(self, storage, segment):
        return _TermsAtOnce(self, storage, segment)

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

    def field_lengths(self, fieldname):
        """Every document's length of a field (None where Whoosh gives none), or None when it has none."""
        if self.doc_field_length(0, fieldname, default=False) is False:
            return None
        return self._lengths[fieldname]

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


class _TermsAtOnce(W3FieldWriter):
    """A W3 field writer that gathers each term's postings, then writes them a block at a time."""

    def add_postings(self, schema, lengths, items):
        """As `FieldWriter.add_postings`: sorted (field, term, document, weight, value) postings."""
        field = term = field_lengths = None
        ids, weights, values = [], [], []
        for fieldname, btext, docnum, weight, value in items:
            if btext != term or fieldname != field:
                if ids:
                    self._write_term(ids, weights, values, field_lengths)
                    ids, weights, values = [], [], []
                if fieldname != field:
                    if field is not None:
                        self.finish_field()
                    self.start_field(fieldname, schema[fieldname])
                    field, field_lengths = fieldname, lengths.field_lengths(fieldname) if lengths else None
                self.start_term(btext)
                term = btext
            ids.append(docnum)
            weights.append(weight)
            values.append(value)
        if ids:
            self._write_term(ids, weights, values, field_lengths)
        if field is not None:
            self.finish_field()

    def _write_term(self, ids, weights, values, field_lengths) -> None:
        """One term's postings as the blocks `W3PostingsWriter.add_posting` would fill, then its term info."""
        writer = self._postwriter
        limit = writer._blocklimit
        for start in range(0, len(ids), limit):
            if start:
                writer._write_block()
            block_ids, block_weights = ids[start:start + limit], weights[start:start + limit]
            writer._ids, writer._weights = array("I", block_ids), array("f", block_weights)
            writer._values = [value for value in values[start:start + limit] if value]
            writer._maxweight = max(0, max(block_weights))
            known = [n for n in map(field_lengths.__getitem__, block_ids) if n] if field_lengths else ()
            writer._minlength, writer._maxlength = (min(known), max(known)) if known else (None, 0)
        self.finish_term()
