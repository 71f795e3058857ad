#!/usr/bin/env python3
"""Check that a change to the tagger leaves every tag as it was, on real records.

`--write FILE` tags the criteria of the shared real records the way `ptk parse`
does (`toolkit.ingest.iter_parsed` with the default tagger) and writes each
record's criteria and tags (every field, in order) as gzipped JSON Lines;
`--against FILE` tags them again and compares, criterion by criterion. Run
`--write` on the code before the change and `--against` on the code after it:
exit status 1 and the first differences when any tag differs.

Records: the API v2 studies of `ctgov-v2` (arrays and the bulk zip), the ICTRP
export and the first `--xml` legacy XML studies of the shared tarball.

Usage:
    PYTHONPATH=/path/to/old/checkout python scripts/compare_tags.py --write /tmp/tags-before.jsonl.gz
    python scripts/compare_tags.py --against /tmp/tags-before.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator, List

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def input_paths(data: Path, xml: int, work: Path) -> List[str]:
    """The shared files to tag; the first `xml` legacy studies copied into a tarball under `work`."""
    paths = sorted(str(p) for p in (data / "ctgov-v2").glob("*ctg-studies*.json*"))
    paths.append(str(data / "ictrp" / "ICTRP-Results_18Mar2020.xml"))
    if xml:
        sample = work / "legacy-sample.tar.gz"
        with tarfile.open(data / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz") as source, \
                tarfile.open(sample, "w:gz") as out:
            studies = (m for m in source if m.isfile() and m.name.endswith(".xml"))
            for member in itertools.islice(studies, xml):
                out.addfile(member, source.extractfile(member))
        paths.append(str(sample))
    return paths


def tagged_rows(paths: List[str]) -> Iterator[dict]:
    """One row per record with criteria: its id and source, and per criterion its text and tags."""
    from toolkit.codec import to_dict
    from toolkit.ingest import default_tagger, iter_parsed

    for outcome in iter_parsed(paths, tagger=default_tagger()):
        record = outcome.record
        if record is None or record.eligibility is None or not record.eligibility.criteria:
            continue
        source = record.source
        yield {"id": record.trial_id, "where": [Path(source.path).name, source.entry, source.index] if source else None,
               "criteria": [[c.text, [to_dict(t) for t in c.tags]] for c in record.all_criteria()]}


def write(rows: Iterator[dict], path: Path) -> int:
    """Write the rows; returns the number of criteria."""
    count = 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for row in rows:
            count += len(row["criteria"])
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    return count


def compare(rows: Iterator[dict], path: Path, *, show: int) -> int:
    """Compare fresh rows with the written ones; print a summary and the first `show` differences.

    Returns:
        The number of criteria whose tags differ (records missing or extra count as differences).
    """
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        before = [json.loads(line) for line in handle]
    differing = criteria = 0
    fresh = list(rows)
    if len(fresh) != len(before):
        print(f"records: {len(before)} before, {len(fresh)} now", file=sys.stderr)
        differing += abs(len(fresh) - len(before))
    for old, new in zip(before, fresh):
        new = json.loads(json.dumps(new, ensure_ascii=False, sort_keys=True))  # the written form
        if (old["id"], old["where"]) != (new["id"], new["where"]) or len(old["criteria"]) != len(new["criteria"]):
            print(f"record {old['id']} / {new['id']}: records or criteria differ", file=sys.stderr)
            differing += max(len(old["criteria"]), len(new["criteria"]))
            continue
        for (text, old_tags), (_, new_tags) in zip(old["criteria"], new["criteria"]):
            criteria += 1
            if old_tags != new_tags:
                differing += 1
                if differing <= show:
                    print(f"{old['id']}: {text!r}\n  before: {old_tags}\n  now:    {new_tags}", file=sys.stderr)
    print(f"{criteria} criteria of {len(before)} records compared; {differing} differ")
    return differing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, help="write the tags of the current code here")
    action.add_argument("--against", type=Path, help="compare the tags of the current code with this file")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--xml", type=int, default=1000, help="legacy XML studies to include")
    parser.add_argument("--show", type=int, default=10, help="differences to print")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ptk-tags-") as tmp:
        rows = tagged_rows(input_paths(args.data, args.xml, Path(tmp)))
        if args.write:
            print(f"{write(rows, args.write)} criteria written to {args.write}")
            return 0
        return 1 if compare(rows, args.against, show=args.show) else 0


if __name__ == "__main__":
    sys.exit(main())
