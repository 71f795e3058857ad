"""The criteria tree loses nothing: checked on every shared eligibility text.

Invariant, for a text T and its `CriteriaResult` R:
- the spans of all criteria (at any depth) and of all headings are non-empty
  and pairwise disjoint;
- every non-blank line of T has its last non-blank character inside exactly
  one of those spans (so every line is a heading or part of one criterion);
- every criterion's text is `criterion_text(T, start, end)`: its own source
  lines joined, markdown escapes removed, and it is not empty;
- `R.headings[i]` is the text of `R.heading_spans[i]`, bullet marks aside.

The texts (API v2 JSON and zip, legacy XML, ICTRP XML, cthist/DRKS CSV, and
the Chia criteria files) are read straight from the shared files (tarfile,
ElementTree, csv, json), independent of the readers.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import json
import re
import tarfile
import xml.etree.ElementTree as ET
import zipfile

import pytest

from conftest import data_path
from toolkit.criteria.tree import criterion_text, parse_criteria
from toolkit.records import walk_criteria

_LINE = re.compile(r"[^\r\n]*")
_BR = re.compile(r"\n?<br\s*/?>", re.IGNORECASE)
_XML_NCT_ID = re.compile(rb"<nct_id>([^<]+)</nct_id>")
_XML_CRITERIA = re.compile(rb"<criteria>.*?</criteria>", re.DOTALL)


def invariant_errors(text: str) -> list:
    """Return what breaks the invariant for one text (empty when it holds)."""
    result = parse_criteria(text)
    errors = []
    spans = [(c.start, c.end, c) for c in walk_criteria(result.criteria)]
    spans += [(start, end, None) for start, end in result.heading_spans]
    spans.sort(key=lambda span: span[:2])
    for (s1, e1, _), (s2, e2, _) in zip(spans, spans[1:]):
        if e1 > s2:
            errors.append(f"overlapping spans {s1}-{e1} and {s2}-{e2}")
    for start, end, criterion in spans:
        if start >= end:
            errors.append(f"empty span {start}-{end}")
        elif criterion is not None and criterion.text != criterion_text(text, start, end):
            errors.append(f"{criterion.id}: text differs from its span")
    if len(result.headings) != len(result.heading_spans):
        errors.append("headings and heading spans differ in number")
    starts = [span[0] for span in spans]
    for match in _LINE.finditer(text):
        line = match.group().rstrip()
        if not line.strip():
            continue
        last = match.start() + len(line) - 1
        index = bisect.bisect_right(starts, last) - 1
        if index < 0 or not spans[index][0] <= last < spans[index][1]:
            errors.append(f"line not covered: {line.strip()[:60]!r}")
    return errors


def _ctgov_json_texts():
    for path in sorted(data_path("ctgov-v2").glob("*ctg-studies*.json")):
        for study in json.loads(path.read_text(encoding="utf-8")):
            yield _v2_text(study)
    with zipfile.ZipFile(data_path("ctgov-v2", "Marc-Morcos_urology__ctg-studies.json.zip")) as archive:
        for name in archive.namelist():
            if name.endswith(".json"):
                yield _v2_text(json.loads(archive.read(name)))


def _v2_text(study: dict):
    protocol = study.get("protocolSection", {})
    trial = protocol.get("identificationModule", {}).get("nctId")
    return trial, protocol.get("eligibilityModule", {}).get("eligibilityCriteria") or ""


def _ctgov_xml_texts():
    """(NCT id, criteria textblock) of every study; ElementTree reads only the two elements."""
    with tarfile.open(data_path("ctgov-xml", "ctgov_xml_2023-02.tar.gz")) as archive:
        for member in archive:
            if member.name.endswith(".xml"):
                data = archive.extractfile(member).read()
                trial = _XML_NCT_ID.search(data).group(1).decode()
                block = _XML_CRITERIA.search(data)
                yield trial, ET.fromstring(block.group()).findtext("textblock") or "" if block else ""


def ictrp_text(inclusion: str, exclusion: str) -> str:
    """Compose an ICTRP trial's eligibility text as the ICTRP mapper does."""
    inclusion = _BR.sub("\n", inclusion or "").strip()
    exclusion = _BR.sub("\n", exclusion or "").strip()
    return f"Inclusion criteria:\n{inclusion}\n\nExclusion criteria:\n{exclusion}"


def _ictrp_texts():
    root = ET.parse(data_path("ictrp", "ICTRP-Results_18Mar2020.xml")).getroot()
    for trial in root.iter("Trial"):
        text = ictrp_text(trial.findtext("Inclusion_Criteria"), trial.findtext("Exclusion_Criteria"))
        yield trial.findtext("TrialID"), text


def _cthist_texts():
    csv.field_size_limit(10**9)
    path = data_path("versions-cthist", "ctgov_versions_2022-03.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parts = json.loads(row["criteria"]) if row["criteria"].startswith("[") else []
            yield f"{row['nctid']} v{row['version_number']}", "\n\n".join(parts)
    path = data_path("versions-cthist", "drks_versions_2022-03.csv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield f"{row['drksid']} v{row['version_number']}", _drks_text(row)


def _drks_text(row: dict) -> str:
    parts = []
    for column in ("inclusion_criteria", "exclusion_criteria"):
        value = row[column]
        parts.append("\n".join(json.loads(value)) if value.startswith("[") else "")
    return "\n\n".join(parts)


def _chia_texts():
    """Chia corpus criteria files (CRLF line ends kept: open with newline="")."""
    for path in sorted(data_path("chia-train").glob("NCT*_*.txt")):
        with open(path, encoding="utf-8", newline="") as handle:
            yield path.stem, handle.read()


SOURCES = {
    "chia": _chia_texts,
    "ctgov_json": _ctgov_json_texts,
    "ctgov_xml": _ctgov_xml_texts,
    "ictrp": _ictrp_texts,
    "cthist": _cthist_texts,
}
MINIMUM = {"chia": 1500, "ctgov_json": 1000, "ctgov_xml": 6700, "ictrp": 570, "cthist": 800}


@pytest.mark.data
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_criteria_invariant_every_shared_record(source):
    failures, seen = [], 0
    for trial, text in SOURCES[source]():
        seen += 1
        errors = invariant_errors(text)
        if errors:
            failures.append(f"{trial}: {errors[0]} (+{len(errors) - 1})")
    assert seen >= MINIMUM[source]
    assert not failures, f"{len(failures)} of {seen} texts break the invariant:\n" + "\n".join(failures[:20])


def test_criteria_invariant_checker_sees_a_lost_line(monkeypatch):
    """The checker fails when a parser drops a criterion (it can fail)."""
    text = "Inclusion Criteria:\n* a\n* b"
    assert invariant_errors(text) == []
    real = parse_criteria(text)
    dropped = type(real)(real.criteria[:1], real.headings, real.notes, real.heading_spans)
    monkeypatch.setattr(__import__(__name__), "parse_criteria", lambda _: dropped)
    assert invariant_errors(text) == ["line not covered: '* b'"]


# --- headings: a heading line lives on in what follows it ------------------------------
#
# Extension of the invariant to headings: a line inside a heading span is kept
# only when the heading is the category (or the end of the category path) of
# the criterion after it, or a bare block heading whose polarity that
# criterion carries (`scripts/criteria_coverage.py`, `_heading_kept`). The
# issue's goal is 99.95% of the non-blank lines kept; per source a few real
# oddities remain (a heading with nothing under it but a sibling heading).
HEADING_GOAL_PCT = {"chia": 99.95, "ctgov_json": 99.95, "ctgov_xml": 99.95, "ictrp": 99.95, "cthist": 99.95}


@pytest.mark.data
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_criteria_invariant_headings_kept_every_shared_record(source):
    from conftest import load_script

    coverage = load_script("criteria_coverage")
    lines = kept = 0
    lost = []
    for trial, text in SOURCES[source]():
        found = coverage.measure(text, None)
        lines += found["counts"]["lines"]
        kept += found["counts"]["kept"]
        lost.extend(f"{trial}: {line[:80]}" for line in found["lost"])
    assert lines > 0
    assert 100 * kept / lines >= HEADING_GOAL_PCT[source], "\n".join(lost[:20])


def test_criteria_invariant_heading_checker_sees_a_lost_qualifier():
    """A sub-heading whose qualifier does not reach the criteria is reported (the check can fail)."""
    from conftest import load_script

    coverage = load_script("criteria_coverage")
    text = "Exclusion Criteria:\n\nOther exclusion criteria:\n\n* Pregnancy\n"
    assert coverage.measure(text, None)["lost"] == []
    result = parse_criteria(text)
    stripped = [c.__class__(**{**c.__dict__, "category": None}) for c in result.criteria]
    assert not coverage._heading_kept("Other exclusion criteria:", stripped[0], False)
