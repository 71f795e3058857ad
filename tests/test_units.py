"""The one table of time units, and every stage reading its lengths from it."""

from __future__ import annotations

import pytest

from toolkit import units
from toolkit.index import parse_duration
from toolkit.nlp import tag_text
from toolkit.normalize.ages import parse_age


@pytest.mark.parametrize("amount,unit,days", [
    (4, "weeks", 28), (1, "month", 30), (6, "mo", 180), (1, "year", 365), (2, "d", 2), (12, "hours", 0.5),
])
def test_units_days(amount, unit, days):
    assert units.days(amount, unit) == pytest.approx(days)


@pytest.mark.parametrize("amount,unit,years", [
    (6, "months", 0.5), (18, "Years", 18), (52, "weeks", 0.9966), (30, "days", 0.0821),
])
def test_units_years(amount, unit, years):
    assert units.years(amount, unit) == pytest.approx(years)


@pytest.mark.parametrize("word", ["fortnights", "", "meters"])
def test_units_unknown_unit_raises(word):
    assert units.unit_named(word) is None
    with pytest.raises(KeyError):
        units.days(1, word)


@pytest.mark.parametrize("criterion,option", [
    ("No rituximab within 1 month prior to enrollment", "1m"),
    ("No rituximab within 30 days prior to enrollment", "1m"),
    ("No rituximab within 4 weeks prior to enrollment", "4w"),
    ("No rituximab within 1 year prior to enrollment", "1y"),
    ("No rituximab within 365 days prior to enrollment", "1y"),
])
def test_units_tagged_window_equals_search_option(criterion, option):
    """A window the tagger reads and the same window typed as a search option are one number of days."""
    window = next(t for t in tag_text(criterion) if t.label == "time_window")
    assert window.days == pytest.approx(parse_duration(option))


def test_units_age_limit_in_years_from_the_table():
    assert parse_age("6 Months").years == units.years(6, "month") == 0.5
