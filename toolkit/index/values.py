"""Value thresholds as numbers in one unit per measurement: `value:hba1c<=8`, `--value "creatinine > 1.5 mg/dL"`.

A criterion's value tags (`HbA1c ≥ 7.5%`, `creatinine > 133 µmol/L`) are
indexed as numbers in the measurement's reference unit (`value_<key>`
fields). A value query names a measurement, a comparator and a number with an
optional unit, converted the same way, and finds the criteria whose threshold
lies in that range: `hba1c<=8` finds "HbA1c ≥ 7.5%" and "HbA1c < 64 mmol/mol"
(8.0%), not "HbA1c ≥ 9%".

Conversions: creatinine mg/dL <-> µmol/L (88.4), haemoglobin g/dL <-> g/L and
mmol/L, HbA1c % <-> mmol/mol (IFCC: % = 0.0915 × mmol/mol + 2.15), platelets
and neutrophils ×10⁹/L <-> /µL (/mm³), bilirubin mg/dL <-> µmol/L (17.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from toolkit.errors import QueryError

__all__ = ["MEASURES", "VALUE_FIELDS", "measure_key", "canonical", "value_fields", "parse_value_query"]


@dataclass(frozen=True)
class Measure:
    """A measurement: the names that mean it, its reference unit, and units converted to it."""

    key: str
    names: Tuple[str, ...]
    unit: str
    units: Dict[str, Callable[[float], float]]


def _per_ul_to_giga(number: float) -> float:
    return number / 1000.0


MEASURES: Dict[str, Measure] = {m.key: m for m in (
    Measure("hba1c", ("hba1c", "hba1", "hgba1c", "hga1c", "a1c", "hemoglobin a1c", "glycated hemoglobin",
                      "glycosylated hemoglobin", "glycohemoglobin"), "%",
            {"%": float, "mmol/mol": lambda x: 0.0915 * x + 2.15}),
    Measure("creatinine", ("creatinine", "serum creatinine", "creat", "scr"), "mg/dl",
            {"mg/dl": float, "umol/l": lambda x: x / 88.4, "mmol/l": lambda x: x * 1000 / 88.4,
             "mg/100ml": float}),
    Measure("hemoglobin", ("hemoglobin", "haemoglobin", "hb", "hgb"), "g/dl",
            {"g/dl": float, "g/l": lambda x: x / 10.0, "mmol/l": lambda x: x * 1.611, "g/100ml": float}),
    Measure("platelets", ("platelets", "platelet", "platelet count", "plt", "thrombocytes"), "10^9/l",
            {"10^9/l": float, "/ul": _per_ul_to_giga, "/mm3": _per_ul_to_giga, "cells/ul": _per_ul_to_giga,
             "cells/mm3": _per_ul_to_giga, "10^3/ul": float, "10^3/mm3": float, "k/ul": float}),
    Measure("anc", ("anc", "absolute neutrophil count", "neutrophils", "neutrophil count"), "10^9/l",
            {"10^9/l": float, "/ul": _per_ul_to_giga, "/mm3": _per_ul_to_giga, "cells/ul": _per_ul_to_giga,
             "cells/mm3": _per_ul_to_giga, "10^3/ul": float, "10^3/mm3": float}),
    Measure("bilirubin", ("bilirubin", "total bilirubin", "serum bilirubin"), "mg/dl",
            {"mg/dl": float, "umol/l": lambda x: x / 17.1}),
)}
VALUE_FIELDS = tuple(f"value_{key}" for key in MEASURES)
# Names that contain a measurement's name but mean another one.
_NOT = ("creatinine clearance", "creatinine kinase", "hbsag", "hb s", "hbv", "hba1c")
_NAMES = sorted(((name, m.key) for m in MEASURES.values() for name in m.names), key=lambda p: -len(p[0]))


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9]+", " ", (text or "").lower().replace("æ", "ae")).strip() + " "


def measure_key(measurement: Optional[str]) -> Optional[str]:
    """The measurement a tag's or a query's name means (`Serum creatinine` -> creatinine), or None."""
    words = _words(measurement).replace("haem", "hem")
    for name, key in _NAMES:
        if f" {name} " in words:
            blocked = any(f" {other} " in words for other in _NOT if other != name and name in other)
            return None if blocked else key
    return None


def _unit(text: Optional[str]) -> str:
    unit = (text or "").lower().replace(" ", "").replace("µ", "u").replace("μ", "u").replace("³", "3")
    unit = re.sub(r"^(x|×)", "", unit).replace("⁹", "^9").replace("10e9", "10^9").replace("109/l", "10^9/l")
    return unit.replace("/mcl", "/ul").replace("/microliter", "/ul").replace("mm^3", "mm3").replace("dL", "dl")


def canonical(key: str, number: float, unit: Optional[str]) -> Optional[float]:
    """A number of measurement `key` in its reference unit; None for a unit it cannot convert.

    A missing unit is read as the reference unit, except for counts (a bare
    100000 platelets is per µL).
    """
    measure = MEASURES[key]
    unit = _unit(unit)
    if not unit:
        if measure.unit == "10^9/l" and number >= 1000:
            return round(number / 1000.0, 3)
        return round(number, 3)
    convert = measure.units.get(unit)
    return None if convert is None else round(convert(number), 3)


_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)")


def value_fields(tags: Sequence, text: str = "") -> Dict[str, List[float]]:
    """{value_<key>: [thresholds in the reference unit]} of a criterion's value tags.

    A tag without a measurement takes the nearest measurement named in the
    40 characters of `text` before it ("Hemoglobin (Hb) level <90g/L").
    """
    out: Dict[str, List[float]] = {}
    for tag in tags:
        if tag.label != "value":
            continue
        key = measure_key(tag.measurement) if tag.measurement else _named_before(text, tag.start)
        if key is None:
            continue
        numbers = [n for n in (tag.number, tag.low, tag.high) if n is not None]
        grouped = _THOUSANDS.findall(tag.text or "")
        if grouped and len(numbers) == len(grouped):  # "100,000/mm3" read as 100.0 by the tagger
            numbers = [float(g.replace(",", "")) for g in grouped]
        for number in numbers:
            value = canonical(key, float(number), tag.unit)
            if value is not None:
                out.setdefault(f"value_{key}", []).append(value)
    return out


def _named_before(text: str, start: int) -> Optional[str]:
    """The measurement named last in the 40 characters before `start`."""
    window = _words(text[max(0, start - 40):start]).replace("haem", "hem")
    found = [(window.rfind(f" {name} "), key) for name, key in _NAMES if f" {name} " in window]
    return max(found)[1] if found else None


_QUERY = re.compile(r"^\s*(?P<name>.+?)\s*(?P<op><=|>=|=<|=>|<|>|=|≤|≥)\s*(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>\S*)\s*$")
_EPSILON = 0.01  # numbers are compared to 1/100


def parse_value_query(text: str) -> Tuple[str, Optional[float], Optional[float]]:
    """(value field, low, high) of `hba1c <= 8%`: the thresholds in that range, in the reference unit.

    Raises:
        QueryError: not `name comparator number [unit]`, an unknown measurement or unit.
    """
    match = _QUERY.match(text or "")
    if not match:
        raise QueryError(f"not a value query: {text!r} (write e.g. hba1c<=8, \"creatinine > 1.5 mg/dL\")")
    key = measure_key(match.group("name"))
    if key is None:
        known = ", ".join(MEASURES)
        raise QueryError(f"unknown measurement {match.group('name')!r} in a value query (known: {known})")
    number = canonical(key, float(match.group("number").replace(",", ".")), match.group("unit"))
    if number is None:
        units = ", ".join(MEASURES[key].units)
        raise QueryError(f"unknown unit {match.group('unit')!r} for {key} (known: {units})")
    op = {"=<": "<=", "=>": ">=", "≤": "<=", "≥": ">="}.get(match.group("op"), match.group("op"))
    low, high = {"<=": (None, number), "<": (None, number - _EPSILON), ">=": (number, None),
                 ">": (number + _EPSILON, None), "=": (number, number)}[op]
    return f"value_{key}", low, high
