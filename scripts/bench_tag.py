"""Benchmark the tagger: pipeline load time, criteria/s on one core and with N processes, peak memory.

Criteria are the eligibility criteria (children included) of the shared
ClinicalTrials.gov API v2 records, parsed once up front; each process tags
them all with `toolkit.nlp.tag_record`, record by record, as `ptk parse` does,
then with `tag_records`, `--batch` records per call (the entity model has a
fixed cost per call).
Wall-clock and CPU time are both printed: on a shared machine the CPU figure
is the one-core rate.

Usage: OMP_NUM_THREADS=1 python scripts/bench_tag.py [--data ../shared/data/ctgov-v2] [--records 1000]
           [--processes 2] [--batch 64]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def load_time() -> tuple:
    """(wall, CPU) seconds to import and build the pipeline in a fresh interpreter (median of 3)."""
    code = ("import time; t = time.perf_counter(); c = time.process_time(); from toolkit.nlp import get_nlp;"
            " get_nlp(); print(time.perf_counter() - t, time.process_time() - c)")
    runs = sorted(tuple(map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True).stdout.split())) for _ in range(3))
    return runs[1]


def parsed_records(folder: Path, limit: int) -> list:
    """Up to `limit` parsed (untagged) records with criteria."""
    from toolkit.ingest import iter_parsed

    out = []
    for outcome in iter_parsed(sorted(str(p) for p in folder.glob("*.json"))):
        if outcome.record is not None and outcome.record.eligibility and outcome.record.eligibility.criteria:
            out.append(outcome.record)
            if len(out) >= limit:
                break
    return out


def tag_all(records: list, batch: int = 1) -> tuple:
    """(criteria tagged, wall seconds, CPU seconds, tags made, peak RSS MB) for one process.

    Args:
        records: parsed records.
        batch: records per call (1: `tag_record`, as `ptk parse` calls it; more: `tag_records`).
    """
    from toolkit.nlp import get_nlp, tag_records

    get_nlp()
    started, cpu = time.perf_counter(), time.process_time()
    criteria = tags = 0
    for first in range(0, len(records), batch):
        for record in tag_records(records[first:first + batch]):
            for criterion in record.all_criteria():
                criteria += 1
                tags += len(criterion.tags)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return criteria, elapsed, cpu, tags, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov-v2")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64, help="Records per tag_records call in the batched run.")
    args = parser.parse_args()
    wall, cpu = load_time()
    print(f"pipeline load (fresh process, median of 3): {wall:.2f} s wall, {cpu:.2f} s CPU")
    records = parsed_records(args.data, args.records)
    for run in ("first pass, words new to the process", "second pass, words seen"):
        criteria, elapsed, cpu, tags, peak = tag_all(records)
        print(f"one process, {run}: {criteria} criteria of {len(records)} records in {elapsed:.2f} s wall"
              f" ({cpu:.2f} s CPU) = {criteria / elapsed:,.0f} criteria/s wall, {criteria / cpu:,.0f} per CPU"
              f" second; {tags} tags, peak RSS {peak:.0f} MB")
    criteria, elapsed, cpu, tags, peak = tag_all(records, args.batch)
    print(f"one process, {args.batch} records per call (tag_records): {criteria / elapsed:,.0f} criteria/s wall,"
          f" {criteria / cpu:,.0f} per CPU second; peak RSS {peak:.0f} MB")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.processes) as pool:
        started = time.perf_counter()
        results = pool.map(tag_all, [records[i::args.processes] for i in range(args.processes)])
        wall = time.perf_counter() - started
    total = sum(r[0] for r in results)
    print(f"{args.processes} processes: {total} criteria in {wall:.2f} s wall = {total / wall:,.0f} criteria/s"
          f" (pipeline built before timing), peak RSS per process {max(r[4] for r in results):.0f} MB")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
          " (other work on the machine slows the wall-clock figures)")


if __name__ == "__main__":
    main()
