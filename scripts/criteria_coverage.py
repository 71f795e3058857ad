#!/usr/bin/env python3
"""How much of the eligibility text the criteria tree keeps, and whether its polarity agrees.

Two figures over the real texts of `../shared/data`, read straight from the
files (json, tarfile, ElementTree, csv), independent of the readers:

- **line kept**: a non-blank line is kept when it lands in a criterion's text
  (its last character is inside a criterion span), or it is a heading whose
  words live on in the criteria under it: the category of the criterion that
  follows it is that heading or ends with it (the qualifier of a sub-heading,
  a PDQ label, a lead-in line; categories nest as "A / B / C"), or it is a
  bare block heading ("Inclusion Criteria:", "Protocol Entry Criteria") whose
  polarity the next criterion carries, or that holds no criterion at all.
- **polarity agrees**: where the source gives inclusion and exclusion apart
  (ICTRP fields, DRKS lists, Chia `_inc`/`_exc` files), the text is composed
  as "Inclusion criteria:\\n...\\n\\nExclusion criteria:\\n..." and every line
  inside a criterion counts as agreeing when the criterion's polarity is the
  part it came from (or that of a block heading the registrant wrote inside
  the field: ICTRP inclusion fields often hold the exclusions too).

Usage:
    python scripts/criteria_coverage.py                  # the table
    python scripts/criteria_coverage.py --lost 30        # and 30 lost lines with their trial
    python scripts/criteria_coverage.py --json
"""

from __future__ import annotations

import argparse
import bisect
import collections
import csv
import gzip
import json
import re
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from toolkit.criteria.tree import parse_criteria  # noqa: E402
from toolkit.records import walk_criteria  # noqa: E402

_LINE = re.compile(r"[^\r\n]*")
_BR = re.compile(r"\n?<br\s*/?>", re.IGNORECASE)
_XML_NCT_ID = re.compile(rb"<nct_id>([^<]+)</nct_id>")
_XML_CRITERIA = re.compile(rb"<criteria>.*?</criteria>", re.DOTALL)
# A block heading that only names the criteria ("Key Inclusion Criteria include:", "Protocol Entry Criteria").
_BARE_BLOCK = re.compile(r"^(?:key |main |study |protocol )?(?:(inclusion|exclusion|non inclusion|eligibility|entry)"
                         r"(?: and (?:inclusion|exclusion))?)(?: criteria| criterion)?(?: include| includes| are)?$")
_WORDS = re.compile(r"[^\W_]+")

# A text: (source, trial, text, parts) where parts is None or [(start, end, polarity)].
Text = Tuple[str, str, str, Optional[List[Tuple[int, int, str]]]]


# --- sources ---------------------------------------------------------------------


def ctgov_json_texts() -> Iterator[Text]:
    for path in sorted((DATA / "ctgov-v2").glob("*ctg-studies*.json")):
        for study in json.loads(path.read_text(encoding="utf-8")):
            yield ("ctgov_json", *_v2_text(study), None)
    with zipfile.ZipFile(DATA / "ctgov-v2" / "Marc-Morcos_urology__ctg-studies.json.zip") as archive:
        for name in archive.namelist():
            if name.endswith(".json"):
                yield ("ctgov_json", *_v2_text(json.loads(archive.read(name))), None)


def _v2_text(study: dict) -> Tuple[str, str]:
    protocol = study.get("protocolSection", {})
    trial = protocol.get("identificationModule", {}).get("nctId", "")
    return trial, protocol.get("eligibilityModule", {}).get("eligibilityCriteria") or ""


def ctgov_xml_texts() -> Iterator[Text]:
    with tarfile.open(DATA / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz") as archive:
        for member in archive:
            if member.name.endswith(".xml"):
                data = archive.extractfile(member).read()
                block = _XML_CRITERIA.search(data)
                text = (ET.fromstring(block.group()).findtext("textblock") or "") if block else ""
                yield "ctgov_xml", _XML_NCT_ID.search(data).group(1).decode(), text, None


# A registrant's own block heading inside a field ("Exclusion Criteria:" inside the inclusion field).
_OWN_HEADING = re.compile(r"^[\W\d]*(?:[\w-]+\s+){0,3}?(inclusion|exclusion|non-inclusion)\s+criteria\b",
                          re.IGNORECASE | re.MULTILINE)


def composed(inclusion: str, exclusion: str) -> Tuple[str, List[Tuple[int, int, str]]]:
    """The two parts as one text (as the ICTRP mapper writes it), with the polarity of each span.

    A field is inclusion or exclusion, except after a block heading the
    registrant wrote inside it: ICTRP inclusion fields often hold "Exclusion
    Criteria:" and the exclusions too.
    """
    head_in, head_ex = "Inclusion criteria:\n", "\n\nExclusion criteria:\n"
    text = head_in + inclusion + head_ex + exclusion
    split = len(head_in) + len(inclusion)
    parts = []
    for start, end, polarity in ((0, split, "inclusion"), (split, len(text), "exclusion")):
        for found in _OWN_HEADING.finditer(text, start + 1, end):
            parts.append((start, found.start(), polarity))
            start, polarity = found.start(), "inclusion" if found.group(1).lower() == "inclusion" else "exclusion"
        parts.append((start, end, polarity))
    return text, parts


def ictrp_texts() -> Iterator[Text]:
    root = ET.parse(DATA / "ictrp" / "ICTRP-Results_18Mar2020.xml").getroot()
    for trial in root.iter("Trial"):
        inclusion = _BR.sub("\n", trial.findtext("Inclusion_Criteria") or "").strip()
        exclusion = _BR.sub("\n", trial.findtext("Exclusion_Criteria") or "").strip()
        yield ("ictrp", trial.findtext("TrialID") or "", *composed(inclusion, exclusion))


def cthist_texts() -> Iterator[Text]:
    csv.field_size_limit(10**9)
    with gzip.open(DATA / "versions-cthist" / "ctgov_versions_2022-03.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parts = json.loads(row["criteria"]) if row["criteria"].startswith("[") else []
            yield "cthist", f"{row['nctid']} v{row['version_number']}", "\n\n".join(parts), None
    with gzip.open(DATA / "versions-cthist" / "drks_versions_2022-03.csv.gz", "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            inclusion, exclusion = (
                "\n".join(json.loads(row[c])) if row[c].startswith("[") else ""
                for c in ("inclusion_criteria", "exclusion_criteria"))
            yield ("drks", f"{row['drksid']} v{row['version_number']}", *composed(inclusion, exclusion))


def chia_texts() -> Iterator[Text]:
    for inc in sorted((DATA / "chia-train").glob("NCT*_inc.txt")):
        exc = inc.with_name(inc.name.replace("_inc", "_exc"))
        if exc.exists():
            parts = [open(p, encoding="utf-8", newline="").read().strip() for p in (inc, exc)]
            yield ("chia", inc.stem[:-4], *composed(*parts))


SOURCES = {"ctgov_json": ctgov_json_texts, "ctgov_xml": ctgov_xml_texts, "ictrp": ictrp_texts,
           "cthist_drks": cthist_texts, "chia": chia_texts}


# --- the figures ---------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def measure(text: str, parts) -> dict:
    """Counts for one text: lines, kept, lost lines, polarity lines and agreements."""
    result = parse_criteria(text)
    criteria = sorted(walk_criteria(result.criteria), key=lambda c: c.start)
    starts = [c.start for c in criteria]
    heads = sorted(zip(result.heading_spans, result.headings))
    head_starts = [span[0] for span, _ in heads]
    counts = collections.Counter()
    lost = []
    for match in _LINE.finditer(text):
        line = match.group().rstrip()
        if not line.strip():
            continue
        counts["lines"] += 1
        last = match.start() + len(line) - 1
        at = bisect.bisect_right(starts, last) - 1
        if at >= 0 and criteria[at].start <= last < criteria[at].end:
            counts["kept"] += 1
            _polarity(counts, criteria[at].polarity, last, parts)
            continue
        index = bisect.bisect_right(head_starts, last) - 1
        if index >= 0 and heads[index][0][0] <= last < heads[index][0][1]:
            following = criteria[bisect.bisect_left(starts, heads[index][0][1])] \
                if bisect.bisect_left(starts, heads[index][0][1]) < len(criteria) else None
            after = head_starts[index + 1] if index + 1 < len(heads) else len(text)
            empty = following is None or following.start >= after
            if _heading_kept(heads[index][1], following, empty):
                counts["kept"] += 1
                continue
        lost.append(line.strip())
    return {"counts": counts, "lost": lost}


def _heading_kept(heading: str, following, empty: bool) -> bool:
    """A heading lives on in the criterion after it: as (the end of) its category, or its polarity.

    `empty`: another heading comes before any criterion (a block with nothing in it).
    """
    if following is None:
        following = type("Nothing", (), {"category": None, "polarity": None})()
    head = _norm(heading)
    pieces = [_norm(piece) for piece in (following.category or "").split(" / ")]
    if head and (head in pieces or _norm(following.category or "").endswith(head)):
        return True
    bare = _BARE_BLOCK.match(head)
    if bare:
        word = bare.group(1).replace("non inclusion", "exclusion")
        return word in ("eligibility", "entry") or following.polarity == word or empty
    return False


def _polarity(counts, polarity: str, last: int, parts) -> None:
    if parts is None:
        return
    expected = next((p for start, end, p in parts if start <= last < end), None)
    if expected is None:
        return
    counts["polarity_lines"] += 1
    counts["polarity_agree"] += polarity == expected


def run(sources, *, lost_examples: int = 0) -> dict:
    """The figures per source and in total."""
    table, examples = {}, []
    total = collections.Counter()
    for name in sources:
        counts = collections.Counter()
        for source, trial, text, parts in SOURCES[name]():
            if not text.strip():
                continue
            counts["texts"] += 1
            found = measure(text, parts)
            counts.update(found["counts"])
            examples.extend((trial, line) for line in found["lost"][:2])
        table[name] = _figures(counts)
        total.update(counts)
    table["total"] = _figures(total)
    return {"table": table, "lost": examples[:lost_examples] if lost_examples else []}


def _figures(counts) -> dict:
    lines, kept = counts["lines"], counts["kept"]
    pol, agree = counts["polarity_lines"], counts["polarity_agree"]
    return {"texts": counts["texts"], "lines": lines, "kept": kept,
            "line_kept_pct": round(100 * kept / lines, 3) if lines else None,
            "polarity_lines": pol, "polarity_agree_pct": round(100 * agree / pol, 3) if pol else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", choices=sorted(SOURCES), help="default: all")
    parser.add_argument("--lost", type=int, default=0, help="print this many lost lines")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.source or list(SOURCES), lost_examples=args.lost)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'source':12} {'texts':>6} {'lines':>8} {'kept %':>8} {'pol lines':>9} {'pol agree %':>11}")
    for name, row in report["table"].items():
        print(f"{name:12} {row['texts']:>6} {row['lines']:>8} {row['line_kept_pct'] or '-':>8}"
              f" {row['polarity_lines']:>9} {row['polarity_agree_pct'] or '-':>11}")
    for trial, line in report["lost"]:
        print(f"lost  {trial}: {line[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
