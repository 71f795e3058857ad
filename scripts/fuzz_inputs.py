#!/usr/bin/env python3
"""Fuzz every reader with damaged copies of real records.

Each case takes a real seed file of one reader (the shipped `corpus/` samples
and slices of `../shared/data`), applies one or two mutations drawn from a
seeded generator (byte flips, truncation, deletion, duplication, deep nesting,
a huge field, a wrong encoding, an archive trick) and runs `ptk parse --no-tag`
on it in a fresh process. A case passes when:
- no Python traceback reaches stderr and the exit code is 0 or 1;
- the run ends within `--case-timeout` seconds (never hangs);
- the peak RSS of the run stays under `--max-rss-mb`;
- every record is stored or named: the records written (`--jsonl`) plus the
  failures that name a record cover the record openings still present in the
  damaged bytes (less the few a mutation may have broken), or a failure names
  the whole file when nothing of it could be read.
Findings are printed as JSON lines (and kept under `--keep` with their input).

Usage:
    python scripts/fuzz_inputs.py --budget 60                 # one minute
    nice -n 19 python scripts/fuzz_inputs.py --budget 3600 --seed 14 --keep /tmp/fuzz
    python scripts/fuzz_inputs.py --in-process --cases 20     # quick, for the tests
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CORPUS = REPO / "corpus"
MB = 1024 * 1024


# --- seeds: real records of every reader ------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A real input of one reader and the regex counting its record openings."""

    reader: str
    name: str
    data: bytes
    opening: "re.Pattern"


def _head_lines(path: Path, count: int) -> bytes:
    with gzip.open(path, "rb") as stream:
        return b"".join(stream.readline() for _ in range(count))


def _csv_head(path: Path, rows: int) -> bytes:
    """The header and the first rows of a gzipped CSV (rows may span lines)."""
    import csv

    with gzip.open(path, "rt", encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for index, row in enumerate(reader):
            if index > rows:
                break
            writer.writerow(row)
    return out.getvalue().encode("utf-8")


def load_seeds() -> List[Seed]:
    """The seed files: shipped samples always, shared data when present."""
    study = re.compile(rb'\{\s*"protocolSection"\s*:')
    seeds = [
        Seed("ctgov_json", "array.json", (CORPUS / "ctgov-v2" / "ctg-studies-sample.json").read_bytes(), study),
        Seed("ictrp_xml", "export.xml", (CORPUS / "ictrp" / "ICTRP-Results_18Mar2020-sample.xml").read_bytes(),
             re.compile(rb"^\s*<Trial[\s>]", re.M)),
        Seed("page", "page.txt", (CORPUS / "seed" / "NCT06054113.txt").read_bytes(), re.compile(rb"\A")),
    ]
    for xml in sorted((CORPUS / "ctgov-xml").glob("*.xml"))[:40:8]:
        seeds.append(Seed("ctgov_xml", xml.name, xml.read_bytes(), re.compile(rb"<clinical_study[\s>]")))
    for csv_file in sorted((CORPUS / "history").glob("*.csv")):
        seeds.append(Seed("cthist_csv", csv_file.name, csv_file.read_bytes(),
                          re.compile(rb'^"?(?:NCT\d{8}|DRKS\d{8})"?,', re.M)))
    fixtures = REPO / "tests" / "fixtures"
    seeds.append(Seed("ctgov_classic", "full_studies.json",
                      (fixtures / "ctgov_classic" / "full_studies.json").read_bytes(),
                      re.compile(rb'"Study"\s*:\s*\{')))
    seeds.append(Seed("euctr_text", "euctr.txt", (fixtures / "euctr_text" / "two_member_states.txt").read_bytes(),
                      re.compile(rb"^Summary\r?\nEudraCT Number:", re.M)))
    studies = json.loads(seeds[0].data)[:12]
    seeds.append(Seed("ctgov_json", "studies.jsonl",
                      b"".join(json.dumps(s).encode() + b"\n" for s in studies), study))
    seeds.append(Seed("ctgov_json", "page.json",
                      json.dumps({"studies": studies, "nextPageToken": "x"}).encode(), study))
    seeds.append(Seed("ctgov_json", "minified.json", json.dumps(studies, separators=(",", ":")).encode(), study))
    shared = {
        "ctrdata": ("multiregistry/ctrdata_versions.jsonl.gz", rb'^\{"_id"'),
        "ictrp_versions": ("ictrp/ictrp_covid19_versions.jsonl.gz", rb'^\{"TrialID"'),
    }
    for reader, (relative, opening) in shared.items():
        if (DATA / relative).exists():
            seeds.append(Seed(reader, f"{reader}.jsonl", _head_lines(DATA / relative, 15), re.compile(opening, re.M)))
    for relative in ("versions-cthist/drks_versions_2022-03.csv.gz", "versions-cthist/ctgov_versions_2022-03.csv.gz"):
        if (DATA / relative).exists():
            seeds.append(Seed("cthist_csv", Path(relative).stem, _csv_head(DATA / relative, 25),
                              re.compile(rb'^"?(?:NCT\d{8}|DRKS\d{8})"?,', re.M)))
    return seeds


# --- mutations ------------------------------------------------------------------------


@dataclass
class Case:
    """One damaged input: its bytes, its file name and how it was made."""

    seed: Seed
    data: bytes
    name: str
    steps: List[str] = field(default_factory=list)
    slack: int = 0  # record openings a mutation may have broken without a trace
    whole_file_ok: bool = False  # a failure naming the whole file accounts for it
    archive: Optional[str] = None
    inner: bytes = b""  # the damaged bytes before an archive wrapped them
    copies: int = 1  # entries holding those bytes


def flip(rng: random.Random, case: Case) -> None:
    data = bytearray(case.data)
    count = rng.randint(1, 8)
    for _ in range(count):
        data[rng.randrange(len(data))] = rng.randrange(256)
    case.data, case.slack = bytes(data), case.slack + count
    case.steps.append(f"flip x{count}")


def truncate(rng: random.Random, case: Case) -> None:
    cut = rng.randrange(len(case.data))
    case.data = case.data[:cut]
    case.slack += 1
    case.steps.append(f"truncate at {cut}")


def delete(rng: random.Random, case: Case) -> None:
    start = rng.randrange(len(case.data))
    size = rng.choice([1, 7, 100, 2000, 20000])
    case.data = case.data[:start] + case.data[start + size:]
    case.slack += 2
    case.steps.append(f"delete {size} at {start}")


def duplicate(rng: random.Random, case: Case) -> None:
    start = rng.randrange(len(case.data))
    size = rng.choice([1, 50, 3000, 30000])
    chunk = case.data[start:start + size]
    at = rng.randrange(len(case.data))
    case.data = case.data[:at] + chunk + case.data[at:]
    case.slack += 2
    case.steps.append(f"duplicate {size} from {start} to {at}")


def deep(rng: random.Random, case: Case) -> None:
    depth = rng.choice([500, 5000, 100000])
    opener = {"ictrp_xml": b"<a>", "ctgov_xml": b"<a>"}.get(case.seed.reader, rng.choice([b"[", b'{"a":']))
    at = _inside_a_record(rng, case)
    case.data = case.data[:at] + opener * depth + case.data[at:]
    case.slack += 1
    case.steps.append(f"deep {opener.decode()} x{depth} at {at}")


def huge_field(rng: random.Random, case: Case) -> None:
    size = rng.choice([1, 4, 20]) * MB
    at = _inside_a_record(rng, case)
    case.data = case.data[:at] + b"x" * size + case.data[at:]
    case.steps.append(f"huge field {size // MB} MB at {at}")


def _inside_a_record(rng: random.Random, case: Case) -> int:
    """A position just after a quote or a tag end, past the first record opening."""
    marks = [m.end() for m in re.finditer(rb'": "|>[A-Za-z]', case.data[:2_000_000])]
    return rng.choice(marks) if marks else rng.randrange(len(case.data))


def encoding(rng: random.Random, case: Case) -> None:
    text = case.data.decode("utf-8", "replace")
    kind = rng.choice(["utf-16", "utf-16-le", "latin-1", "bom", "crlf", "bad-bytes", "nul"])
    if kind in ("utf-16", "utf-16-le"):
        case.data = text.encode(kind)
        case.whole_file_ok = True
    elif kind == "latin-1":
        case.data = text.encode("latin-1", "replace")
        case.slack += text.count("\n") + 1  # each line with a non-latin character may fail
    elif kind == "bom":
        case.data = b"\xef\xbb\xbf" + case.data
    elif kind == "crlf":
        case.data = case.data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    elif kind == "bad-bytes":
        data = bytearray(case.data)
        for _ in range(3):
            data[rng.randrange(len(data))] = rng.choice([0x80, 0xC3, 0xFF, 0xFE])
        case.data, case.slack = bytes(data), case.slack + 3
    else:
        at = rng.randrange(len(case.data))
        case.data = case.data[:at] + b"\x00" * rng.choice([1, 100]) + case.data[at:]
        case.slack += 1
    case.steps.append(f"encoding {kind}")


MUTATIONS: List[Callable[[random.Random, Case], None]] = [
    flip, truncate, delete, duplicate, deep, huge_field, encoding,
]


# --- archive tricks -----------------------------------------------------------------------

_NAMES = ["{name}", "dir/{name}", "evil\nfailed: FORGED LINE {name}", "../{name}", "/abs/{name}",
          "ctl\x1b[31m{name}", "caf\u00e9 {name}"]


def archive(rng: random.Random, case: Case) -> None:
    kind = rng.choice(["zip", "tar", "tar.gz", "gz", "bz2", "xz", "zip-in-zip", "bomb", "truncated"])
    name = rng.choice(_NAMES).format(name=case.name)
    case.inner = case.data
    if kind == "zip":
        case.copies = 2 if rng.random() < 0.3 else 1
        case.data = _zip({name + ("" if n == 0 else f".copy{n}"): case.data for n in range(case.copies)})
    elif kind == "tar":
        case.data = _tar(name, case.data, symlink=rng.random() < 0.3)
    elif kind == "tar.gz":
        case.data = gzip.compress(_tar(name, case.data), compresslevel=1)
    elif kind == "gz":
        case.data = gzip.compress(case.data, compresslevel=1)
    elif kind == "bz2":
        case.data = bz2.compress(case.data, compresslevel=1)
    elif kind == "xz":
        case.data = lzma.compress(case.data, preset=0)
    elif kind == "zip-in-zip":
        case.data = _zip({"inner.zip": _zip({name: case.data})})
    elif kind == "bomb":
        case.data = _gzip_bomb(case.data, rng.choice([64, 600]))
        case.whole_file_ok = True
    else:
        whole = _zip({name: case.data}) if rng.random() < 0.5 else gzip.compress(_tar(name, case.data))
        case.data = whole[: rng.randrange(max(1, len(whole)))]
        case.whole_file_ok = True
    case.archive = kind
    case.name = "dump.bin"
    case.steps.append(f"archive {kind} entry {name!r}")


def _gzip_bomb(data: bytes, megabytes: int) -> bytes:
    """`data` with `megabytes` of spaces after its first byte, gzipped without holding them."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as stream:
        stream.write(data[:1])
        block = b" " * MB
        for _ in range(megabytes):
            stream.write(block)
        stream.write(data[1:])
    return out.getvalue()


def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    return buf.getvalue()


def _tar(name: str, data: bytes, *, symlink: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
        if symlink:
            link = tarfile.TarInfo("link.json")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            out.addfile(link)
    return buf.getvalue()


def make_case(rng: random.Random, seeds: List[Seed]) -> Case:
    seed = rng.choice(seeds)
    case = Case(seed, seed.data, seed.name)
    for mutation in rng.sample(MUTATIONS, rng.choice([1, 1, 2])):
        if case.data:
            mutation(rng, case)
    if rng.random() < 0.3 and case.data:
        archive(rng, case)
    return case


# --- running a case -------------------------------------------------------------------------


@dataclass
class Result:
    """What one run of `ptk parse` did."""

    code: Optional[int]
    seconds: float
    peak_mb: float
    stored: int
    failures: List[Tuple[Optional[str], str]]  # (record or None, reason)
    stderr: str


_FAILED = re.compile(r"^failed: (.*?)(?: \[(.*)\])?: (.*)$")


def run_subprocess(path: Path, store: Path, jsonl: Path, *, jobs: int, timeout: float) -> Result:
    """`ptk parse --no-tag` on one file in a fresh process: exit code, time, peak RSS, output."""
    command = [sys.executable, "-c", "from toolkit.cli import main; main()", "parse", "--no-tag",
               "--store", str(store), "--jsonl", str(jsonl), "--jobs", str(jobs), str(path)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=str(REPO),
                                start_new_session=True)
        code, peak_kb = _wait(proc, timeout)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    seconds = time.monotonic() - started
    stored = sum(1 for _ in jsonl.open("rb")) if jsonl.exists() else 0
    return Result(code, seconds, peak_kb / 1024, stored, _failures(stderr), stderr)


def _wait(proc: subprocess.Popen, timeout: float) -> Tuple[Optional[int], int]:
    """Wait for a run (and its workers); kill the group after `timeout`. Returns (code, peak KB).

    The peak is the largest VmHWM of the run's process or any of its workers,
    polled from /proc: `ru_maxrss` would include this process's own peak,
    which a child inherits across fork and exec.
    """
    deadline, peak = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        peak = max(peak, _peak_kb(proc.pid))
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, peak
        time.sleep(0.02)
    os.killpg(proc.pid, 9)
    os.wait4(proc.pid, 0)
    proc.returncode = -9
    return None, peak


def _peak_kb(pid: int) -> int:
    """The largest VmHWM (KB) of a process and its children, 0 once gone."""
    peak = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for one in [str(pid), *children]:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmHWM:\s+(\d+)", status, re.M)
        peak = max(peak, int(match.group(1)) if match else 0)
    return peak


def _failures(stderr: str) -> List[Tuple[Optional[str], str]]:
    found = []
    for line in stderr.splitlines():
        match = _FAILED.match(line)
        if match:
            found.append((match.group(2), match.group(3)))
    return found


def run_in_process(path: Path) -> Result:
    """The same check without a process of its own (no RSS, no timeout): for the tests."""
    from toolkit.ingest import run_parse

    started = time.monotonic()
    stored = []
    summary = run_parse([str(path)], store=None, on_record=stored.append)
    stderr = "".join(f"failed: {f.describe()}\n" for f in summary.failed)  # as `ptk parse` prints them
    failures = _failures(stderr)
    return Result(1 if failures else 0, time.monotonic() - started, 0.0, len(stored), failures, stderr)


# --- the oracle -------------------------------------------------------------------------------


def judge(case: Case, result: Result, *, max_rss_mb: float) -> List[str]:
    """What is wrong with a run, as short findings (empty: the case passed)."""
    findings = []
    if "Traceback" in result.stderr:
        findings.append("traceback: " + result.stderr.strip().splitlines()[-1][:200])
    if result.code is None:
        findings.append(f"hang: killed after {result.seconds:.0f} s")
    elif result.code not in (0, 1):
        findings.append(f"exit code {result.code}")
    elif result.code == 1 and not result.failures and "Traceback" not in result.stderr:
        findings.append("run error: " + (result.stderr.strip().splitlines() or [""])[-1][:200])
    if result.peak_mb > max_rss_mb:
        findings.append(f"peak RSS {result.peak_mb:.0f} MB > {max_rss_mb:.0f} MB")
    if any("\n" in (record or "") or "\x1b" in (record or "") for record, _ in result.failures):
        findings.append("control character in a message")
    if "FORGED LINE" in result.stderr and "\\nfailed: FORGED" not in result.stderr:
        findings.append("forged line in the output")
    lost, openings = _uncounted(case, result)
    if lost > 0 and result.code is not None:
        findings.append(f"{lost} records neither stored nor named ({openings} openings, slack {case.slack},"
                        f" {result.stored} stored, {len(result.failures)} named)")
    return findings


def _uncounted(case: Case, result: Result) -> Tuple[int, int]:
    """Record openings of the damaged input that no record or failure accounts for, and the openings."""
    whole = [r for r, _ in result.failures if r is None or "#" not in r]  # a file or an archive entry
    if whole and (case.whole_file_ok or result.stored == 0):
        return 0, 0  # a failure names the whole file or entry
    if case.archive == "truncated":
        return 0, 0
    inner = case.inner if case.archive else case.data
    openings = len(case.seed.opening.findall(inner)) if case.seed.opening.pattern != rb"\A" else 1
    openings *= case.copies
    named = sum(1 for _ in result.failures)
    return openings - case.slack * case.copies - result.stored - named, openings


# --- the loop ------------------------------------------------------------------------------------


def fuzz(*, seed: int, budget: float, cases: int, in_process: bool, keep: Optional[Path],
         case_timeout: float, max_rss_mb: float, out=sys.stdout) -> dict:
    """Run cases until the budget (seconds) or the case count is spent; returns the totals."""
    rng = random.Random(seed)
    seeds = load_seeds()
    totals = {"seed": seed, "runs": 0, "findings": 0, "tracebacks": 0, "hangs": 0, "uncounted": 0,
              "max_peak_mb": 0.0, "max_seconds": 0.0, "by_reader": {}}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ptk-fuzz-") as tmp:
        work = Path(tmp)
        while (time.monotonic() - started < budget) and (not cases or totals["runs"] < cases):
            case = make_case(rng, seeds)
            number = totals["runs"]
            findings = _run_case(case, work, number, in_process=in_process, rng=rng,
                                 case_timeout=case_timeout, max_rss_mb=max_rss_mb, totals=totals)
            if findings:
                _report(case, findings, number, work, keep, out)
            shutil.rmtree(work / "store", ignore_errors=True)
            if totals["runs"] % 50 == 0:  # progress on stderr: the counts survive a killed run
                print(json.dumps({"progress": totals}), file=sys.stderr, flush=True)
    return totals


def _run_case(case: Case, work: Path, number: int, *, in_process: bool, rng: random.Random,
              case_timeout: float, max_rss_mb: float, totals: dict) -> List[str]:
    path = work / case.name
    path.write_bytes(case.data)
    jsonl = work / "records.jsonl"
    jsonl.unlink(missing_ok=True)
    if in_process:
        result = run_in_process(path)
    else:
        jobs = 2 if rng.random() < 0.2 else 1
        result = run_subprocess(path, work / "store", jsonl, jobs=jobs, timeout=case_timeout)
    findings = judge(case, result, max_rss_mb=max_rss_mb)
    totals["runs"] += 1
    totals["findings"] += bool(findings)
    totals["tracebacks"] += any(f.startswith("traceback") for f in findings)
    totals["hangs"] += any(f.startswith("hang") for f in findings)
    totals["uncounted"] += any("neither stored nor named" in f for f in findings)
    totals["max_peak_mb"] = max(totals["max_peak_mb"], result.peak_mb)
    totals["max_seconds"] = max(totals["max_seconds"], result.seconds)
    reader = totals["by_reader"].setdefault(case.seed.reader, [0, 0])
    reader[0] += 1
    reader[1] += bool(findings)
    path.unlink(missing_ok=True)
    return findings


def _report(case: Case, findings: List[str], number: int, work: Path, keep: Optional[Path], out) -> None:
    line = {"case": number, "reader": case.seed.reader, "seed_file": case.seed.name, "steps": case.steps,
            "findings": findings}
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        kept = keep / f"case{number:05d}-{case.seed.reader}.bin"
        kept.write_bytes(case.data)
        line["kept"] = str(kept)
    print(json.dumps(line), file=out, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds to run")
    parser.add_argument("--cases", type=int, default=0, help="stop after this many cases (0: budget only)")
    parser.add_argument("--in-process", action="store_true", help="no subprocess: no RSS or timeout check")
    parser.add_argument("--keep", type=Path, help="keep the inputs of failing cases here")
    parser.add_argument("--case-timeout", type=float, default=60.0)
    parser.add_argument("--max-rss-mb", type=float, default=500.0)
    args = parser.parse_args(argv)
    totals = fuzz(seed=args.seed, budget=args.budget, cases=args.cases, in_process=args.in_process,
                  keep=args.keep, case_timeout=args.case_timeout, max_rss_mb=args.max_rss_mb)
    print(json.dumps({"totals": totals}), flush=True)
    return 1 if totals["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
