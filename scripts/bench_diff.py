"""Benchmark the diff: version pairs per second and a dump-vs-dump run.

1. pairs/s: every consecutive version pair of the shared histories (cthist
   ClinicalTrials.gov and DRKS, ICTRP weekly versions, ctrdata), parsed with
   their criteria trees beforehand; `diff_records` is timed alone (criteria
   alignment, outcomes, fields, events), in this one process (one core).
2. dump vs dump: two real ICTRP weekly snapshots (2020-04-01 and
   2020-07-07) rebuilt from the versions file, compared trial by trial as
   `ptk diff OLD NEW --summary` does (reading and parsing included).
3. with `--changes`: the shared histories parsed into a temporary store
   (untagged), then the change log of `ptk changes` built from scratch,
   brought up to date again (nothing new), and summarised: CPU seconds each.

Significance (cosmetic | substantive) is computed on every change in all runs.

Usage: python scripts/bench_diff.py [--repeat N] [--data ../shared/data] [--changes]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import tempfile
import time
from pathlib import Path

from toolkit.diff import diff_records
from toolkit.diff.history import summarize_dumps
from toolkit.ingest import iter_parsed

HISTORIES = (
    ("versions-cthist", "ctgov_versions_2022-03.csv.gz"),
    ("versions-cthist", "drks_versions_2022-03.csv.gz"),
    ("ictrp", "ictrp_covid19_versions.jsonl.gz"),
    ("multiregistry", "ctrdata_versions.jsonl.gz"),
)
SNAPSHOTS = ("2020-04-01", "2020-07-07")


def version_pairs(path: Path, *, tagged: bool = False) -> list:
    """Consecutive version pairs of every trial in a history file (tagged as the store keeps them, if asked)."""
    from toolkit.ingest import default_tagger

    groups = collections.defaultdict(list)
    for outcome in iter_parsed([str(path)], tagger=default_tagger() if tagged else None):
        if outcome.record is not None:
            groups[outcome.record.key].append(outcome.record)
    return [(a, b) for versions in groups.values() for a, b in zip(versions, versions[1:])]


def time_pairs(pairs: list, repeat: int) -> tuple:
    """Best wall and CPU seconds of `repeat` runs over the pairs.

    The histories come untagged, so a modified criterion holding a number or a
    time unit is tagged during the diff: the pipeline is loaded before timing
    (its load is printed once) and the diff's cache of tagged texts is emptied
    before every run, so each run pays the tagging again.
    """
    from toolkit.diff import tags

    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        tags.clear_cache()
        wall, cpu = time.perf_counter(), time.process_time()
        for old, new in pairs:
            diff_records(old, new)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def snapshot_file(versions: Path, snapshot: str, folder: Path) -> Path:
    """The versions seen in one weekly export, as an ICTRP versions file."""
    out = folder / f"ictrp_{snapshot}.jsonl"
    with gzip.open(versions, "rt", encoding="utf-8") as lines, out.open("w", encoding="utf-8") as handle:
        for line in lines:
            if snapshot in json.loads(line)["seen_in"]:
                handle.write(line)
    return out


def records(path: Path):
    return (o.record for o in iter_parsed([str(path)]) if o.record is not None)


def bench_dumps(data: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        old, new = (snapshot_file(data / "ictrp" / "ictrp_covid19_versions.jsonl.gz", s, Path(tmp)) for s in SNAPSHOTS)
        start = time.perf_counter()
        counts = collections.Counter(row["change"] for row in summarize_dumps(records(old), records(new)))
        seconds = time.perf_counter() - start
    return {"old": SNAPSHOTS[0], "new": SNAPSHOTS[1], "seconds": round(seconds, 2),
            "trials": sum(counts.values()), "trials_per_s": round(sum(counts.values()) / seconds, 1), **counts}


def load_tagger() -> float:
    """Load the tagging pipeline the diff uses for untagged criteria; its CPU seconds."""
    from toolkit.nlp import get_nlp

    cpu = time.process_time()
    get_nlp()
    return time.process_time() - cpu


def bench_changes(data: Path) -> dict:
    """CPU seconds of the first `ChangeLog.sync`, a second one, and the summary."""
    from toolkit.diff.changes import ChangeLog, changes_path
    from toolkit.ingest import run_parse
    from toolkit.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        with Store(Path(tmp) / "ptk.sqlite", create=True) as store:
            run_parse([str(data.joinpath(*parts)) for parts in HISTORIES], store=store)
            with ChangeLog(changes_path(store.path)) as log:
                out = {}
                for name, step in (("first_sync", log.sync), ("second_sync", log.sync),
                                   ("summary", lambda _store: log.summary())):
                    cpu = time.process_time()
                    result = step(store)
                    out[name + "_cpu_s"] = round(time.process_time() - cpu, 2)
                    if name == "first_sync":
                        out.update(trials=result.trials, pairs=result.pairs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--changes", action="store_true", help="also time the ptk changes log")
    parser.add_argument("--tagged", action="store_true",
                        help="tag the versions before timing, as `ptk parse` stores them (else the diff tags"
                             " the modified criteria that hold a number or a time unit)")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    print(f"tagging pipeline loaded in {load_tagger():.2f} CPU s (once per process, not in the rates)")
    total_pairs, total_wall, total_cpu = 0, 0.0, 0.0
    for parts in HISTORIES:
        pairs = version_pairs(args.data.joinpath(*parts), tagged=args.tagged)
        wall, cpu = time_pairs(pairs, args.repeat)
        total_pairs, total_wall, total_cpu = total_pairs + len(pairs), total_wall + wall, total_cpu + cpu
        print(f"{parts[1]:<36} {len(pairs):>5} pairs  {len(pairs) / wall:>7.0f} pairs/s wall"
              f"  {len(pairs) / cpu:>7.0f} pairs/s cpu")
    print(f"{'all histories':<36} {total_pairs:>5} pairs  {total_pairs / total_wall:>7.0f} pairs/s wall"
          f"  {total_pairs / total_cpu:>7.0f} pairs/s cpu")
    print("dump vs dump (ICTRP weekly snapshots):", json.dumps(bench_dumps(args.data)))
    if args.changes:
        print("ptk changes log:", json.dumps(bench_changes(args.data)))


if __name__ == "__main__":
    main()
