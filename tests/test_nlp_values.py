"""Values: comparator, number, unit and measurement of real criteria."""

from __future__ import annotations

import pytest

from toolkit.nlp.values import find_values, normalise_unit


@pytest.mark.parametrize("text,span,measurement,comparator,number,unit", [
    ("Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) at screening", "> 1.5 mg/dl", "direct bilirubin", ">", 1.5, "mg/dL"),
    ("Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) at screening", "25.6 μmol/L", "direct bilirubin", None, 25.6, "µmol/L"),
    ("Karnofsky performance status ≥ 50% for participants ≥ 16 years", "≥ 50%", "karnofsky performance status", ">=", 50, "%"),
    ("defined as ≥5% bone marrow blasts", "≥5%", None, ">=", 5, "%"),
    ("Age 18 years or older", "18 years or older", "age", ">=", 18, "year"),
    ("ALT <= 2.5 x ULN", "<= 2.5 x ULN", "alt", "<=", 2.5, "x ULN"),
    ("Platelets ≥ 100 x 10^9/L", "≥ 100 x 10^9/L", "platelets", ">=", 100, "x 10^9/L"),
    ("Hemoglobin less than 8.0 g/dL", "less than 8.0 g/dL", "hemoglobin", "<", 8.0, "g/dL"),
    ("Creatinine clearance < 30 mL/min", "< 30 mL/min", "creatinine clearance", "<", 30, "mL/min"),
])
def test_nlp_values_reads_comparator_number_unit(text, span, measurement, comparator, number, unit):
    found = {t.text: t for t in find_values(text)}
    tag = found[span]
    assert (tag.measurement, tag.comparator, tag.number, tag.unit) == (measurement, comparator, number, unit)
    assert text[tag.start:tag.end] == span


@pytest.mark.parametrize("text,span,low,high,unit", [
    ("BMI between 18 and 30 kg/m2", "between 18 and 30 kg/m2", 18, 30, "kg/m2"),
    ("HbA1c of 7-10%", "of 7-10%", 7, 10, "%"),
])
def test_nlp_values_reads_range(text, span, low, high, unit):
    tag = next(t for t in find_values(text) if t.text == span)
    assert (tag.comparator, tag.low, tag.high, tag.unit) == ("between", low, high, unit)


@pytest.mark.parametrize("text,norm", [("HIV positive", "positive"), ("negative serum pregnancy test", "negative")])
def test_nlp_values_reads_qualitative_result(text, norm):
    assert [t.norm for t in find_values(text)] == [norm]


def test_nlp_values_skips_taken_ranges():
    text = "treatment ended > 4 weeks prior to start"
    assert find_values(text, [(15, 40)]) == []


@pytest.mark.parametrize("raw,unit", [
    ("mg/dl", "mg/dL"), ("umol/l", "µmol/L"), ("μmol/L", "µmol/L"), ("years", "year"), ("Months", "month"),
    ("x uln", "x ULN"), (None, None),
])
def test_nlp_values_normalises_unit(raw, unit):
    assert normalise_unit(raw) == unit
