"""Age limits in every spelling met in the registries."""

from __future__ import annotations

import pytest

from toolkit.normalize.ages import parse_age


@pytest.mark.parametrize("text,value,unit,years", [
    ("20years-old", 20.0, "years", 20.0),      # ChiCTR via ICTRP
    ("19 Year(s)", 19.0, "years", 19.0),       # CTRI
    ("3 Day(s)", 3.0, "days", 0.0082),         # CTRI
    ("18 Y", 18.0, "years", 18.0),             # IRCT
    ("6 mois", 6.0, "months", 0.5),            # French member-state records
    ("6 Monate", 6.0, "months", 0.5),          # DRKS
    ("18 ans", 18.0, "years", 18.0),
    ("12岁", 12.0, "years", 12.0),              # ChiCTR
    ("65 years old", 65.0, "years", 65.0),
    ("18 years of age", 18.0, "years", 18.0),
])
def test_normalize_ages_spellings(text, value, unit, years):
    age = parse_age(text)
    assert (age.text, age.value, age.unit, age.years) == (text, value, unit, years)


@pytest.mark.parametrize("text", ["N/A", "no limit", "No limit", "none", "Not stated"])
def test_normalize_ages_no_limit_keeps_only_the_text(text):
    age = parse_age(text)
    assert age.text == text and age.value is None and age.years is None
