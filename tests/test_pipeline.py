"""The parse pipeline on real dumps: idempotence, failures, strict mode, workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, data_path
from toolkit.ingest import iter_parsed, parse_one, run_parse
from toolkit.formats.raw import RawRecord
from toolkit.store import Store

XML_SAMPLE = CORPUS / "ctgov-xml"
GOOD = ["NCT00000156.xml", "NCT00000226.xml", "NCT00002067.xml", "NCT00002093.xml"]
TRUNCATED = "NCT00001001.xml"  # a real study cut off mid-download


@pytest.fixture
def dump_with_bad_record(tmp_path) -> Path:
    """A folder of real legacy XML studies, one of them truncated halfway."""
    folder = tmp_path / "dump"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(XML_SAMPLE / name, folder / name)
    data = (XML_SAMPLE / TRUNCATED).read_bytes()
    (folder / TRUNCATED).write_bytes(data[: len(data) // 2])
    return folder


def test_pipeline_parse_twice_second_run_all_unchanged(tmp_path):
    with Store(tmp_path, create=True) as store:
        first = run_parse([XML_SAMPLE], store=store)
        second = run_parse([XML_SAMPLE], store=store)
        trials = len(store.trial_ids())
    assert first.ok and first.read == len(list(XML_SAMPLE.glob("*.xml")))
    assert first.new_trials == trials == first.read
    assert (second.new_trials, second.new_versions, second.unchanged) == (0, 0, first.read)


def test_pipeline_bad_record_is_reported_and_good_ones_kept(tmp_path, dump_with_bad_record):
    with Store(tmp_path, create=True) as store:
        summary = run_parse([dump_with_bad_record], store=store)
        stored = store.trial_ids()
    assert summary.read == len(GOOD) + 1
    assert summary.new_trials == len(GOOD)
    assert stored == sorted(name[:-4] for name in GOOD)
    [failure] = summary.failed
    assert TRUNCATED in f"{failure.path} {failure.record}"
    assert failure.reason
    assert not summary.stopped


def test_pipeline_strict_stops_and_leaves_failing_batch_unwritten(tmp_path, dump_with_bad_record):
    with Store(tmp_path, create=True) as store:
        summary = run_parse([dump_with_bad_record], store=store, strict=True, batch_size=100)
        assert summary.stopped and len(summary.failed) == 1
        assert store.trial_ids() == []


def test_pipeline_strict_keeps_batches_written_before_the_failure(tmp_path, dump_with_bad_record):
    with Store(tmp_path, create=True) as store:
        summary = run_parse([dump_with_bad_record], store=store, strict=True, batch_size=1)
        written = store.trial_ids()
    assert summary.stopped
    assert written == ["NCT00000156", "NCT00000226"]  # the two studies before the bad one
    assert summary.new_trials == 2


def test_pipeline_tagger_error_keeps_record_untagged_and_reports_it(tmp_path):
    def broken_tagger(record):
        raise ValueError("tagger fault")

    with Store(tmp_path, create=True) as store:
        summary = run_parse([XML_SAMPLE / GOOD[0]], store=store, tagger=broken_tagger)
        assert store.trial_ids() == [GOOD[0][:-4]]
    [failure] = summary.failed
    assert "ValueError: tagger fault" in failure.reason
    assert GOOD[0] in f"{failure.path} {failure.record}"


@pytest.mark.parametrize("format, payload, reason", [
    ("page", None, "AttributeError"),  # an unexpected exception: its type is the reason
    ("page", "hello", "no trial id line"),
    ("ctgov_xml", "not a study", "not a <clinical_study> element"),
    ("ctgov_json", {"protocolSection": {"identificationModule": {"nctId": "NCT1"},
                                        "statusModule": []}}, "statusModule"),
])
def test_pipeline_bad_payload_becomes_failure_naming_file_and_record(format, payload, reason):
    raw = RawRecord(format, payload, path="dump.tar.gz", entry="NCT1.xml")
    outcome = parse_one(raw)
    assert outcome.record is None
    assert outcome.failure.path == "dump.tar.gz"
    assert outcome.failure.record == "NCT1.xml"
    assert reason in outcome.failure.reason


def test_pipeline_unknown_format_is_a_failure_not_a_crash():
    raw = RawRecord("no_such_format", {}, path="x.json", index=3)
    outcome = parse_one(raw)
    assert "no mapper" in outcome.failure.reason
    assert outcome.failure.record == "#3"


def test_pipeline_jobs_two_gives_same_records_in_same_order(dump_with_bad_record):
    serial = list(iter_parsed([XML_SAMPLE, dump_with_bad_record]))
    parallel = list(iter_parsed([XML_SAMPLE, dump_with_bad_record], jobs=2))
    assert parallel == serial
    assert sum(o.failure is not None for o in parallel) == 1


def test_pipeline_on_record_streams_in_source_order(tmp_path):
    seen = []
    with Store(tmp_path, create=True) as store:
        run_parse([XML_SAMPLE], store=store, on_record=lambda r: seen.append(r.trial_id),
                  batch_size=7)
    assert seen == sorted(p.stem for p in XML_SAMPLE.glob("*.xml"))


@pytest.mark.data
def test_pipeline_whole_v2_zip_into_store(tmp_path):
    dump = data_path("ctgov-v2", "Marc-Morcos_urology__ctg-studies.json.zip")
    with Store(tmp_path, create=True) as store:
        summary = run_parse([dump], store=store, jobs=2)
        stats = store.stats()
    assert summary.read == 635
    assert summary.new_trials + len(summary.failed) == 635
    assert stats.trials == summary.new_trials
    assert len(summary.failed) <= 6  # a few odd records may fail; none may crash


@pytest.mark.data
def test_pipeline_version_history_numbers_versions_by_date(tmp_path):
    dump = data_path("versions-cthist", "ctgov_versions_2022-03.csv.gz")
    with Store(tmp_path, create=True) as store:
        summary = run_parse([dump], store=store)
        again = run_parse([dump], store=store)
        stats = store.stats()
        histories = [store.versions(trial_id) for trial_id in store.trial_ids()]
    assert summary.ok and summary.new_versions > summary.new_trials == stats.trials
    assert stats.versions == summary.new_trials + summary.new_versions
    assert again.unchanged == summary.read - len(again.failed)
    assert again.new_trials == again.new_versions == 0
    for infos in histories:
        dates = [i.version_date for i in infos]
        assert dates == sorted(dates)
        assert [i.latest for i in infos] == [False] * (len(infos) - 1) + [True]


@pytest.mark.data
@pytest.mark.parametrize("parts, trials, versions", [
    (("multiregistry", "ctrdata_versions.jsonl.gz"), 102, 179),  # README: 102 trials, 179 versions
])
def test_pipeline_multiregistry_versions_match_the_source(tmp_path, parts, trials, versions):
    with Store(tmp_path, create=True) as store:
        summary = run_parse([data_path(*parts)], store=store)
        stats = store.stats()
    assert summary.ok
    assert (stats.trials, stats.versions) == (trials, versions)
    assert len(stats.by_registry) > 1


def test_pipeline_tags_records_in_batches_and_isolates_a_record_the_tagger_breaks_on():
    """A chunk is tagged in one model pass; when the batch raises, each record is tagged alone."""
    from toolkit.ingest import BatchTagger, iter_parsed

    calls = {"many": 0, "one": 0}

    class Flaky(BatchTagger):
        def many(self, records):
            calls["many"] += 1
            if any(r.trial_id == "NCT00000685" for r in records):
                raise RuntimeError("model broke")
            return super().many(records)

        def __call__(self, record):
            calls["one"] += 1
            if record.trial_id == "NCT00000685":
                raise RuntimeError("model broke")
            return super().__call__(record)

    outcomes = list(iter_parsed([str(CORPUS / "ctgov-xml")], tagger=Flaky()))
    assert len(outcomes) == 150 and calls["many"] == 3  # 64 + 64 + 22 records
    assert calls["one"] == 64  # only the batch holding the bad record is tagged again, one by one
    bad = [o for o in outcomes if o.failure is not None]
    assert [o.record.trial_id for o in bad] == ["NCT00000685"]
    assert "tagging failed (stored untagged): RuntimeError: model broke" in bad[0].failure.reason
    assert bad[0].failure.path.endswith("NCT00000685.xml") and not any(t for c in bad[0].record.all_criteria() for t in c.tags)
    tagged = [o.record for o in outcomes if o.failure is None]
    assert sum(1 for r in tagged for c in r.all_criteria() if c.tags) > 1000


def test_pipeline_tags_at_most_the_per_record_limit_and_names_the_record(monkeypatch, seed_path):
    """A record with more criteria than the tagging limit is stored, tagged up to the limit, and named."""
    import toolkit.nlp
    from toolkit.ingest import BatchTagger
    from toolkit.records import walk_criteria

    monkeypatch.setattr(toolkit.nlp, "MAX_TAGGED_CRITERIA", 5)
    [outcome] = list(iter_parsed([str(seed_path)], tagger=BatchTagger()))
    criteria = list(walk_criteria(outcome.record.eligibility.criteria))
    assert len(criteria) > 20
    assert outcome.failure.reason.startswith(f"{len(criteria) - 5:,} criteria stored untagged (tagging takes")
    assert outcome.failure.path == str(seed_path)
    assert any(c.tags for c in criteria[:5]) and not any(c.tags for c in criteria[5:])


def test_pipeline_leaves_a_criterion_past_the_length_limit_untagged(monkeypatch, seed_path):
    """One overlong criterion is stored untagged; the record's other criteria are tagged."""
    import toolkit.nlp
    from toolkit.ingest import BatchTagger
    from toolkit.records import walk_criteria

    monkeypatch.setattr(toolkit.nlp, "MAX_TAGGED_CHARS", 200)
    [outcome] = list(iter_parsed([str(seed_path)], tagger=BatchTagger()))
    criteria = list(walk_criteria(outcome.record.eligibility.criteria))
    long = [c for c in criteria if len(c.text) > 200]
    assert long and not any(c.tags for c in long)
    assert sum(1 for c in criteria if c.tags) > 10
    assert outcome.failure.reason.startswith(f"{len(long)} criteria stored untagged")
