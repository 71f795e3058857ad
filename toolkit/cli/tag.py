"""`ptk tag FILE... [--jsonl]` and `ptk tag -`: tag the criteria of plain-text files.

Each non-blank line is tagged as one criterion; offsets count the characters
of the file exactly as stored (CRLF included), so `text[start:end]` of the
file gives back the tagged text.
"""

from __future__ import annotations

import sys

import click

from toolkit.cli.options import library_errors
from toolkit.errors import InputError
from toolkit.nlp.lines import tag_lines
from toolkit.cli.output import emit, emit_jsonl, message

__all__ = ["tag"]

_COLUMNS = ["file", "start", "end", "label", "text", "norm", "detail"]
_DETAIL_FIELDS = (
    "relation", "amount", "unit", "days", "low_days", "high_days", "direction", "anchor",
    "bounds", "measurement", "comparator", "number", "low", "high", "cue",
)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--jsonl", "as_jsonl", is_flag=True, help="One JSON object per tag (with its file).")
@library_errors
def tag(paths, as_jsonl):
    """Tag drugs, conditions, time windows and values in text files ('-' for stdin).

    Every non-blank line is one criterion; offsets count the file's characters as stored.
    """
    failed = False
    for path in paths:
        try:
            rows = [_row(path, tag_) for tag_ in tag_lines(_read(path))]
        except InputError as exc:
            message(f"failed: {exc.describe()}")
            failed = True
            continue
        if as_jsonl:
            emit_jsonl(rows)
        else:
            emit([_table_row(row) for row in rows], fmt="table", columns=_COLUMNS)
    if failed:
        raise SystemExit(1)


def _read(path: str) -> str:
    """The text of a file (or stdin for '-') exactly as stored, CRLF included."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                data = handle.read()
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(None if path == "-" else path, f"cannot read as UTF-8 text: {exc}") from None


def _row(path: str, tag_) -> dict:
    return {"file": "<stdin>" if path == "-" else path, **tag_.to_dict()}


def _table_row(row: dict) -> dict:
    detail = " ".join(f"{key}={row[key]}" for key in _DETAIL_FIELDS if key in row)
    if row.get("negated"):
        detail = ("negated " + detail).strip()
    if row.get("code"):
        detail = (f"code={row['code']} " + detail).strip()
    return {**{key: row.get(key, "") for key in _COLUMNS if key != "detail"}, "detail": detail}
