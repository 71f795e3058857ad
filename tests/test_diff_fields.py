"""Field changes and their events, on real records of the shipped sample edited one field at a time."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit.diff import diff_records
from toolkit.normalize.ages import parse_age
from toolkit.records import Location


@pytest.fixture(scope="module")
def with_sites(sample_records):
    return next(r for r in sample_records if len(r.locations) >= 3 and r.eligibility and r.start_date)


def _events(old, new):
    return [(e.kind, e.before, e.after) for e in diff_records(old, new).events]


def test_diff_fields_site_status_is_a_change_not_a_new_site(with_sites):
    first, second, *rest = with_sites.locations
    new = dataclasses.replace(with_sites, locations=(
        dataclasses.replace(first, status="COMPLETED"), *rest, Location(facility="Universitätsklinikum Leipzig",
                                                                          city="Leipzig", country="Germany")))
    diff = diff_records(with_sites, new)
    [sites] = [f for f in diff.fields if f.field == "locations"]
    assert len(sites.added) == 1 and len(sites.removed) == 1
    assert len(sites.before) == 1 and "COMPLETED" in sites.after[0]
    assert [e.kind for e in diff.events] == ["sites_added", "sites_removed"]


@pytest.mark.parametrize("old,new,kind", [
    ("2011-05", "2011-07", "start_date_slipped"),
    ("2011-05-01", "2011-05", None),                       # same month, less precise: no event
    ("May 2011", "2011-03-15", "start_date_brought_forward"),
    ("March 14, 2012", "April 2012", "start_date_slipped"),
])
def test_diff_fields_dates(with_sites, old, new, kind):
    events = _events(dataclasses.replace(with_sites, start_date=old), dataclasses.replace(with_sites, start_date=new))
    assert [e[0] for e in events] == ([kind] if kind else [])


@pytest.mark.parametrize("old,new,kind", [
    (("18 Years", "65 Years"), ("18 Years", "75 Years"), "age_range_widened"),
    (("18 Years", None), ("18 Years", "65 Years"), "age_range_narrowed"),   # no limit -> a limit
    (("18 Years", "65 Years"), ("216 Months", "65 Years"), None),          # 216 months is 18 years: text differs
    (("18 Years", "65 Years"), ("16 Years", "60 Years"), "age_range_changed"),
    (("6 Months", None), ("1 Year", None), "age_range_narrowed"),
])
def test_diff_fields_age_range(with_sites, old, new, kind):
    def aged(limits):
        eligibility = dataclasses.replace(with_sites.eligibility, min_age=parse_age(limits[0]),
                                          max_age=parse_age(limits[1]))
        return dataclasses.replace(with_sites, eligibility=eligibility)
    kinds = [e[0] for e in _events(aged(old), aged(new))]
    assert kinds == ([kind] if kind else [])


@pytest.mark.parametrize("change,kind", [
    ({"status": "TERMINATED"}, "status_changed"),
    ({"phases": ("PHASE3",)}, "phase_changed"),
])
def test_diff_fields_named_events(with_sites, change, kind):
    assert kind in [e[0] for e in _events(with_sites, dataclasses.replace(with_sites, **change))]


def test_diff_fields_every_record_field_is_compared(with_sites):
    """A field without a rule of its own is still compared (here: `design`)."""
    design = dataclasses.replace(with_sites.design, masking="QUADRUPLE")
    diff = diff_records(with_sites, dataclasses.replace(with_sites, design=design))
    assert [(f.field, f.after) for f in diff.fields] == [("design.masking", "QUADRUPLE")]


def test_diff_fields_absent_and_empty_source_keys_alike(history_versions):
    """ctrdata's EU CTR converter writes empty product fields as "" in 2024 and leaves them out in 2022."""
    from tests.conftest import data_path

    versions = history_versions(str(data_path("multiregistry", "ctrdata_versions.jsonl.gz")))["2014-002606-20-PT"]
    fields = {f.field for f in diff_records(versions[0], versions[1]).fields}
    assert "extra.dimp" not in fields
    assert "extra.e83single_site_trial" in fields  # a renamed key is still shown
