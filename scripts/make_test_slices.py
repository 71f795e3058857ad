"""Cut the small slices of `../shared/data` that the test suite ships.

The fast tests read real registry records. The whole shared data (about 50 MB)
stays outside the repo; `tests/fixtures/data/` holds a slice of each file with
the same relative path: every record a test names (any trial id written in
`tests/*.py` or the diff golden fixtures) plus the first records of each file,
so tests that walk a whole file still meet its variety. Tests that check whole
files against their exact totals carry the `data` marker and run only where the
shared data is (`PTK_DATA`, or `../shared/data`).

Deterministic: the same data and tests give the same slices.

Usage: python scripts/make_test_slices.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "fixtures" / "data"
_ID = re.compile(r"\b(?:NCT\d{8}|DRKS\d{8}|ChiCTR[0-9A-Za-z-]+|IRCT[0-9A-Za-z]+|EUCTR[0-9A-Z-]+|"
                 r"ISRCTN\d+|ACTRN\d+|JPRN-[A-Za-z0-9-]+|KCT\d+|TCTR\d+|\d{4}-\d{6}-\d{2}(?:-[A-Z]{2})?)\b")
FIRST = 12  # leading records kept from every file besides the named ones
XML_FIRST = 200  # the legacy XML tarball: the index and search tests need its variety
WHOLE = (  # small files shipped whole
    "ctgov-v2/api_v2_studies_metadata__aact-v2.json",
    "versions-cthist/ctgov_versions_2022-03.csv.gz",
    "versions-cthist/drks_versions_2022-03.csv.gz",
    "multiregistry/euctr_text_export_sample.txt",
)
CHIA_DOCS = 16  # Chia trials kept (both documents), besides the named ones


def named_ids() -> set:
    """Every trial id the tests and their fixtures mention."""
    texts = [p.read_text("utf-8") for p in sorted((REPO / "tests").glob("*.py"))]
    texts += [p.read_text("utf-8") for p in sorted((REPO / "tests" / "fixtures" / "diff").glob("*.json"))]
    return {m.group(0) for text in texts for m in _ID.finditer(text)}


def keep(index: int, text: str, ids: set, first: int = FIRST) -> bool:
    """A record is kept when it comes among the `first` of its file or names a wanted id."""
    return index < first or any(i in text for i in ids)


def slice_json_array(src: Path, dst: Path, ids: set) -> None:
    studies = json.loads(src.read_text("utf-8"))
    kept = [s for i, s in enumerate(studies) if keep(i, json.dumps(s), ids)]
    one_per_line = src.read_text("utf-8")[:40].startswith('[\n{"')
    if one_per_line:
        dst.write_text("[\n" + ",\n".join(json.dumps(s, ensure_ascii=False, separators=(",", ":")) for s in kept)
                       + "\n]\n", "utf-8")
    else:
        dst.write_text(json.dumps(kept, ensure_ascii=False, indent=2) + "\n", "utf-8")


def slice_zip(src: Path, dst: Path, ids: set) -> None:
    with zipfile.ZipFile(src) as archive, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for i, info in enumerate(archive.infolist()):
            if keep(i, info.filename, ids):
                out.writestr(info, archive.read(info))


def slice_tar(src: Path, dst: Path, ids: set) -> None:
    with tarfile.open(src) as archive, tarfile.open(dst, "w:gz") as out:
        count = 0
        for member in archive:
            if member.isdir():
                out.addfile(member)
                continue
            if keep(count, member.name, ids, first=XML_FIRST):
                out.addfile(member, archive.extractfile(member))
            count += 1


def slice_ictrp_xml(src: Path, dst: Path, ids: set) -> None:
    text = src.read_text("utf-8")
    first = text.index("<Trial>")
    last = text.rindex("</Trial>") + len("</Trial>")
    trials = re.findall(r"<Trial>.*?</Trial>", text[first:last], re.DOTALL)
    kept = [t for i, t in enumerate(trials) if keep(i, t[:600], ids)]
    dst.write_text(text[:first] + "\n".join(kept) + text[last:], "utf-8")


def slice_jsonl_gz(src: Path, dst: Path, ids: set, key, *, per_group: int) -> None:
    with gzip.open(src, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines(keepends=True)
    seen = {}  # group (register) -> lines kept: the first lines of every register
    kept = []
    for line in lines:
        data = json.loads(line)
        group = data.get("ctrname", "")
        seen[group] = seen.get(group, 0) + 1
        if seen[group] <= per_group or key(data) in ids:
            kept.append(line)
    with gzip.GzipFile(dst, "wb", mtime=0) as out:
        out.write("".join(kept).encode("utf-8"))


def slice_chia(src: Path, dst: Path, ids: set) -> None:
    trials = sorted({p.name.split("_")[0] for p in src.glob("NCT*_*.txt")})
    wanted = set(trials[:CHIA_DOCS]) | (ids & set(trials))
    dst.mkdir(parents=True, exist_ok=True)
    for trial in sorted(wanted):
        for part in ("inc", "exc"):
            for ext in ("txt", "ann"):
                path = src / f"{trial}_{part}.{ext}"
                if path.exists():
                    shutil.copyfile(path, dst / path.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    ids = named_ids()
    data = args.data
    for name in WHOLE:
        (OUT / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / name, OUT / name)
    for path in sorted((data / "ctgov-v2").glob("*ctg-studies*.json")):
        slice_json_array(path, OUT / "ctgov-v2" / path.name, ids)
    slice_zip(data / "ctgov-v2" / "Marc-Morcos_urology__ctg-studies.json.zip",
              OUT / "ctgov-v2" / "Marc-Morcos_urology__ctg-studies.json.zip", ids)
    (OUT / "ctgov-xml").mkdir(parents=True, exist_ok=True)
    slice_tar(data / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz", OUT / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz", ids)
    (OUT / "ictrp").mkdir(parents=True, exist_ok=True)
    slice_ictrp_xml(data / "ictrp" / "ICTRP-Results_18Mar2020.xml", OUT / "ictrp" / "ICTRP-Results_18Mar2020.xml", ids)
    slice_jsonl_gz(data / "ictrp" / "ictrp_covid19_versions.jsonl.gz", OUT / "ictrp" / "ictrp_covid19_versions.jsonl.gz",
                   ids, lambda line: line.get("TrialID"), per_group=48)
    slice_jsonl_gz(data / "multiregistry" / "ctrdata_versions.jsonl.gz",
                   OUT / "multiregistry" / "ctrdata_versions.jsonl.gz", ids, lambda line: line.get("_id"), per_group=6)
    slice_chia(data / "chia-train", OUT / "chia-train", ids)
    shutil.copyfile(data / "README.md", OUT / "README.md")


if __name__ == "__main__":
    main()
