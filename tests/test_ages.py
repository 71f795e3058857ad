"""Age limits: text as written, value, normalised unit and years."""

from __future__ import annotations

import csv
import gzip

import pytest

from conftest import data_path
from toolkit.normalize.ages import parse_age
from toolkit.records import Age


@pytest.mark.parametrize(
    "text,value,unit,years",
    [
        ("1 Month", 1.0, "months", 0.0833),  # seed page NCT06054113 minimum age
        ("204 Months", 204.0, "months", 17.0),  # seed page NCT06054113 maximum age
        ("18 Years", 18.0, "years", 18.0),
        ("18 years", 18.0, "years", 18.0),
        ("1 Year", 1.0, "years", 1.0),  # legacy XML singular
        ("6 Weeks", 6.0, "weeks", 0.115),
        ("12 Days", 12.0, "days", 0.0329),
        ("0 Days", 0.0, "days", 0.0),  # cthist NCT version rows
        ("2 Hours", 2.0, "hours", 0.0002),
        ("30 Minutes", 30.0, "minutes", 0.0001),
        ("65 Years and older", 65.0, "years", 65.0),
        ("18", 18.0, "years", 18.0),  # cthist and ICTRP give bare numbers in years
        ("≥18 years", 18.0, "years", 18.0),
        ("18岁", 18.0, "years", 18.0),  # ChiCTR
        ("6 Months", 6.0, "months", 0.5),
    ],
)
def test_ages_parse_value_unit_years(text, value, unit, years):
    age = parse_age(text)
    assert age == Age(text=text, value=value, unit=unit, years=years)


@pytest.mark.parametrize("text", ["N/A", "None", "NA", "no maximum age", "no minimum age", "ND", "??", "-"])
def test_ages_no_limit_keeps_text_only(text):
    assert parse_age(text) == Age(text=text)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_ages_missing_is_none(text):
    assert parse_age(text) is None


def test_ages_strips_written_text():
    assert parse_age("  18 Years ").text == "18 Years"


@pytest.mark.data
def test_ages_every_cthist_limit_parses():
    """Every age limit of the cthist version tables gives a value or states no limit."""
    csv.field_size_limit(10**9)
    seen = 0
    for name in ("ctgov_versions_2022-03.csv.gz", "drks_versions_2022-03.csv.gz"):
        path = data_path("versions-cthist", name)
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column in ("min_age", "max_age"):
                    age = parse_age(row[column])
                    seen += 1
                    if row[column] in ("NA", "no maximum age", "no minimum age"):
                        assert age.value is None
                    else:
                        assert age.years is not None, row[column]
    assert seen > 1000
