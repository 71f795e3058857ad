#!/usr/bin/env python3
"""Parse throughput and memory on the shared real data.

Each measurement runs in a fresh process so its peak RSS is its own. Besides
wall-clock records/s the table gives records per CPU-second (parent and
workers): on a shared machine that is the figure that does not depend on the
load of others, and it bounds what one free core can do. Modes:
  read       readers only (iter_records), to see what reading costs;
  structure  readers + parse_record (criteria tree), no NLP, no store;
  pipeline   run_parse into a temporary store (no NLP).
Memory: the XML tarball fed once and four times (repeated paths) shows
whether peak RSS grows with dump size.

Usage:
    python scripts/bench_parse.py                 # the full table
    python scripts/bench_parse.py --only ctgov-xml --modes structure --jobs 1 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = Path(__file__).resolve().parents[1] / "corpus" / "seed" / "NCT06054113.txt"
DATASETS = {
    "ctgov-v2 arrays": sorted(str(p) for p in (DATA / "ctgov-v2").glob("*ctg-studies*.json")),
    "ctgov-v2 zip": [str(DATA / "ctgov-v2" / "Marc-Morcos_urology__ctg-studies.json.zip")],
    "ctgov-xml": [str(DATA / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz")],
    "ictrp": [str(DATA / "ictrp" / "ICTRP-Results_18Mar2020.xml")],
    "seed": [str(SEED)],
}
TARGETS = "targets (issue): ctgov-xml structure >= 2,000 rec/s on 1 job, >= 3,500 with --jobs 2"


def measure(paths: list, mode: str, jobs: int) -> dict:
    """Run one measurement in this process; returns counts, time and peak RSS."""
    started = time.perf_counter()
    if mode == "read":
        from toolkit.formats import iter_records

        items = list_count(iter_records(paths))
    elif mode == "structure":
        from toolkit.ingest import iter_parsed

        items = list_count(o.failure or o.record for o in iter_parsed(paths, jobs=jobs))
    else:
        items = _pipeline(paths, jobs)
    seconds = time.perf_counter() - started
    cpu = sum(_cpu(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"records": items[0], "failed": items[1], "seconds": seconds, "cpu_seconds": cpu,
            "peak_mb": peak_kb / 1024, "worker_peak_mb": children_kb / 1024}


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def list_count(items) -> tuple:
    """(records, failures) of a stream, without keeping it."""
    from toolkit.errors import Failure

    good = bad = 0
    for item in items:
        if isinstance(item, Failure):
            bad += 1
        else:
            good += 1
    return good, bad


def _pipeline(paths: list, jobs: int) -> tuple:
    from toolkit.ingest import run_parse
    from toolkit.store import Store

    with tempfile.TemporaryDirectory() as folder, Store(folder, create=True) as store:
        summary = run_parse(paths, store=store, jobs=jobs)
    return summary.read - len(summary.failed), len(summary.failed)


def run_child(name: str, paths: list, mode: str, jobs: int) -> dict:
    """Measure in a fresh interpreter; returns the row for the table."""
    spec = json.dumps({"paths": paths, "mode": mode, "jobs": jobs})
    done = subprocess.run([sys.executable, __file__, "--child", spec],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"dataset": name, "mode": mode, "jobs": jobs, "error": done.stderr.strip()[-300:]}
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row.update(dataset=name, mode=mode, jobs=jobs)
    total = row["records"] + row["failed"]
    row["rec_per_s"] = total / row["seconds"] if row["seconds"] else 0
    row["rec_per_cpu_s"] = total / row["cpu_seconds"] if row["cpu_seconds"] else 0
    return row


def print_table(rows: list) -> None:
    head = f"{'dataset':<22} {'mode':<10} {'jobs':>4} {'records':>8} {'failed':>6} " \
           f"{'seconds':>8} {'rec/s':>8} {'cpu s':>7} {'rec/cpu-s':>9} {'peak MB':>8} " \
           f"{'workers MB':>10}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['dataset']:<22} {r['mode']:<10} {r['jobs']:>4}  ERROR {r['error']}")
            continue
        print(f"{r['dataset']:<22} {r['mode']:<10} {r['jobs']:>4} {r['records']:>8,} "
              f"{r['failed']:>6,} {r['seconds']:>8.2f} {r['rec_per_s']:>8,.0f} "
              f"{r['cpu_seconds']:>7.1f} {r['rec_per_cpu_s']:>9,.0f} "
              f"{r['peak_mb']:>8.0f} {r['worker_peak_mb']:>10.0f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="*", choices=sorted(DATASETS), help="datasets to run")
    parser.add_argument("--modes", nargs="*", default=["read", "structure", "pipeline"],
                        choices=["read", "structure", "pipeline"])
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--no-memory", action="store_true", help="skip the 1x / 4x memory runs")
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(measure(spec["paths"], spec["mode"], spec["jobs"])))
        return 0
    rows = []
    for name in args.only or list(DATASETS):
        for mode in args.modes:
            for jobs in ([1] if mode == "read" else args.jobs):
                rows.append(run_child(name, DATASETS[name], mode, jobs))
                print(f"done: {name} {mode} jobs={jobs}", file=sys.stderr)
    if not args.no_memory:
        xml = DATASETS["ctgov-xml"]
        for times in (1, 4):
            rows.append(run_child(f"ctgov-xml x{times}", xml * times, "pipeline", 1))
    print()
    print_table(rows)
    print(TARGETS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
