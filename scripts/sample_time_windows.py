"""Draw criteria that mention a time unit, for a hand-read sample of time windows.

Criteria are drawn with a fixed seed from records of the given files, skipping every
trial id already named in tests/fixtures (and every Chia training document), so the
sample is fresh (`--ignore` names the fixture the draw itself became, so the draw
can be repeated). A criterion qualifies when a time-unit word (or a one-letter unit
after a digit) occurs in it, whether or not the tagger finds a window there: missed windows are drawn too. Each line printed is
`source<TAB>context<TAB>windows found`, the last column for the reader's comparison.

Usage: python scripts/sample_time_windows.py FILE... [--seed 10] [--count 250] [--ignore FIXTURE_NAME]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from toolkit.ingest import iter_parsed
from toolkit.nlp.timex import find_time_windows

ROOT = Path(__file__).resolve().parents[1]
CHIA = ROOT.parent / "shared" / "data" / "chia-train"
_TRIAL_ID = re.compile(r"\b(?:NCT\d{8}|ChiCTR[-\w]*\d{4,}|IRCT\w+|EUCTR[-\w]+|ISRCTN\d+|DRKS\d+|JPRN-\w+|ACTRN\d+|CTRI/[\d/]+|"
                       r"KCT\d+|TCTR\d+|NL\d{4,}|PACTR\d+)")


def used_trial_ids(ignore: set) -> set:
    """Trial ids any fixture (but those named in `ignore`) or Chia document already holds."""
    used = set()
    for path in (ROOT / "tests" / "fixtures").rglob("*"):
        if path.is_file() and path.name not in ignore and path.suffix in {".tsv", ".json", ".txt", ".xml", ".csv"}:
            used.update(_TRIAL_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    if CHIA.is_dir():
        used.update(p.name.split("_")[0] for p in CHIA.glob("*.txt"))
    return used


# Fixed here, not read from rules.json, so that a rule change never changes a drawn sample.
UNIT_WORD = re.compile(r"\b(?:minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos|mths?|years?|yrs?)\b"
                       r"|\d\s*(?:h|d|w|y|mo)\b", re.I)


def candidates(paths: list, used: set) -> list:
    """(source, criterion text) for every criterion mentioning a time unit, in file order."""
    seen, out = set(), []
    for outcome in iter_parsed(paths):
        record = outcome.record
        if record is None or record.trial_id in used:
            continue
        for criterion in record.all_criteria():
            text = " ".join(criterion.text.split())
            if text not in seen and UNIT_WORD.search(text):
                seen.add(text)
                out.append((f"{record.registry}:{record.trial_id}", text))
    return out


def main() -> None:
    """Print the drawn criteria."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--count", type=int, default=250)
    parser.add_argument("--ignore", action="append", default=[],
                        help="A fixture not to take trial ids from (the sample drawn by this command), repeatable.")
    args = parser.parse_args()
    pool = candidates(sorted(args.files), used_trial_ids(set(args.ignore)))
    for source, text in random.Random(args.seed).sample(pool, min(args.count, len(pool))):
        found = " | ".join(f"{t.text} [{t.relation},{t.amount:g},{t.unit},{t.direction},{t.anchor}]"
                           for t in find_time_windows(text))
        print(f"{source}\t{text}\t{found}")


if __name__ == "__main__":
    main()
