"""Issue 14, cases 5, 6, 10, 11, 12: bounded memory and time, and safety.

Every hostile input is made in tmp_path from a shipped real record.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import zipfile

import pytest
from click.testing import CliRunner

from conftest import CORPUS, REPO
from toolkit.cli import main
from toolkit.errors import Failure
from toolkit.formats import iter_records
from toolkit.ingest import iter_parsed
from toolkit.io.limits import ENV_VAR

XML = CORPUS / "ctgov-xml" / "NCT00000155.xml"
SEED = CORPUS / "seed" / "NCT06054113.txt"
V2_SAMPLE = CORPUS / "ctgov-v2" / "ctg-studies-sample.json"


def _padded_xml(megabytes: int) -> bytes:
    """The real study with `megabytes` MiB of text inside its brief summary."""
    data = XML.read_bytes()
    at = data.index(b"<textblock>") + len(b"<textblock>")
    return data[:at] + b"x" * (megabytes << 20) + data[at:]


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buf.getvalue()


# --- 5: a record that inflates past the per-record limit -----------------------------------


@pytest.mark.parametrize("kind", ["zip_xml", "gz_page", "json_field", "tar_xml"])
def test_record_over_the_limit_is_refused_with_the_limit_named(tmp_path, monkeypatch, kind):
    monkeypatch.setenv(ENV_VAR, "1")  # 1 MiB, so the inputs stay small
    if kind == "zip_xml":
        path, data = tmp_path / "dump.zip", _zip("NCT00000155.xml", _padded_xml(3))
    elif kind == "gz_page":
        page = SEED.read_bytes()
        path, data = tmp_path / "page.txt.gz", gzip.compress(page + b"\n" + b"y" * (3 << 20))
    elif kind == "json_field":
        studies = json.loads(V2_SAMPLE.read_bytes())[:5]
        studies[2]["protocolSection"]["identificationModule"]["briefTitle"] = "z" * (3 << 20)
        path, data = tmp_path / "studies.json.gz", gzip.compress(json.dumps(studies, indent=1).encode())
    else:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as archive:
            for name, content in (("a.xml", XML.read_bytes()), ("big.xml", _padded_xml(5))):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        path, data = tmp_path / "dump.tar.gz", buf.getvalue()
    path.write_bytes(data)
    assert len(data) < (1 << 20)  # a small file that inflates
    outcomes = list(iter_parsed([path]))
    failed = [o.failure for o in outcomes if o.failure]
    assert len(failed) == 1
    assert "per-record limit of 1 MiB" in failed[0].reason and ENV_VAR in failed[0].reason
    assert "MemoryError" not in failed[0].reason
    stored = [o.record for o in outcomes if o.record]
    assert len(stored) == {"zip_xml": 0, "gz_page": 0, "json_field": 4, "tar_xml": 1}[kind]


def test_record_limit_can_be_raised_on_the_command_line(tmp_path):
    path = tmp_path / "dump.zip"
    path.write_bytes(_zip("NCT00000155.xml", _padded_xml(2)))
    env = {ENV_VAR: "1"}
    refused = CliRunner().invoke(main, ["parse", "--no-tag", "--store", str(tmp_path / "s1"), str(path)], env=env)
    assert refused.exit_code == 1 and "--max-record-mb" in refused.stderr
    raised = CliRunner().invoke(main, ["parse", "--no-tag", "--max-record-mb", "4", "--store", str(tmp_path / "s2"),
                                       str(path)], env=env)
    assert raised.exit_code == 0, raised.stderr


# VmHWM is this process's own peak (ru_maxrss would include the peak of the
# pytest process it was forked from).
_PEAK = """
import re, sys
from toolkit.ingest import iter_parsed
list(iter_parsed(sys.argv[1:]))
status = open("/proc/self/status").read()
print(int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) // 1024)
"""


def test_a_zip_bomb_record_stays_under_the_memory_goal(tmp_path):
    """A 1 MB zip holding a 1 GB <clinical_study> (issue: 2.1 GB and MemoryError): peak RSS <= 500 MB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("NCT00000155.xml", "w", force_zip64=True) as entry:
            data = XML.read_bytes()
            at = data.index(b"<textblock>") + len(b"<textblock>")
            entry.write(data[:at])
            block = b"x" * (1 << 20)
            for _ in range(1024):
                entry.write(block)
            entry.write(data[at:])
    path = tmp_path / "bomb.zip"
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 2 << 20
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(ENV_VAR, None)
    peak_mb = int(subprocess.run([sys.executable, "-c", _PEAK, str(path)], env=env, cwd=REPO, check=True,
                                 capture_output=True, text=True).stdout)
    assert peak_mb <= 500


# --- 6: a FIFO given as a path or met in a folder ----------------------------------------------


@pytest.mark.parametrize("inside_folder", [False, True])
def test_fifo_is_refused_and_never_blocks(tmp_path, inside_folder):
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / XML.name).write_bytes(XML.read_bytes())
    fifo = folder / "pipe.xml"
    os.mkfifo(fifo)
    found = []
    reader = threading.Thread(target=lambda: found.extend(iter_records(folder if inside_folder else fifo)),
                              daemon=True)
    reader.start()
    reader.join(timeout=20)
    if reader.is_alive():  # unblock the reader so the test run can end
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    failures = [f for f in found if isinstance(f, Failure)]
    assert len(failures) == 1 and "FIFO" in failures[0].reason and failures[0].path == str(fifo)
    assert len(found) == (2 if inside_folder else 1)


# --- 10: a DOCTYPE anywhere ---------------------------------------------------------------------


@pytest.mark.parametrize("padding", [0, (1 << 20) + 10])
def test_doctype_after_a_megabyte_of_whitespace_is_refused(tmp_path, padding):
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + XML.read_bytes()
    root = data.index(b"<clinical_study")
    evil = (data[:root] + b" " * padding + b'<!DOCTYPE clinical_study [<!ENTITY t "EXPANDED-ENTITY">]>\n'
            + data[root:].replace(b"<brief_title>", b"<brief_title>&t;", 1))
    path = tmp_path / "evil.xml"
    path.write_bytes(evil)
    outcomes = list(iter_parsed([path], format="ctgov_xml"))
    assert [o.record for o in outcomes] == [None]
    assert "DOCTYPE" in outcomes[0].failure.reason


def test_doctype_in_an_ictrp_export_is_refused_by_the_parser(tmp_path):
    data = (CORPUS / "ictrp" / "ICTRP-Results_18Mar2020-sample.xml").read_bytes()
    root = data.index(b"<Trials_downloaded_from_ICTRP>")
    evil = (data[:root] + b" " * ((1 << 20) + 10) + b'<!DOCTYPE x [<!ENTITY t "EXPANDED">]>'
            + data[root:].replace(b"<Public_title>", b"<Public_title>&t;", 1))
    path = tmp_path / "export.xml"
    path.write_bytes(evil)
    outcomes = list(iter_parsed([path], format="ictrp_xml"))
    assert [o.record for o in outcomes] == [None] and "DOCTYPE" in outcomes[0].failure.reason


# --- 11: links out of the folder, file content in messages -----------------------------------


def test_links_out_of_the_folder_are_not_followed_and_no_content_is_printed(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:SECRET-CONTENT:/root:/bin/bash\n")
    folder = tmp_path / "dump"
    (folder / "sub").mkdir(parents=True)
    (folder / XML.name).write_bytes(XML.read_bytes())
    (folder / "passwd.json").symlink_to(outside)
    (folder / "linked").symlink_to(tmp_path, target_is_directory=True)
    (folder / "sub" / "same.xml").symlink_to(folder / XML.name)  # inside: followed
    result = CliRunner().invoke(main, ["parse", "--no-tag", "--store", str(tmp_path / "store"), str(folder)])
    assert "SECRET-CONTENT" not in result.stderr + result.stdout
    assert "root:x" not in result.stderr
    assert "passwd.json: refused: symbolic link to a place outside the folder given" in result.stderr
    assert "linked: refused: symbolic link to a place outside the folder given" in result.stderr
    assert "read 4 records" in result.stderr  # the study, its link inside the folder, the two refused links


def test_unknown_content_is_not_quoted(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("password=SECRET-CONTENT and more words that no reader knows\n" * 3)
    (failure,) = list(iter_records(path))
    assert "SECRET" not in failure.describe() and "unknown format" in failure.reason


# --- 12: control characters in names and ids --------------------------------------------------


def test_forged_entry_name_prints_no_forged_line(tmp_path):
    path = tmp_path / "dump.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("evil\nfailed: FORGED LINE.json", b"{not json")
        archive.writestr("ok\x1b[31m.xml", XML.read_bytes())
    path.write_bytes(buf.getvalue())
    result = CliRunner().invoke(main, ["parse", "--no-tag", "--store", str(tmp_path / "store"), str(path)])
    lines = result.stderr.splitlines()
    assert not any(line.startswith("failed: FORGED") for line in lines)
    assert any("evil\\nfailed: FORGED LINE.json" in line for line in lines)
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("bad_id", ["NCT0000015\nfailed: FORGED", "NCT123", "NCT00000155 extra"])
def test_trial_id_not_fitting_its_registry_is_reported(tmp_path, bad_id):
    data = XML.read_bytes().replace(b"<nct_id>NCT00000155</nct_id>", f"<nct_id>{bad_id}</nct_id>".encode())
    path = tmp_path / "study.xml"
    path.write_bytes(data)
    (outcome,) = list(iter_parsed([path]))
    assert outcome.record is None
    assert "invalid trial id" in outcome.failure.reason
    assert "\n" not in outcome.failure.describe()


def test_euctr_block_over_the_limit_is_refused_and_named_and_the_others_kept(tmp_path, monkeypatch):
    """An EU CTR export whose second block holds a 3 MiB line (fuzzing met a 20 MB one): memory stays
    bounded by the limit, the block is named by its EudraCT number, the first block is kept."""
    monkeypatch.setenv(ENV_VAR, "1")
    text = (REPO / "tests" / "fixtures" / "euctr_text" / "two_member_states.txt").read_text(encoding="utf-8")
    second = text.index("Summary", text.index("Summary") + 1)
    at = text.index("\n", text.index("E.3 ", second))
    path = tmp_path / "euctr.txt.gz"
    path.write_bytes(gzip.compress((text[:at] + " " + "w" * (3 << 20) + text[at:]).encode("utf-8")))
    outcomes = list(iter_parsed([path]))
    failed = [o.failure for o in outcomes if o.failure and "per-record limit" in o.failure.reason]
    assert [f.reason.startswith("record larger than the per-record limit of 1 MiB") for f in failed] == [True]
    assert failed[0].record == "#1 (line 294) 2021-002179-21"
    assert len([o.record for o in outcomes if o.record]) == 1
