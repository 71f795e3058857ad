"""Benchmark `ptk export`: criteria per second and memory as the corpus grows.

The shipped sample (the seed page, the v2 sample, the legacy XML files, the
ICTRP sample: real records, tagged) is parsed once; stores of 1x, 4x and 16x
its size are then built from copies of those records under new trial ids, and
each is exported to Parquet (then CSV and SQLite at the largest size). Each
export runs in a fresh child process so its peak resident memory (ru_maxrss)
is its own: streaming means the peak stays flat while the corpus grows.
Criteria per second are given per wall second and per CPU second of the
export process (the latter is what a shared, loaded machine still measures).

Usage: python scripts/bench_export.py [--sizes 1 4 16] [--keep DIR] [--store STORE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = [REPO / "corpus" / p for p in ("seed", "ctgov-v2", "ctgov-xml", "ictrp")]


# one-time costs kept out of the timing: pyarrow's import, pycountry's ISO tables
_WARM_UP = ("import pyarrow.parquet\nfrom toolkit.normalize.countries import country_code\n"
            "country_code('France')\n")


def build_store(path: Path, copies: int, records: list) -> int:
    """A store holding `copies` renamed copies of `records`; returns its criteria count."""
    from toolkit.records import replace_fields
    from toolkit.store import Store

    criteria = 0
    with Store(path, create=True) as store:
        for k in range(copies):
            batch = [replace_fields(r, trial_id=f"{r.trial_id}-{k}") if k else r for r in records]
            store.put_many(batch)
            criteria += sum(sum(1 for _ in r.all_criteria()) for r in batch)
    return criteria


def run_export(store: Path, out: Path, fmt: str) -> dict:
    """Export in a child process; its wall time and peak RSS."""
    code = (
        "import json, resource, sys, time\n"
        "from toolkit.export import export_store\nfrom toolkit.store import Store\n" + _WARM_UP +
        "t, c = time.perf_counter(), time.process_time()\n"
        f"with Store({str(store)!r}) as s: summary = export_store(s, {str(out)!r}, fmt={fmt!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'cpu': time.process_time() - c,"
        " 'rows': summary.rows, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--keep", type=Path, help="build the stores here instead of a temp folder")
    parser.add_argument("--store", type=Path, help="also export this existing store (all versions)")
    args = parser.parse_args(argv)
    from toolkit.ingest import default_tagger, iter_parsed

    records = [o.record for o in iter_parsed([str(p) for p in SAMPLE], tagger=default_tagger())
               if o.record is not None]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        print(f"{len(records)} sample records; export of the latest versions, one core")
        print(f"{'size':>5} {'format':>8} {'trials':>8} {'criteria':>9} {'tags':>8} {'wall s':>7}"
              f" {'cpu s':>6} {'criteria/s':>11} {'/cpu s':>8} {'peak MB':>8}")
        for size in args.sizes:
            store = root / f"store{size}"
            criteria = build_store(store, size, records)
            formats = ("parquet", "csv", "sqlite") if size == max(args.sizes) else ("parquet",)
            for fmt in formats:
                result = run_export(store, root / f"out{size}{fmt}", fmt)
                rows = result["rows"]
                assert rows["criteria"] == criteria, (rows["criteria"], criteria)
                print(f"{size:>4}x {fmt:>8} {rows['trials']:>8,} {criteria:>9,} {rows['tags']:>8,}"
                      f" {result['seconds']:>7.2f} {result['cpu']:>6.2f}"
                      f" {criteria / result['seconds']:>11,.0f} {criteria / result['cpu']:>8,.0f}"
                      f" {result['peak_mb']:>8.0f}")
        if args.store:
            result = run_export_all(args.store, root / "out_store")
            print(f"{str(args.store):>14} {result['rows']['trials']:>8,} {result['rows']['criteria']:>9,}"
                  f" {result['rows']['tags']:>8,} {result['seconds']:>7.2f} {result['cpu']:>6.2f}"
                  f" {result['rows']['criteria'] / result['seconds']:>11,.0f}"
                  f" {result['rows']['criteria'] / result['cpu']:>8,.0f} {result['peak_mb']:>8.0f}")
    return 0


def run_export_all(store: Path, out: Path) -> dict:
    """`run_export` of every version of an existing store, to Parquet."""
    code = (
        "import json, resource, time\n"
        "from toolkit.export import export_store\nfrom toolkit.store import Store\n" + _WARM_UP +
        "t, c = time.perf_counter(), time.process_time()\n"
        f"with Store({str(store)!r}) as s: summary = export_store(s, {str(out)!r}, all_versions=True)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'cpu': time.process_time() - c,"
        " 'rows': summary.rows, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)


if __name__ == "__main__":
    sys.exit(main())
