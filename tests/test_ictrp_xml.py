"""WHO ICTRP XML: streaming reader, trial mapper, eligibility text, on real trials."""

from __future__ import annotations

import collections
import functools
import io
import re
import tracemalloc
import xml.etree.ElementTree as ET

import pytest

from conftest import CORPUS, data_path
from toolkit.errors import Failure, RecordError
from toolkit.formats import parse_record
from toolkit.formats.ictrp_xml.map import MAPPED, eligibility_text, phases_of, record_from_fields, registry_of
from toolkit.formats import iter_records
from toolkit.formats.ctgov_xml import read as ctgov_xml
from toolkit.formats.ictrp_xml import read as ictrp_xml
from toolkit.formats.raw import RawRecord

SAMPLE = CORPUS / "ictrp" / "ICTRP-Results_18Mar2020-sample.xml"
EXPORT = ("ictrp", "ICTRP-Results_18Mar2020.xml")


@functools.lru_cache(maxsize=1)
def _sample() -> dict:
    with open(SAMPLE, "rb") as stream:
        return {r.trial_id: r for r in map(parse_record, ictrp_xml.read(stream, path=str(SAMPLE)))}


def _get(record, path: str):
    value = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value[part]
        else:
            value = value[int(part)] if part.lstrip("-").isdigit() else getattr(value, part)
    return value


@pytest.mark.parametrize("trial_id,path,expected", [
    ("ChiCTR2000029953", "registry", "chictr"),
    ("ChiCTR2000029953", "version", "2020-02-17"),
    ("ChiCTR2000029953", "last_updated", "2020-02-17"),
    ("ChiCTR2000029953", "status", "Not Recruiting"),  # ICTRP's coarse status: no single enum, kept raw
    ("ChiCTR2000029953", "raw_values.status", "Not Recruiting"),
    ("ChiCTR2000029953", "phases", ("NA",)),
    ("ChiCTR2000029953", "study_type", "OBSERVATIONAL"),
    ("ChiCTR2000029953", "enrollment.count", 400),
    ("ChiCTR2000029953", "extra.Target_size", "survival group:200;died:200;"),
    ("ChiCTR2000029953", "start_date", "2020-02-01"),
    ("ChiCTR2000029953", "first_posted", "2020-02-17"),
    ("ChiCTR2000029953", "official_title", "Construction and Analysis of Prognostic Predictive Model "
     "of Novel Coronavirus Pneumonia (COVID-19)"),
    ("ChiCTR2000029953", "sponsors.0.name", "Zhongnan Hospital of Wuhan University"),
    ("ChiCTR2000029953", "investigators.0.email", "doctoryanzhao@whu.edu.cn"),
    ("ChiCTR2000029953", "outcomes.2.measure", "the 28s day' mortality after admission"),
    ("ChiCTR2000029953", "links.0.url", "http://www.chictr.org.cn/showproj.aspx?proj=49217"),
    ("ChiCTR2000029953", "extra.Export_date", "3/18/2020 6:53:35 PM"),
    ("ChiCTR2000029953", "eligibility.sex", "ALL"),
    ("ChiCTR2000029868", "phases", ("PHASE4",)),
    ("ChiCTR2000029868", "eligibility.min_age.years", 18.0),
    ("ChiCTR2000029868", "interventions.0.arm_labels", ("Experimental group",)),
    ("ChiCTR2000029868", "interventions.0.name", "oral hydroxychloroquine sulfate tablets"),
    ("ChiCTR2000029990", "phases", ("PHASE1", "PHASE2")),
    ("ChiCTR2000029850", "phases", ("EARLY_PHASE1",)),
    ("ChiCTR2000029949", "phases", ("NA",)),  # no drug phase: ClinicalTrials.gov's NA
    ("ChiCTR2000029949", "raw_values.phases", "Retrospective study"),
    ("ChiCTR2000029949", "extra.Phase", "Retrospective study"),
    ("ChiCTR2000030219", "extra.Phase", "New Treatment Measure Clinical Study"),
    ("ChiCTR2000029639", "eligibility.max_age.text", "??"),
    ("ChiCTR2000029639", "eligibility.max_age.years", None),
    ("ChiCTR2000030556", "eligibility.max_age.text", "-"),
    ("ChiCTR2000029605", "locations.0.country", "Wuhan"),
    ("ChiCTR2000030545", "locations.0.country", "China?"),
    ("ChiCTR2000030753", "status", None),
    ("ChiCTR2000029695", "study_type", "Diagnostic test"),  # neither interventional nor observational
    ("ChiCTR2000029953", "study_type", "OBSERVATIONAL"),
    ("ChiCTR2000029953", "raw_values.study_type", "Observational study"),
    ("ChiCTR2000029695", "extra.Study_type", "Diagnostic test"),
    ("ChiCTR2000029695", "interventions.1.name", "Exhaled breath detection by mass spectrometry"),
    ("ChiCTR2000029695", "interventions.1.arm_labels", ("Index test",)),
    ("NCT04246242", "registry", "ctgov"),
    ("NCT04246242", "interventions.1.type", "DRUG"),
    ("NCT04246242", "interventions.1.name", "arbidol,200mg,tid"),
    ("NCT04246242", "start_date", "2020-01-25"),
    ("NCT04246242", "design.allocation", "RANDOMIZED"),
    ("NCT04246242", "design.masking", "SINGLE"),
    ("NCT04246242", "design.who_masked", ("PARTICIPANT",)),
    ("NCT00523276", "design.observational_model", "FAMILY_BASED"),
    ("NCT00523276", "design.time_perspective", "CROSS_SECTIONAL"),
    ("ChiCTR2000029953", "design.description", "Factorial"),
    ("NCT00523276", "start_date", "1996-01"),
    ("NCT00523276", "version", "2015-02-19"),
    ("NCT04261426", "phases", ("PHASE2", "PHASE3")),
    ("NCT04302519", "phases", ("EARLY_PHASE1",)),
    ("NCT04299711", "first_posted", "2020-03-04"),
    ("NCT04299711", "eligibility.max_age.years", 19.0),
    ("NCT04292899", "locations.1.country", "Korea, Republic of"),
    ("NCT04252885", "acronym", "ELACOI"),
    ("NCT04270383", "investigators.0.name", "Kunling Shen, MD,PhD"),
    ("NCT04270383", "investigators.3.email", "xubaopingbch@163.com"),
])
def test_ictrp_xml_maps_fields_of_real_trials(trial_id, path, expected):
    assert _get(_sample()[trial_id], path) == expected


@pytest.mark.parametrize("trial_id,start,inside", [
    # ChiCTR: two fields, each already headed on its first line
    ("ChiCTR2000029868", "Inclusion criteria:\n1. Aged 18 years old and above;\n2. Meet the novel",
     "\n\nExclusion criteria:\n1. Severe novel coronavirus pneumonia (COVID-19) patients;\n2. Other"),
    ("ChiCTR2000029639", "Inclusion criteria:\n1) Medical staff",
     "\n\nExclusion criteria:\nno exclusion criteria."),
    ("ChiCTR2000029953", "Inclusion criteria:\n2019-nCoV-infected pneumonia",
     "\n\nExclusion criteria:\nPatients diagnosed with pneumonia of age <15 years"),
    # ClinicalTrials.gov: both blocks in the inclusion field, kept as written
    ("NCT04292899", "Key Inclusion Criteria:\n\n  -  Willing and able", "\nKey Exclusion Criteria:\n"),
    ("NCT04292327", "Inclusion criteria.\n\n  1. 2019-nCov", "\nExclusion criteria.\n"),
    ("NCT04270383", "1. For the 2019-nCoV infection group\n\n     Inclusion Criteria:", "\nExclusion Criteria:\n"),
    # ClinicalTrials.gov with an inclusion block only
    ("NCT04299711", "Inclusion criteria:\n  1. age range: 10-19;", "\n(d) able to sufficiently"),
    ("NCT00173563", "Inclusion criteria:\n  -  Healthy adults aged 20 to 50 years old", "\n  -  Healthy children"),
])
def test_ictrp_xml_builds_one_headed_eligibility_text(trial_id, start, inside):
    text = _sample()[trial_id].eligibility.text
    assert text.startswith(start)
    assert inside in text
    assert "<br" not in text.lower() and "\r" not in text


@pytest.mark.parametrize("trial_id,inclusion,exclusion", [
    ("ChiCTR2000029868", 5, 8),
    ("ChiCTR2000029953", 1, 1),
    ("NCT04292899", 5, 7),
    ("NCT04292327", 3, 3),
    ("NCT04299711", 6, 0),
])
def test_ictrp_xml_criteria_parser_sees_both_blocks(trial_id, inclusion, exclusion):
    polarity = collections.Counter(c.polarity for c in _sample()[trial_id].eligibility.criteria)
    assert (polarity["inclusion"], polarity["exclusion"]) == (inclusion, exclusion)


@pytest.mark.parametrize("inclusion,exclusion,expected", [
    (None, None, ""),
    ("", "Exclusion criteria: 1. Pregnant;\n<br>2. Allergic.", "Exclusion criteria:\n1. Pregnant;\n2. Allergic."),
    ("Inclusion criteria：Aged 18+<br/>Signed consent", None, "Inclusion criteria:\nAged 18+\nSigned consent"),
    ("Aged 18 or older", "Pregnant women", "Inclusion criteria:\nAged 18 or older\n\nExclusion criteria:\nPregnant women"),
])
def test_ictrp_xml_eligibility_text_cases(inclusion, exclusion, expected):
    assert eligibility_text(inclusion, exclusion) == expected


@pytest.mark.parametrize("trial_id,registry", [
    ("ChiCTR2000029949", "chictr"), ("NCT04245631", "ctgov"), ("ISRCTN86534580", "isrctn"),
    ("EUCTR2020-000936-23-FR", "euctr"), ("IRCT20100228003449N27", "irct"), ("DRKS00021134", "drks"),
    ("TCTR20200321001", "tctr"), ("JPRN-jRCTs031190227", "jprn"), ("NL8473", "ntr"),
    ("ACTRN12620000449932", "anzctr"), ("CTRI/2020/04/024413", "ctri"), ("LBCTR2020043459", "lbctr"),
    ("RBR-3cbs3w", "rebec"), ("PER-010-20", "repec"), ("RPCEC00000311", "rpcec"),
    ("KCT0005005", "kct"), ("PACTR202005681895696", "pactr"), ("XYZ123", "xyz"),
])
def test_ictrp_xml_names_the_registry_from_the_trial_id(trial_id, registry):
    assert registry_of(trial_id) == registry


@pytest.mark.parametrize("text,expected", [
    ("0", ("EARLY_PHASE1",)), ("4", ("PHASE4",)), ("1-2", ("PHASE1", "PHASE2")),
    ("Phase 2/Phase 3", ("PHASE2", "PHASE3")), ("N/A", ("NA",)), ("Early Phase 1", ("EARLY_PHASE1",)),
    ("Retrospective study", ()), ("New Treatment Measure Clinical Study", ()), (None, ()),
])
def test_ictrp_xml_phases_where_recognisable(text, expected):
    assert phases_of(text) == expected


def test_ictrp_xml_keeps_every_unmapped_field_in_extra():
    for trial in ET.parse(SAMPLE).getroot():
        record = _sample()[trial.findtext("TrialID")]
        filled = {child.tag for child in trial if (child.text or "").strip()}
        assert filled - MAPPED <= set(record.extra), record.trial_id


def test_ictrp_xml_maps_the_spaced_field_names_of_other_exports():
    record = record_from_fields({"TrialID": "ChiCTR2000029949", "Public title": "A study",
                                 "Inclusion agemin": "18", "Acronym": None})
    assert (record.registry, record.title, record.eligibility.min_age.years) == ("chictr", "A study", 18.0)
    with pytest.raises(RecordError):
        record_from_fields({"Public title": "no id"})


# --- streaming and bad input -----------------------------------------------------


def test_ictrp_xml_truncated_export_keeps_the_trials_before_the_break():
    data = SAMPLE.read_bytes()
    starts = [match.start() for match in re.finditer(rb"<TrialID>", data)]
    cut = starts[9] + 12  # inside the TrialID of the 10th trial
    found = list(ictrp_xml.read(io.BytesIO(data[:cut]), path="export.xml"))
    assert [type(item) for item in found] == [RawRecord] * 9 + [Failure]
    assert found[-1].path == "export.xml" and "after 9 trials" in found[-1].reason
    assert "truncated XML" in found[-1].reason


@pytest.mark.parametrize("data,reason", [
    (b'<?xml version="1.0"?>\n<!DOCTYPE Trials_downloaded_from_ICTRP [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b"<Trials_downloaded_from_ICTRP><Trial><TrialID>&x;</TrialID></Trial></Trials_downloaded_from_ICTRP>",
     "DTD (DOCTYPE) not allowed"),
    (b"<Trials_downloaded_from_ICTRP><Trial><TrialID>X1</TrialID></Trial><Trial>&lol;</Trial>"
     b"</Trials_downloaded_from_ICTRP>", "undefined entity"),
])
def test_ictrp_xml_unsafe_or_malformed_export_gives_a_failure(data, reason):
    assert ictrp_xml.sniff(data, "x.xml") and not ctgov_xml.sniff(data, "x.xml")
    found = list(ictrp_xml.read(io.BytesIO(data), path="bad.xml"))
    assert isinstance(found[-1], Failure) and reason in found[-1].reason
    assert "root:" not in found[-1].describe()


@pytest.mark.parametrize("data,kinds,reason", [
    (b"<Trials_downloaded_from_ICTRP><Trial><TrialID>X1</TrialID></Trial><Note>hi</Note>"
     b"<Trial><TrialID>X2</TrialID></Trial></Trials_downloaded_from_ICTRP>",
     [RawRecord, Failure, RawRecord], "unexpected <Note> in the export"),
    (b"<Trials><Trial><TrialID>X1</TrialID></Trial></Trials>",
     [Failure], "root element is <Trials>, expected <Trials_downloaded_from_ICTRP>"),
])
def test_ictrp_xml_reports_what_it_does_not_read(data, kinds, reason):
    found = list(ictrp_xml.read(io.BytesIO(data), path="export.xml"))
    assert [type(item) for item in found] == kinds
    assert next(f for f in found if isinstance(f, Failure)).reason.startswith(reason)


def test_ictrp_xml_trial_without_id_fails_alone_in_the_pipeline(tmp_path):
    from toolkit.ingest import iter_parsed

    trials = ET.parse(SAMPLE).getroot()
    first, second = (ET.tostring(trials[i], encoding="utf-8") for i in (0, 1))
    broken = b"<Trial><Public_title>No id</Public_title></Trial>"
    path = tmp_path / "export.xml"
    path.write_bytes(b"<Trials_downloaded_from_ICTRP>" + first + broken + second + b"</Trials_downloaded_from_ICTRP>")
    outcomes = list(iter_parsed([path]))
    assert [o.record.trial_id if o.record else None for o in outcomes] == [
        "ChiCTR2000029953", None, "ChiCTR2000029935"]
    failure = outcomes[1].failure
    assert "no <TrialID>" in failure.reason and failure.path == str(path) and failure.record == "#1"


@pytest.mark.data
def test_ictrp_xml_streams_the_export_in_bounded_memory():
    path = data_path(*EXPORT)
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            count = sum(1 for item in ictrp_xml.read(stream, path=str(path)) if isinstance(item, RawRecord))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 578
    assert peak < path.stat().st_size / 2  # the whole tree would take about 3x the file


def test_ictrp_xml_sample_is_found_in_its_folder():
    found = list(iter_records(CORPUS / "ictrp"))
    assert len(found) == 45 and all(r.format == "ictrp_xml" for r in found)
    assert [r.index for r in found] == list(range(45))


@pytest.mark.data
def test_ictrp_xml_parses_every_trial_of_the_export():
    registries, failures, ids, with_criteria = collections.Counter(), [], set(), 0
    for raw in iter_records(data_path(*EXPORT)):
        if isinstance(raw, Failure):
            failures.append(raw.describe())
            continue
        record = parse_record(raw)
        registries[record.registry] += 1
        ids.add(record.trial_id)
        with_criteria += bool(record.eligibility.criteria)
    assert failures == []
    assert registries == {"chictr": 476, "ctgov": 102}
    assert len(ids) == 578
    assert with_criteria == 578
