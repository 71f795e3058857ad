"""Shared CLI output: tables, --json / --jsonl / --csv, progress on stderr.

Data goes to stdout, progress and messages to stderr, so `--json` and
`--jsonl` output stay machine-readable. Every command offers the same
switches through the `output_options` and `quiet_option` decorators.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
import time
from typing import Any, Iterable, Mapping, Optional, Sequence, TextIO

import click

__all__ = [
    "Progress", "emit", "emit_json", "emit_jsonl", "format_record", "format_table", "message",
    "output_format", "output_options", "quiet_option",
]

FORMATS = ("table", "json", "jsonl", "csv")
MAX_CELL = 60


def output_options(command):
    """Add `--json`, `--jsonl` and `--csv` to a command, passed on as `fmt`."""

    @click.option("--csv", "as_csv", is_flag=True, help="Output CSV with a header row.")
    @click.option("--jsonl", "as_jsonl", is_flag=True, help="Output one JSON object per line.")
    @click.option("--json", "as_json", is_flag=True, help="Output one JSON document.")
    @functools.wraps(command)
    def wrapper(*args, as_json: bool, as_jsonl: bool, as_csv: bool, **kwargs):
        kwargs["fmt"] = output_format(json=as_json, jsonl=as_jsonl, csv=as_csv)
        return command(*args, **kwargs)

    return wrapper


def quiet_option(command):
    """Add `--quiet/-q`: no progress bar, no summary unless something failed."""
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress output on stderr.")(command)


def output_format(*, json: bool = False, jsonl: bool = False, csv: bool = False) -> str:
    """The one output format chosen by the flags (table when none).

    Raises:
        click.UsageError: more than one flag given.
    """
    chosen = [name for name, on in (("json", json), ("jsonl", jsonl), ("csv", csv)) if on]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --json, --jsonl, --csv")
    return chosen[0] if chosen else "table"


def message(text: str) -> None:
    """A message for the user, on stderr."""
    click.echo(text, err=True)


def emit_json(document: Any, *, file: Optional[TextIO] = None) -> None:
    """One indented JSON document on stdout."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str), file=file)


def emit_jsonl(rows: Iterable[Any], *, file: Optional[TextIO] = None) -> None:
    """One compact JSON object per line."""
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str),
                   file=file)


def emit(rows: Sequence[Mapping], *, fmt: str, columns: Optional[Sequence[str]] = None,
         file: Optional[TextIO] = None) -> None:
    """Write rows (dicts) as a table, JSON, JSON lines or CSV.

    Args:
        rows: the data, one dict per row.
        fmt: one of table, json, jsonl, csv.
        columns: the keys to show (table and CSV); all keys of the first row by default.
        file: where to write (stdout by default).
    """
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        emit_json(list(rows), file=file)
    elif fmt == "jsonl":
        emit_jsonl(rows, file=file)
    elif fmt == "csv":
        writer = csv.DictWriter(file or sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({c: _cell(r.get(c), limit=None) for c in columns} for r in rows)
    else:
        click.echo(format_table(rows, columns), file=file)


def _cell(value: Any, *, limit: Optional[int] = MAX_CELL) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    text = " ".join(str(value).split())
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def format_table(rows: Sequence[Mapping], columns: Sequence[str]) -> str:
    """An aligned plain-text table with a header row and a rule under it."""
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(columns), rule] + [line(row) for row in cells])


class Progress:
    """A progress line on stderr: count, rate and failures; a context manager.

    Redrawn in place at most every `interval` seconds when stderr is a
    terminal; silent when `quiet` or when stderr is not a terminal.
    """

    def __init__(self, label: str, *, quiet: bool = False, unit: str = "records",
                 interval: float = 0.2, stream: Optional[TextIO] = None):
        self.label = label
        self.unit = unit
        self.interval = interval
        self.stream = stream or sys.stderr
        self.enabled = not quiet and _is_tty(self.stream)
        self.count = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._drawn = 0.0

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.enabled and self._drawn:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def update(self, n: int = 1, *, failed: int = 0) -> None:
        """Count `n` more items (and `failed` failures); redraw if due."""
        self.count += n
        self.failed += failed
        now = time.perf_counter()
        if self.enabled and now - self._drawn >= self.interval:
            self._drawn = now
            self._draw()

    @property
    def rate(self) -> float:
        """Items per second so far."""
        elapsed = time.perf_counter() - self.started
        return self.count / elapsed if elapsed > 0 else 0.0

    def _draw(self) -> None:
        text = f"\r{self.label}: {self.count:,} {self.unit}  {self.rate:,.0f}/s"
        if self.failed:
            text += f"  {self.failed:,} failed"
        self.stream.write(text)
        self.stream.flush()


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- a readable view of one record --------------------------------------------

def format_record(record, *, versions: Sequence = ()) -> str:
    """A readable text view of a `TrialRecord`: key fields, sections, criteria, tags.

    Args:
        record: the record to show.
        versions: its stored versions (`store.VersionInfo`), listed when given.
    """
    lines = _record_header(record)
    lines += _record_fields(record)
    if versions:
        lines.append("Versions:")
        lines += [f"  {v.seq}{'*' if v.latest else ' '} {v.version_date or '-':<10} "
                  f"{v.content_hash[:10]}  {v.version or ''}".rstrip() for v in versions]
    if record.sections:
        lines.append("Sections:")
        lines += [f"  {s.heading} ({len(s.text):,} chars)" for s in record.sections]
    lines += _eligibility_lines(record.eligibility)
    return "\n".join(lines)


def _record_header(record) -> list:
    head = f"{record.trial_id}  [{record.registry}]"
    if record.version:
        head += f"  version {record.version}"
    if record.content_hash:
        head += f"  hash {record.content_hash[:10]}"
    return [head, "=" * len(head)]


def _record_fields(record) -> list:
    enrollment = record.enrollment
    pairs = [
        ("Title", record.title), ("Official title", record.official_title),
        ("Status", record.status), ("Phases", record.phases), ("Study type", record.study_type),
        ("Enrollment", enrollment and " ".join(
            str(v) for v in (enrollment.count, enrollment.type) if v is not None)),
        ("Start", record.start_date), ("Primary completion", record.primary_completion_date),
        ("Completion", record.completion_date), ("Last updated", record.last_updated),
        ("Conditions", record.conditions),
        ("Interventions", [f"{i.name} ({i.type})" if i.type else i.name
                           for i in record.interventions]),
        ("Sponsors", [s.name for s in record.sponsors]),
        ("Outcomes", f"{len(record.outcomes)}" if record.outcomes else None),
        ("Locations", f"{len(record.locations)}" if record.locations else None),
    ]
    width = max(len(k) for k, _ in pairs) + 1
    return [f"{(key + ':').ljust(width)} {_cell(value, limit=100)}"
            for key, value in pairs if value not in (None, "", (), [])]


def _eligibility_lines(eligibility) -> list:
    if eligibility is None:
        return []
    low, high = (age.text if age else None for age in (eligibility.min_age, eligibility.max_age))
    facts = [f"min age {low}" if low else "", f"max age {high}" if high else "",
             f"sex {eligibility.sex}" if eligibility.sex else "",
             "healthy volunteers" if eligibility.healthy_volunteers else ""]
    lines = ["Eligibility: " + ", ".join(f for f in facts if f)]
    if eligibility.criteria:
        lines.append("Criteria:")
        for criterion in eligibility.criteria:
            lines += _criterion_lines(criterion, depth=1)
    return lines


def _criterion_lines(criterion, *, depth: int) -> list:
    pad = "  " * depth
    category = f" ({criterion.category})" if criterion.category else ""
    lines = [f"{pad}{criterion.id} [{criterion.polarity}]{category} {_cell(criterion.text, limit=160)}"]
    for tag in criterion.tags:
        lines.append(f"{pad}    · {tag.label}: {tag.text!r}{_tag_detail(tag)}")
    for child in criterion.children:
        lines += _criterion_lines(child, depth=depth + 1)
    return lines


def _tag_detail(tag) -> str:
    parts = [f"norm={tag.norm}" if tag.norm else ""]
    if tag.relation or tag.days is not None:
        window = " ".join(str(v) for v in (tag.relation, tag.amount, tag.unit) if v is not None)
        if tag.days is not None:
            window += f" = {tag.days:g} days"
        window += " ".join(["", tag.direction or "", tag.anchor or ""]).rstrip()
        parts.append(window)
    if tag.bounds:
        parts.append(f"bounds={tag.bounds}")
    detail = "; ".join(p for p in parts if p)
    return f" ({detail})" if detail else ""
