"""Search benchmark: build rate, index size and query latency at several scales.

Real records (parsed and tagged from SOURCE paths, the shipped sample by
default) are replicated under new trial ids until the index holds the asked
number of criterion documents; each engine builds that index from scratch
and answers a fixed set of realistic queries.

Usage:
    python scripts/bench_search.py [--scales 10000,100000,1000000]
        [--engines whoosh,tantivy] [--jobs 1,2] [--from records|store]
        [--source PATH ...] [--repeat 5] [--process-runs 3] [--json OUT] [--workdir DIR --keep]
    python scripts/bench_search.py --measure ENGINE ROOT [--repeat 5]   # a kept index, in process only

`--from records` (default) builds from parsed records held in memory: the cost
of documents and engine. `--from store` first writes the replicated records
into a corpus store (not timed) and builds as `ptk index --rebuild --jobs N`
does: decoding stored records is then part of the build. Either way the
store of the same records sits beside the index, noted as level with it, as
after `ptk parse` and `ptk index`.

Prints a Markdown table: engine, jobs, criteria, build seconds, criteria/s,
size MB, in-process query p50/p95 ms (compiling with the index's concepts
and the top 20 hits with highlights included), the CPU p50/p95 ms of the
same queries answered as `--group-by trial` and as `--count --facets`, what a `ptk search` process
pays first (opening the index and answering one query in a fresh process:
ms, peak RSS MB), the p50/p95 of whole `ptk search` processes (start to last
byte, and their CPU time; `--process-runs` runs over the query set; the store
the index was built from beside it, so its staleness check is paid; Python's
bytecode cache on, as for an installed ptk), the
slowest hostile
query (answered or refused). Rates and
latencies are given in wall-clock time and in CPU time (the build's: this
process and its workers); on a shared machine the CPU figures are the ones to
compare for one job, the wall-clock ones for several.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, List

from toolkit.index import Filters, SearchIndex, build_index, compile_query, run_search
from toolkit.index.searching import answer
from toolkit.records import TrialRecord
from toolkit.store import Store

REPO = Path(__file__).resolve().parents[1]

QUERIES = [
    ("chemotherapy", Filters()),
    ('"informed consent"', Filters(polarity="inclusion")),
    ('drug:"CAR T"', Filters(polarity="exclusion", window_max_days=28)),
    ("condition:GvHD", Filters()),
    ("pregnant OR lactating", Filters(polarity="exclusion")),
    ("hepat* NOT \"hepatitis B\"", Filters()),
    ("zidovudne~", Filters()),
    ("infection AND active", Filters(status=("completed",), phase=("2",))),
    ("prior therapy", Filters(age_years=10)),
    ("HIV", Filters(polarity="inclusion", window_min_days=7)),
    ('"within 4 weeks" AND (surgery OR radiotherapy)', Filters()),
    ("category:medication steroids", Filters()),
    # concept queries as a person types them, and the other kinds of search
    ("pregnant", Filters()),
    ("corticosteroids", Filters(polarity="exclusion")),
    ("anti-PD-1", Filters()),
    ("heart failure", Filters()),
    ("HbA1c", Filters(polarity="inclusion")),
    ("value:creatinine<=2", Filters()),
    ("breastfeeding", Filters(drug="rituximab", window_max_days=28)),
]

# What a whole `ptk search` process is asked (a subset: each run is a fresh process).
PROCESS_QUERIES = [
    ["pregnant", "--polarity", "exclusion"], ["corticosteroids"], ['drug:"CAR T"', "--window-max", "4w"],
    ["HbA1c", "--count"], ["chemotherapy", "--group-by", "trial"], ["--trials", "leukemia", "--phase", "2"],
]

# Hostile queries (the robustness issue): each must be answered or refused within 2 s.
HOSTILE = [
    "a*", "*a*", "hep*", "pre*", "con*", "(" * 250 + "x" + ")" * 250, "NOT " * 1000 + "x",
    " ".join(f"w{i}" for i in range(1000)), " ".join(f"pre{i}*" for i in range(2000)),
    " OR ".join(f"w{i}" for i in range(10000)), " OR ".join(f"word{i}" for i in range(60)),
    "∅", "pregnant OR lactating OR corticosteroids OR anti-PD-1 OR NSAIDs OR opioids OR statins",
]


def load_records(sources: List[str]) -> List[TrialRecord]:
    """Parsed and tagged records of the source paths, one per trial, with criteria."""
    from toolkit.nlp import tag_record
    from toolkit.ingest import iter_parsed

    by_key = {}
    for outcome in iter_parsed(sources, tagger=tag_record):
        record = outcome.record
        if record is not None and record.eligibility and record.eligibility.criteria:
            by_key[record.key] = record
    return list(by_key.values())


def replicated(records: List[TrialRecord], criteria: int) -> Iterator[TrialRecord]:
    """Copies of the records under new trial ids until `criteria` criteria are yielded."""
    done, copy = 0, 0
    while done < criteria:
        for record in records:
            if done >= criteria:
                return
            trial_id = record.trial_id if copy == 0 else f"{record.trial_id}-R{copy}"
            yield dataclasses.replace(record, trial_id=trial_id, content_hash=f"{record.content_hash}-{copy}")
            done += sum(1 for _ in record.all_criteria())
        copy += 1


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stored_copy(records: List[TrialRecord], criteria: int, workdir: Path) -> Store:
    """A corpus store holding the replicated records (built once per scale)."""
    path = workdir / f"store-{criteria}.sqlite"
    if path.exists():
        return Store(path)
    store = Store(path, create=True)
    store.put_many(replicated(records, criteria))
    return store


def bench_one(engine: str, records: List[TrialRecord], criteria: int, *, jobs: int, source: str,
              repeat: int, workdir: Path, process_runs: int = 3, keep: bool = False) -> dict:
    """Build one index and time the query set."""
    root = workdir / f"{engine}-{criteria}-{jobs}"
    index = SearchIndex(root, engine=engine)
    store = stored_copy(records, criteria, workdir)  # beside the index, as `ptk search` finds it
    started, cpu_started = time.perf_counter(), cpu_seconds()
    if source == "store":
        meta = build_index(store, index_dir=root, engine=engine, jobs=jobs)
    else:
        meta = index.rebuild(replicated(records, criteria), source=str(store.path.resolve()), jobs=jobs)
    build, build_cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    index.note_store_generation(store.generation())  # the same records: the index is level with the store
    store.close()
    row = {
        "engine": engine, "jobs": jobs, "from": source, "criteria": meta["criteria"], "trials": meta["trials"],
        "build_s": round(build, 1), "criteria_per_s": round(meta["criteria"] / build),
        "criteria_per_cpu_s": round(meta["criteria"] / build_cpu), "size_mb": round(dir_size(index.path) / 1e6, 1),
        **in_process(index, repeat),
    }
    row["hostile_max_ms"], row["hostile_slowest"] = hostile(index)
    index.close()
    row["first_query_ms"], row["first_query_rss_mb"] = first_query(root, engine, workdir)
    (row["process_p50_ms"], row["process_p95_ms"], row["process_p50_cpu_ms"],
     row["process_p95_cpu_ms"]) = whole_process(root, engine, process_runs, workdir, store.path)
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return row


def in_process(index: SearchIndex, repeat: int) -> dict:
    """In-process latencies of the query set on an open index: hits, `--group-by trial`, `--count --facets`."""
    concepts = index.concepts()
    for text, filters in QUERIES:  # warm up caches and readers
        run_search(index, compile_query(text, filters, concepts=concepts), limit=20)
    latencies, cpu_latencies, hits = [], [], 0
    per_query: dict = {q: [] for q, _ in QUERIES}
    for _ in range(repeat):
        for text, filters in QUERIES:
            t0, c0 = time.perf_counter(), time.process_time()
            hits += len(run_search(index, compile_query(text, filters, concepts=concepts), limit=20))
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu_latencies.append((time.process_time() - c0) * 1000)
            per_query[text].append(cpu_latencies[-1])
    grouped, counted = answer_latencies(index, concepts, repeat)
    return {
        "p50_cpu_ms": round(percentile(cpu_latencies, 50), 2), "p95_cpu_ms": round(percentile(cpu_latencies, 95), 2),
        "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
        "queries": len(latencies), "hits": hits, "slowest_cpu_ms": _slowest(per_query),
        **_summary("group", grouped), **_summary("count", counted),
    }


# The answers beside plain hits, as `ptk search` gives them (each over every query of `QUERIES`).
ANSWERS = {"group": dict(group_by="trial", limit=20), "count": dict(count=True, facets=True)}


def answer_latencies(index: SearchIndex, concepts, repeat: int) -> tuple:
    """({query: CPU ms per run} of `--group-by trial`, the same of `--count --facets`), in process."""
    out = []
    for options in ANSWERS.values():
        per_query: dict = {q: [] for q, _ in QUERIES}
        for text, filters in QUERIES:  # warm-up
            answer(index, compile_query(text, filters, concepts=concepts), filters, **options)
        for _ in range(repeat):
            for text, filters in QUERIES:
                c0 = time.process_time()
                answer(index, compile_query(text, filters, concepts=concepts), filters, **options)
                per_query[text].append((time.process_time() - c0) * 1000)
        out.append(per_query)
    return tuple(out)


def _summary(name: str, per_query: dict) -> dict:
    """p50/p95 CPU ms over every run of every query, and the slowest queries."""
    times = [t for runs in per_query.values() for t in runs]
    return {f"{name}_p50_cpu_ms": round(percentile(times, 50), 2), f"{name}_p95_cpu_ms": round(percentile(times, 95), 2),
            f"{name}_slowest_cpu_ms": _slowest(per_query)}


def hostile(index: SearchIndex) -> tuple:
    """(slowest ms, that query's first 40 characters) of the hostile queries, answered or refused."""
    from toolkit.errors import QueryError

    times = {}
    for text in HOSTILE:
        t0 = time.perf_counter()
        try:
            run_search(index, compile_query(text, Filters(), concepts=index.concepts()), limit=20)
        except QueryError:
            pass
        times[text] = (time.perf_counter() - t0) * 1000
    slowest = max(times, key=times.get)
    return round(times[slowest]), slowest[:40]


def user_env(workdir: Path, **variables: str) -> dict:
    """The environment of a `ptk` process as a user runs it: Python's bytecode cache on.

    An installed package is byte-compiled (pip does it); a checkout writes its
    cache on the first run. Here the cache goes to `workdir` (not the source
    tree), also when this shell turned it off (PYTHONDONTWRITEBYTECODE).
    """
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return dict(env, PYTHONPYCACHEPREFIX=str(workdir / "pycache"), **variables)


def whole_process(root: Path, engine: str, runs: int, workdir: Path, store: Path) -> tuple:
    """(p50, p95, p50 CPU, p95 CPU) ms of whole `ptk search` processes over `PROCESS_QUERIES`.

    Each is `ptk search` as a user runs it: the index and the store it was
    built from (so the staleness check runs), bytecode cached (one run first
    fills the cache, untimed). Wall time is start to last byte; CPU time
    (user + system of the child) is what the process costs on a machine
    shared with other work.
    """
    env = user_env(workdir, PTK_INDEX=str(root), PTK_ENGINE=engine, PTK_STORE=str(store))
    first = subprocess.run([sys.executable, "-m", "toolkit", "search", *PROCESS_QUERIES[0], "--jsonl"], env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if "warning" in first.stderr:  # a stale index would measure a rehash of the store, not a search
        raise RuntimeError(f"ptk search warned: {first.stderr.strip()}")
    times, cpu = [], []
    for _ in range(runs):
        for args in PROCESS_QUERIES:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "toolkit", "search", *args, "--jsonl"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append((time.perf_counter() - t0) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return (round(percentile(times, 50)), round(percentile(times, 95)), round(percentile(cpu, 50)),
            round(percentile(cpu, 95)))


FIRST_QUERY = """
import json, sys, time
started = time.perf_counter()
from toolkit.index import search
search("chemotherapy", index_dir=sys.argv[1], engine=sys.argv[2], limit=20)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps([(time.perf_counter() - started) * 1000, peak / 1024]))
"""


def first_query(root: Path, engine: str, workdir: Path) -> tuple:
    """(ms, peak RSS MB) of a fresh process importing the search code, opening the index, answering one query.

    The peak is /proc's VmHWM, which starts afresh at exec (getrusage's
    maxrss would count this process's memory, inherited through fork).
    """
    for _ in range(2):  # the first run fills the bytecode cache
        out = subprocess.run([sys.executable, "-c", FIRST_QUERY, str(root), engine], capture_output=True, text=True,
                             check=True, env=user_env(workdir))
    ms, rss = json.loads(out.stdout)
    return round(ms), round(rss)


def _slowest(per_query: dict, count: int = 3) -> dict:
    """The `count` queries with the highest median CPU ms: where a p95 comes from."""
    medians = {query: round(statistics.median(times), 2) for query, times in per_query.items()}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1])[:count])


def print_table(rows: List[dict]) -> None:
    columns = ["engine", "from", "jobs", "criteria", "trials", "build_s", "criteria_per_s", "criteria_per_cpu_s", "size_mb",
               "p50_ms", "p95_ms", "p50_cpu_ms", "p95_cpu_ms", "group_p50_cpu_ms", "group_p95_cpu_ms",
               "count_p50_cpu_ms", "count_p95_cpu_ms", "first_query_ms", "first_query_rss_mb",
               "process_p50_ms", "process_p95_ms", "process_p50_cpu_ms", "process_p95_cpu_ms", "hostile_max_ms"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000,1000000")
    parser.add_argument("--engines", default="whoosh,tantivy")
    parser.add_argument("--jobs", default="1", help="Comma-separated process counts to build with.")
    parser.add_argument("--from", dest="source_kind", choices=["records", "store"], default="records")
    parser.add_argument("--source", nargs="*", default=[str(REPO / "corpus")])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--process-runs", type=int, default=3, help="Runs of the whole-process query set.")
    parser.add_argument("--json", dest="json_out")
    parser.add_argument("--workdir", default=None, help="Where indexes are built (a temp dir by default).")
    parser.add_argument("--keep", action="store_true", help="Keep the indexes in the workdir (to profile them).")
    parser.add_argument("--measure", nargs=2, metavar=("ENGINE", "ROOT"),
                        help="Only time the query set in process on an index kept with --keep (no build).")
    args = parser.parse_args(argv)
    if args.measure:  # an index kept by an earlier run: its in-process figures only
        index = SearchIndex(args.measure[1], engine=args.measure[0])
        print(json.dumps(dict(engine=args.measure[0], criteria=index.meta().get("criteria"),
                              **in_process(index, args.repeat))))
        return 0
    records = load_records(args.source)
    base = sum(1 for r in records for _ in r.all_criteria())
    print(f"{len(records)} real records, {base} criteria, replicated to each scale", file=sys.stderr)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ptk-bench-"))
    rows = []
    for scale in (int(s) for s in args.scales.split(",")):
        for engine in args.engines.split(","):
            for jobs in (int(j) for j in args.jobs.split(",")):
                row = bench_one(engine, records, scale, jobs=jobs, source=args.source_kind,
                                repeat=args.repeat, workdir=workdir, process_runs=args.process_runs, keep=args.keep)
                print(json.dumps(row), file=sys.stderr, flush=True)
                rows.append(row)
    print_table(rows)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
