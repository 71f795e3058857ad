"""A readable terminal diff: events first, then the detail.

Colours come from `click.style` and are dropped by `click.echo` when the
output is not a terminal, so the same text pipes cleanly.
"""

from __future__ import annotations

from typing import Callable, Iterable, List, Optional

import click

from toolkit.diff.model import CriterionChange, OutcomeChange, RecordDiff, WordOp

__all__ = ["render_text", "render_words"]

_MARK = {"added": ("+", "green"), "removed": ("-", "red"), "modified": ("~", "yellow"),
         "moved": (">", "cyan"), "unchanged": (" ", None)}


def render_text(diff: RecordDiff, *, show_unchanged: bool = False, show_cosmetic: Optional[bool] = None) -> str:
    """The diff as styled text lines (events, fields, texts, criteria, outcomes).

    In every block substantive changes come first; cosmetic ones are folded
    into one line naming them, unless `show_cosmetic` (default: `show_unchanged`).
    """
    expand = show_unchanged if show_cosmetic is None else show_cosmetic
    lines = [click.style(f"{diff.registry}:{diff.trial_id}  {diff.old.heading()} -> {diff.new.heading()}", bold=True)]
    if not diff.changed:
        return "\n".join(lines + ["  no changes"])
    if diff.significance == "cosmetic":
        lines.append(click.style("  cosmetic changes only", dim=True))
    lines += _section("Events", diff.events, lambda e: [f"  * {e.message}"], lambda e: e.kind, expand)
    lines += _section("Fields", diff.fields, lambda f: [_field_line(f)], lambda f: f.field, expand)
    lines += _section("Texts", diff.texts, lambda t: [f"  ~ {t.field} ({t.status}): {render_words(t.words, limit=400)}"],
                      lambda t: t.field, expand)
    shown = diff.criteria if show_unchanged else diff.changed_criteria
    lines += _section("Criteria", shown, _criterion_lines, lambda c: c.new_id or c.old_id or "?", expand)
    outcomes = diff.outcomes if show_unchanged else diff.changed_outcomes
    lines += _section("Outcomes", outcomes, _outcome_lines, lambda o: _short(o.new_measure or o.old_measure, 40), expand)
    return "\n".join(lines)


def _section(title: str, items, render: Callable, name: Callable, expand: bool) -> List[str]:
    """A block: substantive items, unchanged ones, then cosmetic ones (or one line naming them)."""
    ordered = [i for i in items if i.significance == "substantive"] + [i for i in items if i.significance is None]
    lines = [line for item in ordered for line in render(item)]
    cosmetic = [i for i in items if i.significance == "cosmetic"]
    if cosmetic and expand:
        lines += [click.style(line, dim=True) for item in cosmetic for line in render(item)]
    elif cosmetic:
        names = ", ".join(dict.fromkeys(str(name(i)) for i in cosmetic))
        lines.append(click.style(f"  ({len(cosmetic)} cosmetic: {_short(names, 160)}; --all shows them)", dim=True))
    return _block(title, lines)


def _block(title: str, lines: List[str]) -> List[str]:
    return ["", click.style(title, bold=True, underline=True)] + lines if lines else []


def _field_line(f) -> str:
    if isinstance(f.before, (dict, list)) or isinstance(f.after, (dict, list)):
        if f.part == "other":
            return f"  {f.field}:\n" + "\n".join(f"      ~ {line}" for line in leaf_changes(f.before, f.after))
    if f.added or f.removed or isinstance(f.after, list):
        parts = [click.style(f"+ {a}", fg="green") for a in f.added]
        parts += [click.style(f"- {r}", fg="red") for r in f.removed]
        for before, after in zip(f.before or (), f.after or ()):
            parts.append(f"~ {click.style(_short(before), fg='red')} -> {click.style(_short(after), fg='green')}")
        return f"  {f.field}:\n" + "\n".join(f"      {p}" for p in parts)
    before, after = _short(f.before), _short(f.after)
    return f"  {f.field}: {click.style(before, fg='red')} -> {click.style(after, fg='green')}"


def leaf_changes(before, after, *, limit: int = 8) -> List[str]:
    """`path: old -> new` for the scalar leaves that differ in two JSON values."""
    lines: List[str] = []
    _leaves(before, after, "", lines)
    more = len(lines) - limit
    return lines[:limit] + ([f"... {more} more"] if more > 0 else [])


def _leaves(a, b, path: str, out: List[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            _leaves(a.get(key), b.get(key), f"{path}.{key}" if path else str(key), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _leaves(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path or '(value)'}: {click.style(_short(a, 80), fg='red')} -> "
                   f"{click.style(_short(b, 80), fg='green')}")


def _short(value, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _criterion_lines(c: CriterionChange) -> List[str]:
    mark, colour = _MARK[c.status]
    ident = c.new_id or c.old_id
    if c.status in ("added", "removed"):
        text = c.new_text if c.status == "added" else c.old_text
        polarity = c.new_polarity if c.status == "added" else c.old_polarity
        return [click.style(f"  {mark} {ident} [{polarity}] {text}", fg=colour)]
    head = f"  {mark} {c.old_id}->{c.new_id}" if c.old_id != c.new_id else f"  {mark} {ident}"
    moved = f" moved({', '.join(c.moved)})" if c.moved else ""
    score = f" {c.similarity:.0f}%" if c.status == "modified" and c.similarity is not None else ""
    body = render_words(c.words) if c.words else c.new_text
    lines = [click.style(head + moved + score, fg=colour) + f" {body}"]
    lines += [f"      {t.label} {t.change}: {_tag_values(t)}" for t in c.tags]
    return lines


def _tag_values(tag) -> str:
    if tag.change == "added":
        return str(tag.after)
    if tag.change == "removed":
        return str(tag.before)
    return f"{tag.before} -> {tag.after}"


def _outcome_lines(o: OutcomeChange) -> List[str]:
    mark, colour = _MARK[o.status]
    if o.status in ("added", "removed"):
        kind = o.new_kind if o.status == "added" else o.old_kind
        measure = o.new_measure if o.status == "added" else o.old_measure
        frame = o.new_time_frame if o.status == "added" else o.old_time_frame
        return [click.style(f"  {mark} [{kind}] {measure}" + (f" [{frame}]" if frame else ""), fg=colour)]
    lines = [click.style(f"  {mark} [{o.old_kind}->{o.new_kind}] ", fg=colour)
             + (render_words(o.words) if o.words else str(o.new_measure))]
    if "time_frame" in o.changes:
        lines.append(f"      time frame: {click.style(str(o.old_time_frame), fg='red')} -> "
                     f"{click.style(str(o.new_time_frame), fg='green')}")
    if "description" in o.changes:
        lines.append("      description changed")
    return lines


def render_words(words: Iterable[WordOp], *, limit: int = 0) -> str:
    """Word ops inline: deletions `[-red-]`, insertions `{+green+}` (git's word-diff style)."""
    out = []
    for op in words:
        text = op.text if not limit or len(op.text) <= limit else op.text[:limit] + "…"
        if op.op == "delete":
            out.append(click.style(f"[-{text}-]", fg="red"))
        elif op.op == "insert":
            out.append(click.style(f"{{+{text}+}}", fg="green"))
        else:
            out.append(text)
    return " ".join(out)


