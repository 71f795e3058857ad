#!/usr/bin/env python3
"""CPU time per stage of structure parsing for the XML formats, on one core.

Stages: read (containers, detection, safe XML parse), map (the format's
mapper), criteria (the criteria tree), hash (`canonical.with_hash`), encode
(the store's encoding of a record: JSON, body hash, compression). CPU time
(`time.process_time`) rather than wall time, so other processes on the
machine disturb the figures less; with `--repeat N` each stage reports its
best of N passes (on a shared machine one pass varies by a third).

`--floor` also times the floor the whole-registry goal is measured against
(lxml reading every XML member of the same tar archive: decompression and
parse, nothing else; `pip install lxml`, a benchmark-only need) and a whole
`ptk parse --no-tag` process into a fresh store, in CPU seconds, and prints
their ratio (goal: at most 4); with `--repeat N` each is the least of N runs.

Usage:
    python scripts/bench_xml_stages.py                       # legacy XML tarball
    python scripts/bench_xml_stages.py --floor               # and the ratio to the lxml floor
    python scripts/bench_xml_stages.py --repeat 3            # best of three passes
    python scripts/bench_xml_stages.py ../shared/data/ictrp/ICTRP-Results_18Mar2020.xml
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from toolkit.errors import Failure
from toolkit.criteria import attach_criteria
from toolkit.formats.table import mapper_module
from toolkit.formats import iter_records
from toolkit.canonical import with_hash
from toolkit.store import _encode as store_encoding

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz"


STAGES = ("read", "map", "criteria", "hash", "encode")


def measure(path: str) -> dict:
    """Seconds of CPU per stage and the record count for one source."""
    seconds = {name: 0.0 for name in STAGES}
    records = failures = 0
    clock = time.process_time
    items = iter(iter_records(path))
    while True:
        started = clock()
        raw = next(items, None)
        read = clock()
        seconds["read"] += read - started
        if raw is None:
            return {"records": records, "failures": failures, **seconds}
        if isinstance(raw, Failure):
            failures += 1
            continue
        mapper = mapper_module(raw.format)
        record = mapper.to_record(raw)
        mapped = clock()
        record = attach_criteria(record)
        parsed = clock()
        record = with_hash(record)
        hashed = clock()
        store_encoding(record)
        seconds["map"] += mapped - read
        seconds["criteria"] += parsed - mapped
        seconds["hash"] += hashed - parsed
        seconds["encode"] += clock() - hashed
        records += 1


def best_of(path: str, repeat: int) -> dict:
    """Per stage, the least CPU time over `repeat` passes."""
    runs = [measure(path) for _ in range(max(1, repeat))]
    best = dict(runs[0])
    for name in STAGES:
        best[name] = min(run[name] for run in runs)
    return best


def lxml_floor(path: str) -> float:
    """CPU seconds lxml takes to read and parse every XML member of a tar archive."""
    from lxml import etree  # benchmark-only dependency

    started = time.process_time()
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                etree.fromstring(archive.extractfile(member).read())
    return time.process_time() - started


def parse_process_cpu(path: str) -> float:
    """CPU seconds of a whole `ptk parse --no-tag` process into a fresh store."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", "parse", "--no-tag", "-q",
                        "--store", os.path.join(work, "store"), path], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(DEFAULT)])
    parser.add_argument("--repeat", type=int, default=1, help="passes; each stage keeps its best")
    parser.add_argument("--floor", action="store_true", help="also the whole process against the lxml floor")
    args = parser.parse_args(argv)
    for path in args.paths:
        result = best_of(path, args.repeat)
        n = max(result["records"], 1)
        stages = ", ".join(
            f"{name} {result[name]:.2f}s ({result[name] * 1e3 / n:.3f} ms/rec)" for name in STAGES)
        total = sum(result[name] for name in STAGES)
        print(f"{Path(path).name}: {result['records']} records, {result['failures']} failures; {stages}")
        print(f"  all stages {n / total:,.0f} rec/s; read+map {n / (result['read'] + result['map']):,.0f} rec/s")
        if args.floor:
            repeat = range(max(1, args.repeat))
            floor = min(lxml_floor(path) for _ in repeat)
            whole = min(parse_process_cpu(path) for _ in repeat)
            print(f"  lxml floor {floor:.2f} CPU s; ptk parse --no-tag {whole:.2f} CPU s: {whole / floor:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
