"""Issue 14, cases 1-4: a structural error costs at most the record it sits in.

Every damaged file is a copy of a real one, made in tmp_path; each case
checks that every record of the file is either stored or named in a failure.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import tarfile

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import Failure
from toolkit.ingest import iter_parsed, run_parse

V2_SAMPLE = CORPUS / "ctgov-v2" / "ctg-studies-sample.json"
ICTRP_SAMPLE = CORPUS / "ictrp" / "ICTRP-Results_18Mar2020-sample.xml"
XML_FILES = sorted((CORPUS / "ctgov-xml").glob("*.xml"))[:3]


def _count(outcomes) -> tuple:
    """(records parsed, failures with their record named)."""
    outcomes = list(outcomes)
    stored = [o.record.trial_id for o in outcomes if o.record is not None]
    failed = [o.failure for o in outcomes if o.failure is not None]
    return stored, failed


def _break_after_middle(data: bytes, needle: bytes, broken: bytes) -> bytes:
    at = data.find(needle, len(data) // 2)
    assert at > 0
    return data[:at] + broken + data[at + len(needle):]


# --- case 1: one malformed element of a JSON array ---------------------------------


@pytest.mark.parametrize("layout", ["pretty", "minified", "api_page"])
def test_json_array_with_a_broken_key_loses_only_that_study(tmp_path, layout):
    source = data_path("ctgov-v2", "UserZetsu_dtx-analysis__ctg-studies.json")
    studies = json.loads(source.read_bytes())
    if layout == "pretty":
        data = source.read_bytes()
    elif layout == "minified":
        data = json.dumps(studies, separators=(",", ":")).encode()
    else:
        data = json.dumps({"totalCount": len(studies), "studies": studies}).encode()
    path = tmp_path / "ctg-studies.json"
    path.write_bytes(_break_after_middle(data, b'"briefTitle":', b'"briefTitle" '))
    broken = data[:data.find(b'"briefTitle":', len(data) // 2)].count(b'"briefTitle":')  # one title a study
    stored, failed = _count(iter_parsed([path]))
    assert len(stored) == len(studies) - 1  # 127 of the whole download
    assert len(failed) == 1 and "Expecting ':' delimiter" in failed[0].reason
    assert failed[0].record.startswith(f"#{broken}")


def test_json_array_summary_counts_the_records(tmp_path):
    path = tmp_path / "ctg-studies.json"
    path.write_bytes(_break_after_middle(V2_SAMPLE.read_bytes(), b'"briefTitle":', b'"briefTitle" '))
    summary = run_parse([path], store=None)
    assert summary.read == 200 and len(summary.failed) == 1


# --- case 2: a record nested thousands of levels deep ------------------------------


def test_deeply_nested_study_is_one_failure(tmp_path):
    studies = json.loads(V2_SAMPLE.read_bytes())
    deep = "[" * 5000 + "]" * 5000
    text = json.dumps(studies, indent=1).replace('"protocolSection": {', f'"deep": {deep}, "protocolSection": {{', 1)
    # the nesting goes into the first study
    path = tmp_path / "deep.json"
    path.write_text(text)
    stored, failed = _count(iter_parsed([path]))
    assert len(stored) == 199
    assert len(failed) == 1 and "nested too deeply" in failed[0].reason and failed[0].record.startswith("#0")
    assert sys.getrecursionlimit() < 5000  # the decoder could not have followed it


# --- case 3: one malformed element of an ICTRP export ------------------------------


@pytest.mark.parametrize("broken", [b"<Public_title x=>", b"<Public_title>&undefined;", b"<Public_title><b>"])
def test_ictrp_export_with_a_malformed_trial_loses_only_that_trial(tmp_path, broken):
    source = data_path("ictrp", "ICTRP-Results_18Mar2020.xml")
    path = tmp_path / "export.xml"
    trials = source.read_bytes().count(b"<Trial>")  # 578 in the whole export
    path.write_bytes(_break_after_middle(source.read_bytes(), b"<Public_title>", broken))
    stored, failed = _count(iter_parsed([path]))
    assert len(stored) == trials - 1 and len(set(stored)) == trials - 1
    assert len(failed) == 1 and failed[0].reason.startswith("malformed XML")
    assert failed[0].record.startswith("#") and "(line " in failed[0].record


def test_ictrp_export_with_an_unclosed_trial_names_it_and_reads_on(tmp_path):
    data = ICTRP_SAMPLE.read_bytes()
    path = tmp_path / "export.xml"
    path.write_bytes(_break_after_middle(data, b"</Trial>", b""))
    stored, failed = _count(iter_parsed([path]))
    assert len(stored) == 44 and len(failed) == 1  # 45 trials, one of them broken
    assert "not closed before the next one" in failed[0].reason


# --- case 4: a truncated archive entry ---------------------------------------------


def _tar_bytes() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for file in XML_FILES:
            archive.add(file, arcname=file.name)
    return buf.getvalue()


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("kind,extra", [("tar", 0), ("tar", 100), ("tar.gz", None)])
def test_truncated_archive_entry_is_named_as_truncated(tmp_path, kind, extra, jobs):
    data = _tar_bytes()
    third = data.find(XML_FILES[2].name.encode())
    if kind == "tar":
        damaged = data[: third + 512 + extra]
        cut_entry = XML_FILES[2].name
    else:
        damaged = gzip.compress(data)[:-2000]
        cut_entry = None
    path = tmp_path / f"dump.{kind}"
    path.write_bytes(damaged)
    stored, failed = _count(iter_parsed([path], jobs=jobs))
    assert len(failed) == 1, failed
    assert "truncated" in failed[0].reason and "empty file" not in failed[0].reason
    assert len(stored) + len(failed) == 3 if cut_entry else len(stored) >= 1
    if cut_entry:
        assert failed[0].record == cut_entry


def test_truncated_zip_names_the_entry_cut_off(tmp_path):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in XML_FILES:
            archive.write(file, file.name)
    path = tmp_path / "dump.zip"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    stored, failed = _count(iter_parsed([path]))
    assert len(failed) == 1 and "cut off" in failed[0].reason
    assert failed[0].record in {f.name for f in XML_FILES}
    assert isinstance(failed[0], Failure) and len(stored) >= 1
