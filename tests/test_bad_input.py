"""Bad input never crashes a run and never loses the good records around it.

Every bad file is made in tmp_path from real studies of the urology bulk zip.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile

import pytest

from conftest import data_path
from toolkit.errors import Failure, InputError
from toolkit.formats import parse_record
from toolkit.formats import iter_records
from toolkit.formats.raw import RawRecord

URO_ZIP = "Marc-Morcos_urology__ctg-studies.json.zip"
IDS = ["NCT01130532", "NCT03596047", "NCT04396795", "NCT01122264"]


def _study_bytes(nct_id: str) -> bytes:
    with zipfile.ZipFile(data_path("ctgov-v2", URO_ZIP)) as archive:
        return archive.read(f"{nct_id}.json")


def _line(nct_id: str) -> bytes:
    return json.dumps(json.loads(_study_bytes(nct_id)), ensure_ascii=False).encode("utf-8")


def _outcome(found) -> list:
    """('ok', nct id) per record, ('fail', record, reason) per failure."""
    out = []
    for item in found:
        if isinstance(item, Failure):
            out.append(("fail", item.record, item.reason))
        else:
            out.append(("ok", item.payload["protocolSection"]["identificationModule"]["nctId"]))
    return out


# --- builders: (file bytes, expected outcome); "..." in a reason = any text ----

def _jsonl_malformed_middle():
    bad = _line(IDS[1])[: len(_line(IDS[1])) // 2]
    data = b"\n".join([_line(IDS[0]), bad, _line(IDS[2])]) + b"\n"
    return "dump.jsonl", data, [("ok", IDS[0]), ("fail", "#1 (line 2)", "malformed JSON at line 2"), ("ok", IDS[2])]


def _array_truncated():
    data = b"[\n" + b",\n".join(_line(n) for n in IDS[:3]) + b"\n]"
    cut = data[: len(data) - len(_line(IDS[2])) // 2]
    return "dump.json", cut, [("ok", IDS[0]), ("ok", IDS[1]), ("fail", "#2 (line 4)", "data ends inside a record")]


def _not_utf8_line():
    latin = json.dumps(json.loads(_study_bytes(IDS[2])), ensure_ascii=False).replace("Study", "Étude").encode("latin-1")
    first = _line(IDS[0]) + b"\n"
    offset = len(first) + latin.index(b"\xc9")
    data = first + latin + b"\n" + _line(IDS[3]) + b"\n"
    return "dump.jsonl", data, [("ok", IDS[0]), ("fail", "#1 (line 2)", f"not valid UTF-8: byte 0xc9 at byte offset {offset}"),
                                ("ok", IDS[3])]


def _not_a_study_in_array():
    data = b"[" + _line(IDS[0]) + b", 42, {\"studies\": 1},\n" + _line(IDS[1]) + b"]"
    return "dump.json", data, [("ok", IDS[0]), ("fail", "#1 (line 1)", "not a ClinicalTrials.gov study"),
                               ("fail", "#2 (line 1)", "not a ClinicalTrials.gov study"), ("ok", IDS[1])]


def _unknown_format():
    return "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), [("fail", None, "unknown format")]


def _empty_file():
    return "empty.json", b"", [("fail", None, "empty file")]


def _blank_file():
    return "blank.json", b"\xef\xbb\xbf \n\t\n", [("fail", None, "empty file")]


def _zip_with_escaping_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("../evil.json"), _study_bytes(IDS[0]))
        archive.writestr(zipfile.ZipInfo("/etc/evil.json"), _study_bytes(IDS[1]))
        archive.writestr("good/NCT04396795.json", _study_bytes(IDS[2]))
    return "bulk.zip", buffer.getvalue(), [("fail", "../evil.json", "refused: entry path escapes the archive"),
                                           ("fail", "/etc/evil.json", "refused: absolute entry path"),
                                           ("ok", IDS[2])]


def _tar_with_escaping_and_link_entries():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, nct in [("../evil.json", IDS[0]), ("/abs/evil.json", IDS[1]), ("ok/NCT04396795.json", IDS[2])]:
            info = tarfile.TarInfo(name)
            info.size = len(_study_bytes(nct))
            archive.addfile(info, io.BytesIO(_study_bytes(nct)))
        link = tarfile.TarInfo("ok/link.json")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    return "bulk.tar.gz", buffer.getvalue(), [("fail", "../evil.json", "refused: entry path escapes the archive"),
                                              ("fail", "/abs/evil.json", "refused: absolute entry path"),
                                              ("ok", IDS[2]),
                                              ("fail", "ok/link.json", "refused: link or special file entry")]


def _zip_with_corrupt_entry():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for nct in IDS[:3]:
            archive.writestr(f"{nct}.json", _study_bytes(nct))
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(f"{IDS[1]}.json")
    start = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[start: start + 8] = b"\x00" * 8
    return "bulk.zip", bytes(data), [("ok", IDS[0]), ("fail", f"{IDS[1]}.json", "..."), ("ok", IDS[2])]


CASES = {
    "jsonl_malformed_middle": _jsonl_malformed_middle,
    "array_truncated": _array_truncated,
    "not_utf8_line": _not_utf8_line,
    "not_a_study_in_array": _not_a_study_in_array,
    "unknown_format": _unknown_format,
    "empty_file": _empty_file,
    "blank_file": _blank_file,
    "zip_with_escaping_entries": _zip_with_escaping_entries,
    "tar_with_escaping_and_link_entries": _tar_with_escaping_and_link_entries,
    "zip_with_corrupt_entry": _zip_with_corrupt_entry,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_good_records_kept(tmp_path, case):
    name, data, expected = CASES[case]()
    path = tmp_path / name
    path.write_bytes(data)
    found = list(iter_records(path))
    assert all(item.path == str(path) for item in found)
    outcome = _outcome(found)
    assert len(outcome) == len(expected), outcome
    for got, want in zip(outcome, expected):
        assert got[:2] == want[:2]
        if want[0] == "fail" and want[2] != "...":
            assert want[2] in got[2]


# --- truncated archives: the entries before the break are kept ------------------

def _zip_of(ids) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for nct in ids:
            archive.writestr(f"{nct}.json", _study_bytes(nct))
    return buffer.getvalue()


def _tar_gz_of(ids) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for nct in ids:
            info = tarfile.TarInfo(f"{nct}.json")
            info.size = len(_study_bytes(nct))
            archive.addfile(info, io.BytesIO(_study_bytes(nct)))
    return buffer.getvalue()


@pytest.mark.parametrize("name,build,reason", [
    ("bulk.zip", _zip_of, "truncated or corrupt zip"),
    ("bulk.tar.gz", _tar_gz_of, "truncated"),
    ("dump.json.gz", lambda ids: gzip.compress(b"\n".join(_line(n) for n in ids)), "truncated"),
])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_bad_input_truncated_archive_keeps_entries_before_the_break(tmp_path, name, build, reason, keep):
    data = build(IDS)
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * keep)])
    outcome = _outcome(iter_records(path))
    good = [o[1] for o in outcome if o[0] == "ok"]
    assert good == IDS[: len(good)] and len(good) < len(IDS)
    assert outcome[-1][0] == "fail" and reason in outcome[-1][2]
    assert all(o[0] == "ok" for o in outcome[: len(good)])


def test_bad_input_missing_path_is_a_failure_and_next_path_still_read(tmp_path):
    good = tmp_path / "study.json"
    good.write_bytes(_study_bytes(IDS[0]))
    outcome = _outcome(iter_records([tmp_path / "missing.json", good]))
    assert outcome[0][0] == "fail" and "no such file" in outcome[0][2]
    assert outcome[1] == ("ok", IDS[0])


def test_bad_input_study_without_nct_id_is_raised_by_the_mapper_naming_the_record(tmp_path):
    broken = json.loads(_study_bytes(IDS[1]))
    del broken["protocolSection"]["identificationModule"]["nctId"]
    path = tmp_path / "bulk.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{IDS[0]}.json", _study_bytes(IDS[0]))
        archive.writestr("broken.json", json.dumps(broken))
    first, second = iter_records(path)
    assert parse_record(first).trial_id == IDS[0]
    assert isinstance(second, RawRecord)
    with pytest.raises(InputError) as caught:
        parse_record(second)
    assert (caught.value.path, caught.value.record) == (str(path), "broken.json")
    assert "nctId" in caught.value.describe()


def test_bad_input_utf16_file_is_read_as_text(tmp_path):
    path = tmp_path / "saved-as-unicode.json"
    path.write_bytes(_study_bytes(IDS[0]).decode("utf-8").encode("utf-16"))
    assert _outcome(iter_records(path)) == [("ok", IDS[0])]


def test_bad_input_truncated_zip_entry_too_large_to_salvage_is_refused(tmp_path, monkeypatch):
    from toolkit.io import containers

    monkeypatch.setattr(containers, "MAX_SALVAGED_ENTRY", 1000)
    data = _zip_of(IDS[:2])
    path = tmp_path / "bulk.zip"
    path.write_bytes(data[: len(data) - 40])
    ((kind, record, reason),) = _outcome(iter_records(path))
    assert kind == "fail" and "too large to salvage" in reason


def _website_download() -> tuple:
    path = data_path("ctgov-v2", "dgg32_clinical-trials-public__ctg-studies.json")
    data = path.read_bytes()
    ids = [s["protocolSection"]["identificationModule"]["nctId"] for s in json.loads(data)]
    return data, ids


@pytest.mark.parametrize("seed", range(12))
def test_bad_input_cut_anywhere_keeps_every_study_before_the_cut(tmp_path, seed):
    import random

    data, ids = _website_download()
    cut = random.Random(seed).randrange(1, len(data))
    path = tmp_path / "cut.json"
    path.write_bytes(data[:cut])
    outcome = _outcome(iter_records(path))
    complete = max(0, data[:cut].count(b"\n") - 1)  # "[" line, then one study per line
    good = [o[1] for o in outcome if o[0] == "ok"]
    assert good == ids[: len(good)] and len(good) >= min(complete, len(ids))
    assert len(good) == len(ids) or outcome[-1][0] == "fail"


@pytest.mark.parametrize("seed", range(12))
def test_bad_input_damaged_byte_costs_at_most_its_own_study(tmp_path, seed):
    import random

    data, ids = _website_download()
    rng = random.Random(seed)
    damaged = bytearray(data)
    at = rng.randrange(len(damaged))
    damaged[at] = rng.choice(b'\xff{}[]",:\n\x00')
    path = tmp_path / "damaged.json"
    path.write_bytes(bytes(damaged))
    outcome = _outcome(iter_records(path))
    good = [o[1] for o in outcome if o[0] == "ok"]
    assert len([g for g in good if g in ids]) >= len(ids) - 1
