"""One self-contained HTML page per diff: side by side, changes highlighted.

No scripts, no external files: the style sheet is inline, so the page opens
the same from disk, mail or an archive.
"""

from __future__ import annotations

from html import escape
from typing import Iterable, List, Optional, Sequence

from toolkit.diff.model import CriterionChange, OutcomeChange, RecordDiff, WordOp

__all__ = ["render_html"]

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left;word-wrap:break-word}
th{background:#f4f4f4}.k{width:11em}td.k{font-family:monospace}
del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccf5d2;text-decoration:none}
tr.added td.new,tr.added td.k{background:#e9fbe9}tr.removed td.old,tr.removed td.k{background:#fdeceb}
tr.modified td.k{background:#fff6d6}tr.moved td.k{background:#e3f3fb}
ul.events li{margin:2px 0}.muted{color:#777}
details.cosmetic{margin:.4em 0;color:#555}details.cosmetic summary{cursor:pointer}
"""


def render_html(diff: RecordDiff, *, show_unchanged: bool = True) -> str:
    """The diff as one HTML document (a string).

    In every section substantive changes come first; cosmetic ones (case,
    punctuation, renumbering, re-wording with the same words ...) are
    folded into a closed `<details>` block under the section.
    """
    title = f"{diff.registry}:{diff.trial_id} {diff.old.heading()} → {diff.new.heading()}"
    body = [f"<h1>{escape(title)}</h1>"]
    body += _events(diff)
    body += _fields(diff)
    body += _texts(diff)
    criteria = diff.criteria if show_unchanged else diff.changed_criteria
    body += _table("Eligibility criteria", *_split(criteria, _criterion_row))
    outcomes = diff.outcomes if show_unchanged else diff.changed_outcomes
    body += _table("Outcome measures", *_split(outcomes, _outcome_row))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _split(items, render) -> tuple:
    """(rows: substantive first, then unchanged; folded rows: cosmetic)."""
    rows = [render(i) for i in items if i.significance == "substantive"]
    rows += [render(i) for i in items if i.significance is None]
    return rows, [render(i) for i in items if i.significance == "cosmetic"]


def _events(diff: RecordDiff) -> List[str]:
    if not diff.changed:
        return ["<p class=\"muted\" id=\"no-changes\">No changes.</p>"]
    def item(e):
        return (f"<li data-kind=\"{escape(e.kind)}\" data-significance=\"{escape(e.significance)}\">"
                f"<b>{escape(e.kind)}</b>: {escape(e.message)}</li>")
    main = "".join(item(e) for e in diff.events if e.significance != "cosmetic")
    folded = [e for e in diff.events if e.significance == "cosmetic"]
    out = ["<h2>Events</h2>"] if main or folded else []
    out += [f"<ul class=\"events\">{main}</ul>"] if main else []
    if folded:
        out.append(_fold(len(folded), f"<ul class=\"events\">{''.join(item(e) for e in folded)}</ul>"))
    return out


def _fold(count: int, inner: str) -> str:
    return (f"<details class=\"cosmetic\"><summary>{count} cosmetic change{'s' if count != 1 else ''}"
            f"</summary>{inner}</details>")


def _fields(diff: RecordDiff) -> List[str]:
    return _table("Fields", *_split(diff.fields, _field_row))


def _field_row(f) -> str:
    if f.added or f.removed or isinstance(f.after, list):
        old = "<br>".join([f"<del>{escape(r)}</del>" for r in f.removed]
                          + [f"<del>{escape(str(b))}</del>" for b in f.before or ()])
        new = "<br>".join([f"<ins>{escape(a)}</ins>" for a in f.added]
                          + [f"<ins>{escape(str(x))}</ins>" for x in f.after or ()])
    else:
        old, new = _value(f.before, "del"), _value(f.after, "ins")
    return _row("modified", f.field, old, new)


def _texts(diff: RecordDiff) -> List[str]:
    return _table("Texts and sections", *_split(
        diff.texts, lambda t: _row(t.status, t.field, _words(t.words, "old"), _words(t.words, "new"))))


def _criterion_row(c: CriterionChange) -> str:
    key = c.new_id or c.old_id or ""
    if c.old_id and c.new_id and c.old_id != c.new_id:
        key = f"{c.old_id} → {c.new_id}"
    label = f"{key}<br><span class=\"muted\">{escape(c.status)}{_moved(c.moved)}</span>"
    if c.words:
        old, new = _words(c.words, "old"), _words(c.words, "new")
    else:
        old = escape(c.old_text or "") if c.status != "added" else ""
        new = escape(c.new_text or "") if c.status != "removed" else ""
        old = f"<del>{old}</del>" if c.status == "removed" else old
        new = f"<ins>{new}</ins>" if c.status == "added" else new
    old = _with_polarity(old, c.old_polarity, c.old_category)
    new = _with_polarity(new, c.new_polarity, c.new_category)
    return _row(c.status, label, old, new, escaped_key=True)


def _moved(moved: Sequence[str]) -> str:
    return f" ({escape(', '.join(moved))})" if moved else ""


def _with_polarity(text: str, polarity: Optional[str], category: Optional[str]) -> str:
    if not text:
        return text
    tag = escape(polarity or "")
    if category:
        tag += f" / {escape(category)}"
    return f"<span class=\"muted\">[{tag}]</span> {text}"


def _outcome_row(o: OutcomeChange) -> str:
    def side(kind, measure, frame, words, which):
        if measure is None:
            return ""
        text = _words(words, which) if words else escape(measure)
        return f"<span class=\"muted\">[{escape(kind or '')}]</span> {text}" + (
            f"<br><span class=\"muted\">time frame:</span> {escape(frame)}" if frame else "")
    label = escape(o.status) + (f"<br><span class=\"muted\">{escape(', '.join(o.changes))}</span>" if o.changes else "")
    return _row(o.status, label, side(o.old_kind, o.old_measure, o.old_time_frame, o.words, "old"),
                side(o.new_kind, o.new_measure, o.new_time_frame, o.words, "new"), escaped_key=True)


def _words(words: Iterable[WordOp], which: str) -> str:
    out = []
    for op in words:
        if op.op == "equal":
            out.append(escape(op.text))
        elif op.op == "delete" and which == "old":
            out.append(f"<del>{escape(op.text)}</del>")
        elif op.op == "insert" and which == "new":
            out.append(f"<ins>{escape(op.text)}</ins>")
    return " ".join(out)


def _value(value, mark: str) -> str:
    return "<span class=\"muted\">—</span>" if value is None else f"<{mark}>{escape(str(value))}</{mark}>"


def _row(status: str, key: str, old: str, new: str, *, escaped_key: bool = False) -> str:
    key = key if escaped_key else escape(key)
    return (f"<tr class=\"{escape(status)}\"><td class=\"k\">{key}</td>"
            f"<td class=\"old\">{old}</td><td class=\"new\">{new}</td></tr>")


def _table(title: str, rows: List[str], folded: Sequence[str] = ()) -> List[str]:
    if not rows and not folded:
        return []
    head = "<tr><th class=\"k\"></th><th>before</th><th>after</th></tr>"
    out = [f"<h2>{escape(title)}</h2>"]
    out += [f"<table>{head}{''.join(rows)}</table>"] if rows else []
    out += [_fold(len(folded), f"<table>{head}{''.join(folded)}</table>")] if folded else []
    return out
