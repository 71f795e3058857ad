"""Per-field recovery of the page reader on site-faithful pages of real studies.

Every ClinicalTrials.gov API v2 study of the shared arrays is mapped with the
JSON mapper, written as the real site shows it (`render_page(faithful=True)`),
read back with the page reader, and compared field by field
(`toolkit.formats.ctgov_page.render_faithful.page_fields`). A field counts for a study when
the source has it; the rate is the share of those read back exactly.

With `--source PATH` the records come from any dump the toolkit reads
(e.g. the legacy ctgov XML archive), the first `--limit` of them.

Usage: python scripts/page_recovery.py [DATA_DIR] [--source PATH --limit N] [--show FIELD]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
from collections import Counter
from pathlib import Path

from toolkit.errors import Failure
from toolkit.formats import parse_record
from toolkit.formats import iter_records
from toolkit.formats.ctgov_page import read as page_reader
from toolkit.formats.raw import RawRecord
from toolkit.formats.ctgov_page.render import render_page
from toolkit.formats.ctgov_page.render_faithful import page_fields

# The API v2 "Download JSON" arrays (not the metadata tree beside them).
ARRAYS_GLOB = "*ctg-studies*.json"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov-v2"


def read_back(text: str):
    (raw,) = list(page_reader.read(io.BytesIO(text.encode("utf-8")), path="page.txt"))
    return parse_record(raw)


def records(args):
    """The records to check: the v2 arrays, or the first records of `--source`."""
    if args.source:
        raws = itertools.islice(iter_records(args.source), args.limit)
        yield from (parse_record(raw) for raw in raws if not isinstance(raw, Failure))
        return
    for path in sorted(Path(args.data).glob(ARRAYS_GLOB)):
        for study in json.loads(path.read_text("utf-8")):
            yield parse_record(RawRecord("ctgov_json", study, path=path.name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--source", help="read records from this dump instead of the v2 arrays")
    parser.add_argument("--limit", type=int, default=1000, help="records read from --source")
    parser.add_argument("--show", help="print the first mismatches of this field")
    args = parser.parse_args()
    have, same, shown = Counter(), Counter(), 0
    for record in records(args):
        want, got = page_fields(record), page_fields(read_back(render_page(record, faithful=True)))
        for field, value in want.items():
            if value not in (None, (), "", (None,) * 4):
                have[field] += 1
                same[field] += got[field] == value
                if field == args.show and got[field] != value and shown < 12:
                    shown += 1
                    print(record.trial_id, "\n  want", value, "\n  got ", got[field])
    print(f"{'field':28} {'studies':>7} {'exact':>7}")
    for field in have:
        print(f"{field:28} {have[field]:7d} {same[field] / have[field]:7.1%}")


if __name__ == "__main__":
    main()
