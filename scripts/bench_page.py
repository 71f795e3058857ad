#!/usr/bin/env python3
"""Trial page throughput: render_page and the page mapper on real studies.

The ClinicalTrials.gov API v2 arrays of the shared data are mapped once with
the JSON mapper; the timed stages are then `render_page` (record -> page) and
page reading (`toolkit.formats.ctgov_page.read.read` + `toolkit.formats.ctgov_page.map.to_record`,
page -> record, no criteria tree). Besides wall-clock pages/s the table gives
pages per CPU-second, the figure that does not depend on the load of others.

Usage:
    python scripts/bench_page.py            # best of 3 rounds
    python scripts/bench_page.py --rounds 5
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

from toolkit.formats import parse_record
from toolkit.formats.ctgov_page.map import to_record
from toolkit.formats.ctgov_page import read as page_reader
from toolkit.formats.raw import RawRecord
from toolkit.formats.ctgov_page.render import render_page

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov-v2"


def load_records() -> list:
    """Every study of the shared API v2 arrays, mapped to records."""
    return [parse_record(RawRecord("ctgov_json", study, path=path.name))
            for path in sorted(DATA.glob("*ctg-studies*.json"))
            for study in json.loads(path.read_text("utf-8"))]


def read_page(text: str):
    """Reader and mapper, as a dump of page files goes through them."""
    (raw,) = page_reader.read(io.BytesIO(text.encode("utf-8")), path="page.txt")
    return to_record(raw)


def timed(stage, items) -> tuple:
    """(wall seconds, CPU seconds, results) of applying `stage` to every item."""
    wall, cpu = time.perf_counter(), time.process_time()
    results = [stage(item) for item in items]
    return time.perf_counter() - wall, time.process_time() - cpu, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per stage; the best is reported")
    args = parser.parse_args()
    records = load_records()
    pages = [render_page(record) for record in records]
    megabytes = sum(len(page.encode("utf-8")) for page in pages) / 1e6
    print(f"{len(records)} studies, {megabytes:.1f} MB of pages")
    print(f"{'stage':<14}{'pages/s':>10}{'pages/CPU-s':>14}")
    for name, stage, items in (("render_page", render_page, records), ("read page", read_page, pages)):
        best_wall, best_cpu = min((timed(stage, items)[:2] for _ in range(args.rounds)), key=lambda t: t[1])
        print(f"{name:<14}{len(items) / best_wall:>10.0f}{len(items) / best_cpu:>14.0f}")


if __name__ == "__main__":
    main()
