#!/usr/bin/env python3
"""Whole-registry scale: build an N-trial corpus, parse, tag and index it, extrapolate to 600k.

The corpus is made from the shared real records with rewritten trial ids, keeping
the real variety of formats and sizes: modern API v2 studies (arrays and the bulk
zip) written as JSON Lines, and legacy XML studies written into a `.tar.gz` in the
AllPublicXML layout, in the proportion `--xml-share`. Each stage runs in a fresh
process (so its peak RSS is its own) through the same calls as the CLI:

  parse      `ptk parse --no-tag` (read, map, criteria tree, store)
  tag        `ptk parse` with the tagger, into a second store
  index      `ptk index --rebuild` over the tagged store, per engine
  update     with `--update N`: a daily change set of N changed API v2 studies of the
             corpus, `ptk parse` (tagged) into the tagged store, then `ptk index`
             bringing every built index level (only the changed trials)

Figures per stage: wall seconds, CPU seconds (parent and workers), trials/s and
criteria/s (wall and per CPU-second), peak RSS of the parent and of one worker,
and store/index size per 1,000 trials; then the extrapolation to `--target`
trials at the measured wall rate (stages in sequence).

Usage:
    python scripts/bench_scale.py --trials 20000 --jobs 2
    python scripts/bench_scale.py --trials 200 --stages parse,index --engines tantivy   # quick
    python scripts/bench_scale.py --trials 20000 --update 3000   # a daily update into a 20k store
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Iterator, List

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PTK_DATA") or REPO.parent / "shared" / "data")
STAGES = ("parse", "tag", "index")
_NCT = re.compile(rb"NCT\d{8}")


# --- the corpus ----------------------------------------------------------------

def v2_studies(data: Path) -> List[dict]:
    """Every API v2 study of the shared data (arrays and the bulk zip)."""
    studies = []
    for path in sorted((data / "ctgov-v2").glob("*ctg-studies*.json")):
        studies.extend(json.loads(path.read_text("utf-8")))
    for zipped in sorted((data / "ctgov-v2").glob("*.json.zip")):
        with zipfile.ZipFile(zipped) as archive:
            studies.extend(json.loads(archive.read(name)) for name in archive.namelist() if name.endswith(".json"))
    return studies


def xml_studies(data: Path) -> Iterator[bytes]:
    """The legacy XML studies of the shared tarball, as bytes."""
    with tarfile.open(data / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".xml"):
                yield archive.extractfile(member).read()


def synthetic_id(number: int) -> str:
    """A trial id no real record has (NCT9xxxxxxx)."""
    return f"NCT9{number:07d}"


def study_numbered(v2: List[dict], number: int) -> dict:
    """A copy of the API v2 study of corpus trial `number` (the shared studies in turn), with its fresh id."""
    study = json.loads(json.dumps(v2[number % len(v2)]))
    study["protocolSection"]["identificationModule"]["nctId"] = synthetic_id(number)
    return study


def _json_line(study: dict) -> str:
    return json.dumps(study, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_corpus(folder: Path, *, trials: int, xml_share: float, data: Path, v2: List[dict]) -> dict:
    """Write `trials` records with fresh ids into `folder` (from the shared `v2` studies and legacy XML);
    returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    n_xml = int(round(trials * xml_share))
    n_v2 = trials - n_xml
    with gzip.open(folder / "studies.jsonl.gz", "wt", encoding="utf-8") as out:
        for i in range(n_v2):
            out.write(_json_line(study_numbered(v2, i)))
    xml = list(xml_studies(data)) if n_xml else []
    with tarfile.open(folder / "legacy.tar.gz", "w:gz") as out:
        for j in range(n_xml):
            new_id = synthetic_id(n_v2 + j).encode()
            body = _NCT.sub(new_id, xml[j % len(xml)], count=1)
            body = body.replace(b"<nct_id>" + _NCT.search(xml[j % len(xml)]).group(0), b"<nct_id>" + new_id)
            info = tarfile.TarInfo(f"NCT9xxxxxxx/{new_id.decode()}.xml")
            info.size = len(body)
            out.addfile(info, io.BytesIO(body))
    return {"trials": trials, "v2": n_v2, "xml": n_xml,
            "bytes": sum(p.stat().st_size for p in folder.iterdir())}


def write_changes(folder: Path, *, changed: int, corpus: dict, v2: List[dict]) -> Path:
    """A change set of `changed` corpus trials (API v2), each with new content, as one JSON Lines file.

    Spread evenly over the corpus's API v2 trials, each study gets a status
    update, a new last-update date and one more exclusion criterion: the kinds
    of edit a daily ClinicalTrials.gov change set carries, and one that makes
    the tagger and the index redo the trial.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_v2 = corpus["v2"]
    if not 0 < changed <= n_v2:
        raise SystemExit(f"--update {changed}: the corpus has {n_v2} API v2 trials to change")
    path = folder / "changes.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for k in range(changed):
            study = study_numbered(v2, k * n_v2 // changed)
            protocol = study["protocolSection"]
            status = protocol.setdefault("statusModule", {})
            status["overallStatus"] = "ACTIVE_NOT_RECRUITING"
            status["lastUpdatePostDateStruct"] = {"date": "2026-12-01", "type": "ACTUAL"}
            eligibility = protocol.setdefault("eligibilityModule", {})
            eligibility["eligibilityCriteria"] = (eligibility.get("eligibilityCriteria") or "Exclusion Criteria:") + (
                "\n* Participation in another interventional study within 30 days before screening")
            out.write(_json_line(study))
    return path


# --- one stage, in a child process ----------------------------------------------

def run_stage(stage: str, *, corpus: Path, work: Path, jobs: int, engine: str) -> dict:
    """Run one stage in a fresh interpreter and return its figures (`engine`: one, or a list for `update`)."""
    args = json.dumps({"stage": stage, "corpus": str(corpus), "work": str(work), "jobs": jobs, "engine": engine})
    done = subprocess.run([sys.executable, __file__, "--child", args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(spec: dict) -> dict:
    """The body of a stage (runs in the child)."""
    from toolkit.store import Store

    stage, work, jobs = spec["stage"], Path(spec["work"]), spec["jobs"]
    started = time.perf_counter()
    if stage == "update":
        return _update_child(spec["corpus"], work, jobs=jobs, engines=spec["engine"].split(","), started=started)
    paths = sorted(str(p) for p in Path(spec["corpus"]).iterdir())
    if stage in ("parse", "tag"):
        from toolkit.ingest import default_tagger, run_parse

        store_path = work / ("untagged.sqlite" if stage == "parse" else "tagged.sqlite")
        with Store(store_path, create=True) as store:
            summary = run_parse(paths, store=store, tagger=default_tagger() if stage == "tag" else None, jobs=jobs)
            counts = {"trials": summary.read, "failed": len(summary.failed)}
        size = sum(p.stat().st_size for p in work.glob(store_path.name + "*"))
    else:
        from toolkit.index import build_index

        with Store(work / "tagged.sqlite") as store:
            meta = build_index(store, index_dir=work / "indexes", engine=spec["engine"], jobs=jobs)
        counts = {"trials": meta["trials"], "criteria": meta["criteria"], "failed": 0}
        size = sum(p.stat().st_size for p in (work / "indexes" / spec["engine"]).rglob("*") if p.is_file())
    return _figures(counts, started=started, size=size)


def _update_child(changes: str, work: Path, *, jobs: int, engines: List[str], started: float) -> dict:
    """Parse a change set (tagged) into the tagged store, then bring each index level."""
    from toolkit.index import refresh
    from toolkit.ingest import default_tagger, run_parse
    from toolkit.store import Store

    with Store(work / "tagged.sqlite") as store:
        summary = run_parse([changes], store=store, tagger=default_tagger(), jobs=jobs)
        parsed = time.perf_counter()
        refreshed, index_seconds = {}, {}
        for engine in engines:
            begun = time.perf_counter()
            refreshed[engine] = refresh(store, index_dir=work / "indexes", engine=engine, jobs=jobs)
            index_seconds[engine] = time.perf_counter() - begun
    counts = {"trials": summary.read, "failed": len(summary.failed), "new_versions": summary.new_versions,
              "parse_seconds": parsed - started, "index_seconds": index_seconds,
              "reindexed": {e: len(s.changed) + len(s.missing) if s else 0 for e, s in refreshed.items()}}
    return _figures(counts, started=started, size=0)


def _figures(counts: dict, *, started: float, size: int) -> dict:
    """A stage's counts with its wall and CPU seconds, peak RSS and output size."""
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {**counts, "seconds": seconds, "cpu_seconds": sum(u.ru_utime + u.ru_stime for u in usage),
            "peak_mb": usage[0].ru_maxrss / 1024, "worker_peak_mb": usage[1].ru_maxrss / 1024, "bytes": size}


def criteria_count(work: Path) -> int:
    """Criteria in the latest versions of the untagged (or tagged) store."""
    from toolkit.store import Store

    name = "tagged.sqlite" if (work / "tagged.sqlite").exists() else "untagged.sqlite"
    with Store(work / name) as store:
        return sum(sum(1 for _ in record.all_criteria()) for record in store.iter_latest())


# --- report ----------------------------------------------------------------------

def report(rows: List[dict], *, target: int, jobs: int) -> str:
    """The table of stages and the extrapolation, as text.

    The whole build is `tag` (which parses too) then each `index`; `parse` counts
    only when there is no `tag` stage. Besides the wall rate (which depends on the
    machine's load), the CPU rate divided over `jobs` cores gives the figure a
    free machine would reach.
    """
    lines = [f"{'stage':<16}{'trials':>8}{'criteria':>10}{'wall s':>9}{'CPU s':>9}{'trials/s':>10}"
             f"{'crit/s':>10}{'crit/CPU-s':>11}{'peak MB':>9}{'worker MB':>10}{'MB/1k trials':>13}"]
    for row in rows:
        lines.append(
            f"{row['name']:<16}{row['trials']:>8,}{row['criteria']:>10,}{row['seconds']:>9.1f}{row['cpu_seconds']:>9.1f}"
            f"{row['trials'] / row['seconds']:>10,.0f}{row['criteria'] / row['seconds']:>10,.0f}"
            f"{row['criteria'] / max(row['cpu_seconds'], 1e-9):>11,.0f}{row['peak_mb']:>9.0f}{row['worker_peak_mb']:>10.0f}"
            f"{row['bytes'] / 1e6 / max(row['trials'], 1) * 1000:>13.1f}")
    parse = [r for r in rows if r["name"] == "tag"] or [r for r in rows if r["name"] == "parse"]
    for index in [r for r in rows if r["name"].startswith("index")] or [None]:
        build = parse + ([index] if index else [])
        wall = sum(r["seconds"] / max(r["trials"], 1) for r in build) * target / 60
        cores = max(1, min(jobs, os.cpu_count() or 1))
        cpu = sum(r["cpu_seconds"] / max(r["trials"], 1) for r in build) * target / 60 / cores
        what = " + ".join(r["name"] for r in build)
        lines.append(f"extrapolated to {target:,} trials ({what}): {wall:,.0f} min at these wall rates;"
                     f" {cpu:,.0f} min at these CPU rates on {cores} free core(s)")
    return "\n".join(lines)


def update_report(row: dict, *, store_trials: int) -> str:
    """The daily update's line: its size, where the time went, and what was re-indexed."""
    indexes = "; ".join(f"{engine} {row['reindexed'][engine]:,} trials re-indexed in {seconds:.1f} s"
                        for engine, seconds in row["index_seconds"].items()) or "no index"
    return (f"update of {row['trials']:,} changed trials into a {store_trials:,}-trial store:"
            f" {row['seconds']:.1f} s wall, {row['cpu_seconds']:.1f} CPU-s"
            f" (parse and tag {row['parse_seconds']:.1f} s, {row['new_versions']:,} new versions; {indexes});"
            f" peak {row['peak_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--xml-share", type=float, default=0.3, help="share of legacy XML records")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--engines", default="tantivy")
    parser.add_argument("--target", type=int, default=600_000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--update", type=int, default=0, metavar="N",
                        help="then apply a daily change set of N changed trials (parse + index update)")
    parser.add_argument("--json", dest="json_out", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    stages = [s for s in args.stages.split(",") if s]
    if "index" in stages and "tag" not in stages:
        stages.insert(stages.index("index"), "tag")  # the index is built from the tagged store
    with tempfile.TemporaryDirectory(prefix="ptk-scale-") as tmp:
        corpus, work = Path(tmp) / "corpus", Path(tmp) / "work"
        work.mkdir()
        v2 = v2_studies(args.data)  # read once: the corpus and the change set are made from them
        written = write_corpus(corpus, trials=args.trials, xml_share=args.xml_share, data=args.data, v2=v2)
        print(f"corpus: {written['trials']:,} trials ({written['v2']:,} API v2, {written['xml']:,} legacy XML),"
              f" {written['bytes'] / 1e6:.1f} MB compressed; jobs={args.jobs}", file=sys.stderr)
        rows, criteria = [], None
        for stage in stages:
            engines = args.engines.split(",") if stage == "index" else [""]
            for engine in engines:
                row = run_stage(stage, corpus=corpus, work=work, jobs=args.jobs, engine=engine)
                if criteria is None:
                    criteria = criteria_count(work)
                row.setdefault("criteria", criteria)
                row["name"] = f"{stage} {engine}".strip()
                rows.append(row)
                print(f"  {row['name']}: {row['seconds']:.1f}s", file=sys.stderr)
        update = None
        if args.update:
            changes = write_changes(Path(tmp) / "changes", changed=args.update, corpus=written, v2=v2)
            built = [e for e in args.engines.split(",") if "index" in stages]
            update = run_stage("update", corpus=changes, work=work, jobs=args.jobs, engine=",".join(built))
            print(f"  update: {update['seconds']:.1f}s", file=sys.stderr)
    print(report(rows, target=args.target, jobs=args.jobs))
    if update:
        print(update_report(update, store_trials=written["trials"]))
    if args.json_out:
        args.json_out.write_text(json.dumps({"corpus": written, "jobs": args.jobs, "rows": rows, "update": update},
                                            indent=2))


if __name__ == "__main__":
    main()
