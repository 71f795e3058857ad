"""Whoosh column types that keep per-document values in fewer bytes.

`StoredBlocks` holds what a hit returns (its stored fields, a dict): Whoosh
compresses each document's pickled dict on its own, which gains little on a
few hundred bytes that repeat their neighbours' field names and trial-level
values (title, status, countries). Here documents are pickled and compressed
`per_block` at a time; reading one decompresses its block, and the reader
keeps the last block for the next read (a trial's hits are neighbours).

`DistinctBytes` holds a value that many documents share (their facet
terms): each distinct value once, and per document its number.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from array import array

from whoosh import columns as wc

__all__ = ["StoredBlocks", "DistinctBytes"]

_OFFSET = struct.Struct("<Q")
_TRAILER = struct.Struct("<II")  # documents per block, number of block offsets


class StoredBlocks(wc.Column):
    """A picklable value per document (None when absent), compressed in blocks of documents."""

    _default = None

    def __init__(self, per_block: int = 16, level: int = 6):
        self.per_block = per_block
        self.level = level

    def writer(self, dbfile):
        return _BlocksWriter(dbfile, self.per_block, self.level)

    def reader(self, dbfile, basepos, length, doccount):
        return _BlocksReader(dbfile, basepos, length, doccount)


class _BlocksWriter(wc.ColumnWriter):
    """Blocks of pickled values, then each block's start offset (and the end), then the trailer."""

    def __init__(self, dbfile, per_block: int, level: int):
        super().__init__(dbfile)
        self._per_block, self._level = per_block, level
        self._block: list = []
        self._offsets = [0]

    def add(self, docnum, value):
        self._fill(docnum)
        self._append(value)

    def _fill(self, docnum: int) -> None:
        while self._count < docnum:
            self._append(None)

    def _append(self, value) -> None:
        self._block.append(value)
        self._count += 1
        if len(self._block) == self._per_block:
            self._emit()

    def _emit(self) -> None:
        data = zlib.compress(pickle.dumps(self._block, 4), self._level)
        self._dbfile.write(data)
        self._offsets.append(self._offsets[-1] + len(data))
        self._block = []

    def finish(self, doccount):
        self._fill(doccount)
        if self._block:
            self._emit()
        for offset in self._offsets:
            self._dbfile.write(_OFFSET.pack(offset))
        self._dbfile.write(_TRAILER.pack(self._per_block, len(self._offsets)))


class _BlocksReader(wc.ColumnReader):
    """Values of a `StoredBlocks` column; block offsets are read when a block is."""

    def __init__(self, dbfile, basepos, length, doccount):
        super().__init__(dbfile, basepos, length, doccount)
        trailer = basepos + length - _TRAILER.size
        self._per_block, entries = _TRAILER.unpack(dbfile.get(trailer, _TRAILER.size))
        self._offsets_at = trailer - entries * _OFFSET.size
        self._block_number, self._values = -1, []

    def __getitem__(self, docnum):
        if not 0 <= docnum < self._doccount:
            raise IndexError(docnum)
        number, slot = divmod(docnum, self._per_block)
        if number != self._block_number:
            start, end = struct.unpack("<2Q", self._dbfile.get(self._offsets_at + number * _OFFSET.size, 16))
            self._values = pickle.loads(zlib.decompress(self._dbfile.get(self._basepos + start, end - start)))
            self._block_number = number
        return self._values[slot]

    def __iter__(self):
        for docnum in range(self._doccount):
            yield self[docnum]


class DistinctBytes(wc.Column):
    """A bytes value per document (b"" when absent), each distinct value stored once."""

    _default = b""

    def writer(self, dbfile):
        return _DistinctWriter(dbfile)

    def reader(self, dbfile, basepos, length, doccount):
        return _DistinctReader(dbfile, basepos, length, doccount)


class _DistinctWriter(wc.ColumnWriter):
    """The documents' value numbers (an array of the narrowest type), the values, the trailer."""

    def __init__(self, dbfile):
        super().__init__(dbfile)
        self._numbers = {b"": 0}
        self._refs = array("I")

    def add(self, docnum, value):
        self._fill(docnum)
        self._refs.append(self._numbers.setdefault(value, len(self._numbers)))
        self._count += 1

    def _fill(self, docnum: int) -> None:
        while self._count < docnum:
            self._refs.append(0)
            self._count += 1

    def finish(self, doccount):
        self._fill(doccount)
        typecode = "B" if len(self._numbers) <= 0xFF else "H" if len(self._numbers) <= 0xFFFF else "I"
        self._dbfile.write_array(array(typecode, self._refs))
        values = pickle.dumps(list(self._numbers), 4)
        self._dbfile.write(values)
        self._dbfile.write(struct.pack("<cQ", typecode.encode("ascii"), len(values)))


class _DistinctReader(wc.ColumnReader):
    """Values of a `DistinctBytes` column, all numbers and values read at once."""

    _TAIL = struct.Struct("<cQ")

    def __init__(self, dbfile, basepos, length, doccount):
        super().__init__(dbfile, basepos, length, doccount)
        tail = basepos + length - self._TAIL.size
        typecode, size = self._TAIL.unpack(dbfile.get(tail, self._TAIL.size))
        self._values = pickle.loads(dbfile.get(tail - size, size))
        self._refs = dbfile.get_array(basepos, typecode.decode("ascii"), doccount)

    def __getitem__(self, docnum):
        return self._values[self._refs[docnum]]

    def __iter__(self):
        values = self._values
        return (values[ref] for ref in self._refs)
