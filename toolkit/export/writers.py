"""Table writers: Parquet (pyarrow), CSV and SQLite, all streaming.

A writer takes rows table by table in batches (`write(table, rows)`) and
keeps at most one batch per table in memory: Parquet writes one row group
per batch, CSV appends lines, SQLite inserts in one transaction per batch.
Files are written under a temporary name and renamed on `close()`, so an
interrupted export leaves no half-written table behind.
"""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path
from typing import Dict, Iterable, List, Sequence

from toolkit.errors import ExportError
from toolkit.export.tables import Table

__all__ = ["WRITERS", "ExportError", "TableWriter", "open_writer"]

_SQL_TYPES = {"string": "TEXT", "int64": "INTEGER", "float64": "REAL", "bool": "INTEGER"}


class TableWriter:
    """Base of the writers: one output per table, committed on `close()`."""

    suffix = ""

    def __init__(self, folder: Path, tables: Sequence[Table]):
        self.folder = Path(folder)
        self.tables = {t.name: t for t in tables}
        self.rows: Dict[str, int] = {t.name: 0 for t in tables}

    def write(self, table: str, rows: List[tuple]) -> None:
        """Append a batch of rows (tuples in column order) to a table."""
        self.rows[table] += len(rows)
        self._write(self.tables[table], rows)

    def _write(self, table: Table, rows: List[tuple]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish every table and move it into place."""

    def abort(self) -> None:
        """Drop what was written."""

    def path_of(self, table: str) -> Path:
        """Where a table ends up."""
        return self.folder / f"{table}{self.suffix}"


class ParquetWriter(TableWriter):
    """One `<table>.parquet` per table, one row group per batch (pyarrow)."""

    suffix = ".parquet"

    def __init__(self, folder: Path, tables: Sequence[Table]):
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise ExportError("Parquet export needs pyarrow: pip install pyarrow") from None
        super().__init__(folder, tables)
        self._writers: Dict[str, object] = {}
        self._schemas = {t.name: _arrow_schema(t) for t in tables}

    def _writer(self, table: Table):
        import pyarrow.parquet as pq

        if table.name not in self._writers:
            self._writers[table.name] = pq.ParquetWriter(
                _tmp(self.path_of(table.name)), self._schemas[table.name], compression="snappy")
        return self._writers[table.name]

    def _write(self, table: Table, rows: List[tuple]) -> None:
        import pyarrow as pa

        schema = self._schemas[table.name]
        columns = list(zip(*rows)) if rows else [()] * len(table.columns)
        arrays = [pa.array(col, type=field.type) for col, field in zip(columns, schema)]
        self._writer(table).write_table(pa.Table.from_arrays(arrays, schema=schema))

    def close(self) -> None:
        for table in self.tables.values():
            self._writer(table).close()  # a table without rows still gets its file and schema
            os.replace(_tmp(self.path_of(table.name)), self.path_of(table.name))

    def abort(self) -> None:
        for name, writer in self._writers.items():
            writer.close()
            _tmp(self.path_of(name)).unlink(missing_ok=True)


def _arrow_schema(table: Table):
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    return pa.schema([pa.field(c.name, types[c.type]) for c in table.columns])


class CsvWriter(TableWriter):
    """One `<table>.csv` per table, UTF-8 with a header row; null is an empty cell."""

    suffix = ".csv"

    def __init__(self, folder: Path, tables: Sequence[Table]):
        super().__init__(folder, tables)
        self._files = {}
        for table in tables:
            handle = open(_tmp(self.path_of(table.name)), "w", encoding="utf-8", newline="")
            writer = csv.writer(handle)
            writer.writerow(table.names)
            self._files[table.name] = (handle, writer)

    def _write(self, table: Table, rows: List[tuple]) -> None:
        self._files[table.name][1].writerows(rows)

    def close(self) -> None:
        for name, (handle, _) in self._files.items():
            handle.close()
            os.replace(_tmp(self.path_of(name)), self.path_of(name))

    def abort(self) -> None:
        for name, (handle, _) in self._files.items():
            handle.close()
            _tmp(self.path_of(name)).unlink(missing_ok=True)


class SqliteWriter(TableWriter):
    """All tables in one `ptk_export.sqlite`, typed columns, one transaction per batch."""

    suffix = ".sqlite"
    FILENAME = "ptk_export.sqlite"

    def __init__(self, folder: Path, tables: Sequence[Table]):
        super().__init__(folder, tables)
        self._tmp = _tmp(self.folder / self.FILENAME)
        self._tmp.unlink(missing_ok=True)
        self._db = sqlite3.connect(str(self._tmp), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        for table in tables:
            columns = ", ".join(f'"{c.name}" {_SQL_TYPES[c.type]}' for c in table.columns)
            self._db.execute(f'CREATE TABLE "{table.name}" ({columns})')
        self._insert = {t.name: f'INSERT INTO "{t.name}" VALUES ({",".join("?" * len(t.columns))})'
                        for t in tables}

    def path_of(self, table: str) -> Path:
        return self.folder / self.FILENAME

    def _write(self, table: Table, rows: List[tuple]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany(self._insert[table.name], rows)
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
        os.replace(self._tmp, self.folder / self.FILENAME)

    def abort(self) -> None:
        self._db.close()
        self._tmp.unlink(missing_ok=True)


WRITERS = {"parquet": ParquetWriter, "csv": CsvWriter, "sqlite": SqliteWriter}


def open_writer(fmt: str, folder: Path, tables: Iterable[Table]) -> TableWriter:
    """A writer of format `fmt` (parquet, csv, sqlite) into `folder` (created).

    Raises:
        ExportError: unknown format, missing library or unwritable folder.
    """
    if fmt not in WRITERS:
        raise ExportError(f"unknown export format {fmt!r}; known: {', '.join(WRITERS)}")
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return WRITERS[fmt](Path(folder), list(tables))
    except OSError as exc:
        raise ExportError(f"{folder}: cannot write the export ({exc})") from None


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + ".part")
