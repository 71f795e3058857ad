"""A Whoosh segment writer for the engine's documents, with less work per posting.

`SegmentWriter.add_document` looks up boosts, spelling, vectors and
`_stored_` overrides for every field of every document (two string
formats per field), and adds each posting to the pool with its own call
and size estimate. The engine's documents use none of those features:
`PlainWriter` adds a document's postings to the pool in one step. The pool
sorts the same postings, so the segment written is the same.
"""

from __future__ import annotations

from whoosh.writing import SegmentWriter

__all__ = ["PlainWriter"]

# What the pool counts against its memory limit per posting (Whoosh's estimate for a short term).
_POSTING_BYTES = 200


class PlainWriter(SegmentWriter):
    """A SegmentWriter for documents without boosts (`_boost`, `_FIELD_boost`) or `_stored_FIELD` values,
    in a schema without spelling or vector fields."""

    def add_document(self, **fields):
        self._check_state()
        perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
        postings = []
        perdocwriter.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                scorable = field.scorable
                for tbytes, freq, weight, vbytes in field.index(value):
                    if scorable:
                        length += freq
                    postings.append((fieldname, tbytes, docnum, weight, vbytes))
            perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
            if field.column_type:
                perdocwriter.add_column_value(fieldname, field.column_type, field.to_column_value(value))
        perdocwriter.finish_doc()
        self._pool_postings(postings)
        self._added = True
        self.docnum += 1

    def _pool_postings(self, postings: list) -> None:
        """Add a document's postings to the pool, saving a sorted run first when the pool is full."""
        pool = self.pool
        if pool.currentsize > pool.limit:
            pool.save()
        pool.current.extend(postings)
        pool.currentsize += len(postings) * _POSTING_BYTES  # (its field names are only read by multiproc writers)
