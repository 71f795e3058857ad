"""A Whoosh segment writer for the engine's documents, with less work per posting.

`SegmentWriter.add_document` looks up boosts, spelling, vectors and
`_stored_` overrides for every field of every document (two string
formats per field), and adds each posting to the pool with its own call
and size estimate. The engine's documents use none of those features:
`PlainWriter` adds a document's postings to the pool in one step.

When the pool is full it saves a sorted run to a temporary file; Whoosh
pickles each posting on its own there and unpickles it in the final merge,
about as costly as the rest of the flush. `ChunkedPool` marshals runs in
chunks of postings instead. The pool sorts the same postings either way, so
the segment written is the same.
"""

from __future__ import annotations

import marshal
import struct
from itertools import islice

from whoosh.writing import PostingPool, SegmentWriter

__all__ = ["PlainWriter", "ChunkedPool"]

# What the pool counts against its memory limit for a posting, besides its field name, term and value
# (`PostingPool.add`'s estimate).
_POSTING_BYTES = 150
# Postings per marshalled chunk of a run (the final merge holds one chunk of every run), and its length prefix.
_CHUNK = 2000
_LENGTH = struct.Struct("<I")


class ChunkedPool(PostingPool):
    """Whoosh's posting pool, its runs written and read a chunk of postings at a time."""

    def _write_run(self, f, items):
        items = iter(items)
        while True:
            chunk = list(islice(items, _CHUNK))
            if not chunk:
                break
            data = marshal.dumps(chunk)
            f.write(_LENGTH.pack(len(data)) + data)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                prefix = f.read(_LENGTH.size)
                if not prefix:
                    return
                yield from marshal.loads(f.read(_LENGTH.unpack(prefix)[0]))
        finally:
            f.close()
            self._remove_run(path)


class PlainWriter(SegmentWriter):
    """A SegmentWriter for documents without boosts (`_boost`, `_FIELD_boost`) or `_stored_FIELD` values,
    in a schema without spelling or vector fields."""

    def __init__(self, ix, *, limitmb: int = 128, **kwargs):
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = ChunkedPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def add_document(self, **fields):
        self._check_state()
        perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
        postings, size = [], 0
        perdocwriter.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                scorable, added = field.scorable, len(postings)
                for tbytes, freq, weight, vbytes in field.index(value):
                    if scorable:
                        length += freq
                    size += 2 * len(tbytes) + len(vbytes)
                    postings.append((fieldname, tbytes, docnum, weight, vbytes))
                size += (len(postings) - added) * (_POSTING_BYTES + len(fieldname))
            perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type:
                perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        perdocwriter.finish_doc()
        self._pool_postings(postings, size)
        self._added = True
        self.docnum += 1

    def _pool_postings(self, postings: list, size: int) -> None:
        """Add a document's postings (`size` estimated bytes) to the pool, saving a sorted run first when
        they would overfill it."""
        pool = self.pool
        if pool.currentsize + size > pool.limit:
            pool.save()
        pool.current.extend(postings)
        pool.currentsize += size  # (the pool's field names are only read by multiproc writers)
