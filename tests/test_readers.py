"""The reader layer: containers, content detection, JSON streaming, on real records."""

from __future__ import annotations

import io
import json
import sys
import tarfile
import tracemalloc
import zipfile

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import Failure, UnknownFormatError
from toolkit.formats import FORMATS, available_formats, iter_records, parse_record, read_member
from toolkit.io import containers, jsonstream
from toolkit.formats.raw import RawRecord
from toolkit.formats.detect import HEAD_SIZE, detect

URO_ZIP = "Marc-Morcos_urology__ctg-studies.json.zip"
SMALL_ARRAY = "dgg32_clinical-trials-public__ctg-studies.json"


def _zip_text(name: str) -> str:
    with zipfile.ZipFile(data_path("ctgov-v2", URO_ZIP)) as archive:
        return archive.read(name).decode("utf-8")


def _records(found):
    return [r for r in found if isinstance(r, RawRecord)]


def test_readers_registry_lists_every_format():
    assert set(FORMATS) == {"page", "ctgov_json", "ctgov_xml", "ictrp_xml", "cthist_csv", "ictrp_versions", "ctrdata",
                            "ctgov_classic", "euctr_text"}
    assert FORMATS[-1] == "page"
    assert "ctgov_json" in available_formats()


@pytest.mark.parametrize("name", ["study.json", "notes.txt", "no_suffix", "NCT01130532.xml"])
def test_readers_detects_v2_json_from_content_whatever_the_name(name):
    head = _zip_text("NCT01130532.json").encode()[:HEAD_SIZE]
    assert detect(head, name, FORMATS).FORMAT == "ctgov_json"


def test_readers_api_metadata_tree_is_not_taken_for_studies():
    path = data_path("ctgov-v2", "api_v2_studies_metadata__aact-v2.json")
    (failure,) = iter_records(path)
    assert isinstance(failure, Failure) and failure.reason.startswith("unknown format")


def test_readers_forced_format_skips_detection(tmp_path):
    path = tmp_path / "study.dat"
    path.write_text(_zip_text("NCT01130532.json"))
    (raw,) = iter_records(path, format="ctgov_json")
    assert raw.format == "ctgov_json" and raw.payload["protocolSection"]["identificationModule"]["nctId"] == "NCT01130532"
    with pytest.raises(UnknownFormatError, match="unknown format 'nope'"):
        list(iter_records(path, format="nope"))


def test_readers_folder_is_walked_recursively_sorted_without_dot_files(tmp_path):
    for rel, nct in [("b/NCT03596047.json", "NCT03596047"), ("a.json", "NCT01130532"),
                     ("b/a/NCT04396795.json", "NCT04396795"), (".hidden/NCT01122264.json", "NCT01122264")]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(_zip_text(f"{nct}.json"))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    found = list(iter_records(tmp_path))
    ids = [r.payload["protocolSection"]["identificationModule"]["nctId"] for r in found]
    assert ids == ["NCT01130532", "NCT03596047", "NCT04396795"]
    assert found[2].path == str(tmp_path / "b" / "a" / "NCT04396795.json") and found[2].entry is None


def test_readers_folder_walk_passes_over_a_store_beside_the_dumps(tmp_path):
    from toolkit.store import Store

    (tmp_path / "NCT01130532.json").write_text(_zip_text("NCT01130532.json"))
    with Store(tmp_path / "ptk.sqlite", create=True) as store:
        store.put_many(parse_record(r) for r in iter_records(tmp_path / "NCT01130532.json"))
        assert sorted(p.name for p in tmp_path.iterdir())[0] == "NCT01130532.json"
        found = list(iter_records(tmp_path))
    assert [type(r).__name__ for r in found] == ["RawRecord"]
    assert list(iter_records(tmp_path / "ptk.sqlite"))[0].reason.startswith("unknown format")


def test_readers_reads_archives_nested_in_archives(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("NCT01130532.json", _zip_text("NCT01130532.json"))
    path = tmp_path / "outer.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo("batch/inner.zip")
        info.size = len(inner.getvalue())
        archive.addfile(info, io.BytesIO(inner.getvalue()))
    (raw,) = iter_records(path)
    assert raw.entry == "batch/inner.zip/NCT01130532.json"


def test_readers_bulk_zip_streams_one_record_per_entry():
    path = data_path("ctgov-v2", URO_ZIP)
    first = next(iter(iter_records(path)))
    assert (first.entry, first.index, first.path) == ("NCT06600893.json", 0, str(path))
    assert first.where() == "NCT06600893.json"


@pytest.mark.parametrize("entry", ["../evil.json", "/etc/evil.json", "C:\\evil.json", "a/../../evil.json"])
def test_readers_unsafe_entry_names_are_refused(entry):
    assert containers.unsafe_entry_name(entry)


@pytest.mark.parametrize("entry", ["NCT1.json", "dir/NCT1.json", "a..b.json"])
def test_readers_ordinary_entry_names_are_safe(entry):
    assert containers.unsafe_entry_name(entry) is None


@pytest.mark.parametrize("chunk", [1, 7, 1000, 65536])
def test_readers_json_stream_independent_of_chunk_size(monkeypatch, chunk):
    path = data_path("ctgov-v2", SMALL_ARRAY)
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", chunk)
    with open(path, "rb") as stream:
        values = [item.value for item in jsonstream.iter_json(stream)]
    assert values == json.loads(path.read_text("utf-8"))


def test_readers_json_stream_reports_lines_of_records(tmp_path):
    path = data_path("ctgov-v2", SMALL_ARRAY)
    with open(path, "rb") as stream:
        lines = [item.line for item in jsonstream.iter_json(stream)]
    text = path.read_text("utf-8").splitlines()
    assert all(text[line - 1].lstrip().startswith("{") for line in lines)


@pytest.mark.data
def test_readers_memory_stays_flat_as_the_dump_grows(tmp_path):
    studies = json.loads(data_path("ctgov-v2", "UserZetsu_dtx-analysis__ctg-studies.json").read_text("utf-8"))
    peaks = []
    list(iter_records(data_path("ctgov-v2", SMALL_ARRAY)))  # imports happen outside the measure
    for copies in (4, 16):
        path = tmp_path / f"dump{copies}.json"
        with open(path, "w", encoding="utf-8") as out:
            out.write("[\n" + ",\n".join(json.dumps(s) for s in studies * copies) + "\n]")
        tracemalloc.start()
        count = sum(1 for _ in iter_records(path))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == len(studies) * copies
    size = path.stat().st_size
    assert peaks[1] < size / 10
    assert peaks[1] < peaks[0] * 1.5


class _Pipe(io.RawIOBase):
    """A stdin that cannot seek, like a shell pipe."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _zip_bytes(ids) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for nct in ids:
            archive.writestr(f"{nct}.json", _zip_text(f"{nct}.json"))
    return buffer.getvalue()


def _tar_gz_bytes(ids) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for nct in ids:
            data = _zip_text(f"{nct}.json").encode()
            info = tarfile.TarInfo(f"{nct}.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("build", [_zip_bytes, _tar_gz_bytes])
def test_readers_archives_from_a_pipe_on_stdin(monkeypatch, build):
    ids = ["NCT01130532", "NCT03596047"]
    pipe = io.TextIOWrapper(io.BufferedReader(_Pipe(build(ids))))
    monkeypatch.setattr(sys, "stdin", pipe)
    found = list(iter_records("-"))
    assert [(r.path, r.entry) for r in found] == [(None, f"{nct}.json") for nct in ids]
    assert [r.payload["protocolSection"]["identificationModule"]["nctId"] for r in found] == ids


XML_SAMPLE = sorted((CORPUS / "ctgov-xml").glob("*.xml"))[:4]


@pytest.mark.parametrize("format", [None, "ctgov_xml"])
def test_readers_read_member_reads_one_entry_like_iter_records(format):
    path = XML_SAMPLE[0]
    member = containers.Member(str(path), None, io.BytesIO(path.read_bytes()))
    alone = [parse_record(r) for r in read_member(member, format=format)]
    walked = [parse_record(r) for r in iter_records(path)]
    assert len(alone) == 1 and alone == walked


def test_readers_read_member_rejects_an_unknown_format():
    member = containers.Member("x.xml", None, io.BytesIO(XML_SAMPLE[0].read_bytes()))
    with pytest.raises(UnknownFormatError):
        list(read_member(member, format="no_such_format"))


def _tar_gz_of_files(paths, *, cut: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.name)
    data = buffer.getvalue()
    return data[: len(data) - cut] if cut else data


@pytest.mark.parametrize("limit", [0, 1024, containers.READ_WHOLE_MEMBER])
def test_readers_tar_members_read_whole_or_streamed_alike(tmp_path, monkeypatch, limit):
    dump = tmp_path / "dump.tar.gz"
    dump.write_bytes(_tar_gz_of_files(XML_SAMPLE))
    monkeypatch.setattr(containers, "READ_WHOLE_MEMBER", limit)
    found = [parse_record(r) for r in iter_records(dump)]
    expected = [parse_record(r) for path in XML_SAMPLE for r in iter_records(path)]
    assert [(r.trial_id, r.content_hash) for r in found] == [
        (r.trial_id, r.content_hash) for r in expected]
    assert [r.source.entry for r in found] == [p.name for p in XML_SAMPLE]


@pytest.mark.parametrize("limit", [0, containers.READ_WHOLE_MEMBER])
def test_readers_truncated_tar_member_fails_whole_or_streamed(tmp_path, monkeypatch, limit):
    dump = tmp_path / "dump.tar.gz"
    dump.write_bytes(_tar_gz_of_files(XML_SAMPLE, cut=3000))
    monkeypatch.setattr(containers, "READ_WHOLE_MEMBER", limit)
    found = list(iter_records(dump))
    good = [r for r in found if isinstance(r, RawRecord)]
    failures = [f for f in found if isinstance(f, Failure)]
    assert 1 <= len(good) < len(XML_SAMPLE)
    assert failures and all(f.path == str(dump) for f in failures)
    assert any("truncated" in f.reason or "corrupt" in f.reason for f in failures)
