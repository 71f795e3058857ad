"""Agreement of ptk's outcome-change significance with trained human raters.

Reads `versions-cthist/outcome_change_ratings_dev.tsv.gz` (one row per rated
pair of registry versions; outcome lists are cthist JSON stored CSV-quoted:
`""` for `"`, backslashes doubled), diffs the primary and secondary outcomes
of each pair with `toolkit.diff.outcomes.diff_outcomes`, reads the events,
and reports per row of the raters' table how often ptk agrees:

| raters said (flag)              | ptk agrees when                                             |
|---------------------------------|-------------------------------------------------------------|
| no meaningful change (no_change)| no substantive primary-outcome event                        |
| some change (no_change = 0)     | at least one substantive primary-outcome event              |
| time frame changed (change_timing)| a substantive primary time-frame change, or a primary added/removed |
| new primary outcome (new_primary)| a primary added, moved to primary, or its measure substantively changed |
| primary omitted (primary_omitted)| a primary removed, moved to secondary, or its measure substantively changed |

`--split` scores two halves of the ratings separately, split by a hash of
the trial id (the same trial never in both halves): `tune` and `held-out`.

Usage: python scripts/eval_outcome_ratings.py [--data ../shared/data] [--split] [--show ROW]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Dict, List

from toolkit.diff.events import events_for
from toolkit.diff.outcomes import diff_outcomes
from toolkit.formats.cthist_csv.map import _ctgov_outcomes  # the reader's own outcome parsing

RATINGS = ("versions-cthist", "outcome_change_ratings_dev.tsv.gz")
ROWS = (
    ("no meaningful change", lambda r: r["no_change"], lambda p: not p["changed"]),
    ("some change", lambda r: not r["no_change"], lambda p: p["changed"]),
    ("time frame changed", lambda r: r["change_timing"], lambda p: p["timing"]),
    ("new primary outcome", lambda r: r["new_primary"], lambda p: p["new_primary"]),
    ("primary omitted", lambda r: r["primary_omitted"], lambda p: p["omitted"]),
)
_FLAGS = ("no_change", "change_timing", "new_primary", "primary_omitted")


def load_ratings(path: Path) -> List[dict]:
    """Rated pairs: trial id, flags, and old/new outcome lists (as `Outcome`s)."""
    csv.field_size_limit(sys.maxsize)
    out = []
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rating = {flag: row.get(f"multi_select_{flag}") == "1" for flag in _FLAGS}
            rating["trial_id"] = row["trial_id"]
            rating["old"] = _outcomes(row, "a")
            rating["new"] = _outcomes(row, "b")
            out.append(rating)
    return out


def _outcomes(row: dict, side: str) -> list:
    items = []
    for kind in ("p", "s"):
        items += _cthist_json(row.get(f"{kind}_outcome_{side}"))
    return _ctgov_outcomes(items)


def _cthist_json(text) -> list:
    """The cthist JSON of a cell: `""` stands for `"`, `\\\\` for `\\`."""
    if not text or not text.lstrip().startswith("["):  # NULL, or a note such as "No outcome specified"
        return []
    return json.loads(text.replace('""', '"').replace("\\\\", "\\"))


def predict(rating: dict) -> Dict[str, bool]:
    """What ptk says about one rated pair."""
    changes = diff_outcomes(rating["old"], rating["new"])
    events = [e for e in events_for((), (), changes) if e.significance == "substantive"]
    kinds = {e.kind for e in events}
    primary = {k for k in kinds if k.startswith("primary_") or k.startswith("outcome_moved_")}
    measure = any(e.kind == "primary_outcome_changed" and e.field == "outcomes.measure" for e in events)
    timing = any(e.kind == "primary_outcome_changed" and e.field == "outcomes.time_frame" for e in events)
    return {
        "changed": bool(primary),
        "timing": timing or bool(kinds & {"primary_outcome_added", "primary_outcome_removed"}),
        "new_primary": measure or bool(kinds & {"primary_outcome_added", "outcome_moved_to_primary"}),
        "omitted": measure or bool(kinds & {"primary_outcome_removed", "outcome_moved_to_secondary"}),
        "events": sorted(primary),
    }


def half(trial_id: str) -> str:
    """`tune` or `held-out`: a stable split by trial id."""
    return "held-out" if hashlib.sha1(trial_id.encode()).digest()[0] % 5 < 2 else "tune"


def score(ratings: List[dict]) -> List[tuple]:
    """(row, agreed, rated) per row of the table."""
    predictions = [predict(r) for r in ratings]
    out = []
    for name, rated, agrees in ROWS:
        chosen = [p for r, p in zip(ratings, predictions) if rated(r)]
        out.append((name, sum(1 for p in chosen if agrees(p)), len(chosen)))
    return out


def _table(title: str, rows: List[tuple]) -> str:
    lines = [f"{title}", "| raters said | ptk agrees |", "|---|---|"]
    for name, agreed, total in rows:
        share = f"{100 * agreed / total:.0f}%" if total else "-"
        lines.append(f"| {name} | {share} ({agreed}/{total}) |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--split", action="store_true", help="also score the tune and held-out halves")
    parser.add_argument("--show", metavar="ROW", help="print the disagreements of one row (e.g. 'some change')")
    args = parser.parse_args(argv)
    ratings = load_ratings(Path(args.data).joinpath(*RATINGS))
    print(_table(f"all {len(ratings)} dev ratings", score(ratings)))
    if args.split:
        for name in ("tune", "held-out"):
            chosen = [r for r in ratings if half(r["trial_id"]) == name]
            print()
            print(_table(f"{name}: {len(chosen)} ratings", score(chosen)))
    if args.show:
        _show(ratings, args.show)
    return 0


def _show(ratings: List[dict], row_name: str) -> None:
    rated, agrees = next((r, a) for name, r, a in ROWS if name == row_name)
    for rating in ratings:
        prediction = predict(rating)
        if rated(rating) and not agrees(prediction):
            print(f"\n{rating['trial_id']} {prediction['events']}")
            for side in ("old", "new"):
                for o in rating[side]:
                    if o.kind == "primary":
                        print(f"  {side}: {o.measure[:150]!r} [{o.time_frame}]")


if __name__ == "__main__":
    sys.exit(main())
