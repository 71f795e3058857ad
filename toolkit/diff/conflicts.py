"""Conflicts within one version: structured eligibility fields against the criteria text.

`find_conflicts(record)` reads the inclusion criteria for what they state
about age, sex and healthy volunteers and compares it with the structured
fields of the same version:

- `min_age` / `max_age`: the criteria state another limit ("≥ 21 years"
  against a minimum age of 18);
- `min_age_missing` / `max_age_missing`: the criteria state a limit the
  fields leave open ("aged 18-65" and no maximum age);
- `sex`: sex ALL against "women only" (or "postmenopausal women", "male
  patients" ...), or one sex against "men and women";
- `healthy_volunteers`: "No" against criteria that admit healthy subjects.

Only criteria that name an age ("age", "aged", "years old", "of age") are
read for age limits, and a criterion that states two different lower (or
upper) limits is left alone: cohorts with their own ranges are no conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from toolkit.records import Criterion, TrialRecord, to_dict

__all__ = ["Conflict", "CONFLICT_KINDS", "find_conflicts", "stated_ages"]

CONFLICT_KINDS = ("min_age", "max_age", "min_age_missing", "max_age_missing", "sex", "healthy_volunteers")

_YEARS = r"(?:years?|yrs?|y\.?o\.?)(?![a-z])"
_AGE_CUE = re.compile(r"\bage[sd]?\b|\byears?\s+old\b|\byears?\s+of\s+age\b|\byrs?\s+old\b|\badults?\s+aged?\b", re.I)
_RANGE = re.compile(rf"(?<![\d.])(\d{{1,3}})\s*(?:-|–|to|and|through)\s*(\d{{1,3}})\s*{_YEARS}", re.I)
_LOW = re.compile(
    rf"(?:(≥|>\s*/?\s*=|=>|>|at\s+least|over|older\s+than|above|more\s+than|greater\s+than|"
    rf"minimum(?:\s+age)?(?:\s+of)?|from)\s*(\d{{1,3}})\s*{_YEARS}"
    rf"|(?<![\d.])(\d{{1,3}})\s*{_YEARS}(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:older|over|above|more)(?!\s+than))", re.I)
_HIGH = re.compile(
    rf"(?:(≤|<\s*/?\s*=|=<|<|under|younger\s+than|less\s+than|below|up\s+to|not\s+older\s+than|"
    rf"maximum(?:\s+age)?(?:\s+of)?)"
    rf"\s*(\d{{1,3}})\s*{_YEARS}"
    rf"|(?<![\d.])(\d{{1,3}})\s*{_YEARS}(?:\s+of\s+age|\s+old)?\s*(?:or|and)\s+(?:younger|under|less|below)(?!\s+than))", re.I)
_FEMALE_ONLY = re.compile(
    r"\b(?:women|females?)\s+only\b|\bonly\s+(?:women|females?)\b|\b(?:post|pre|peri)-?\s?menopausal\s+(?:women|females?)"
    r"|^\s*(?:women|females?|female\s+(?:patients?|subjects?|participants?|volunteers?))\s*,?\s*"
    r"(?:aged?\b|between\b|with\b)", re.I)
_MALE_ONLY = re.compile(
    r"\b(?:men|males?)\s+only\b|\bonly\s+(?:men|males?)\b"
    r"|^\s*(?:men|males?|male\s+(?:patients?|subjects?|participants?|volunteers?))\s*,?\s*"
    r"(?:aged?\b|between\b|with\b)", re.I)
_FEMALE = re.compile(r"\b(?:women|woman|females?|girls?)\b", re.I)
_MALE = re.compile(r"\b(?:men|man|males?|boys?)\b", re.I)
_BOTH = re.compile(r"\b(?:men\s+(?:and|or)\s+women|women\s+(?:and|or)\s+men|males?\s+(?:and|or)\s+females?"
                   r"|females?\s+(?:and|or)\s+males?|both\s+(?:sexes|genders))\b", re.I)
# criteria whose ages are not the participant's own limits: conditions ("for patients < 18 years"),
# other people (donors, parents), alternatives under a definition ("postmenopausal, defined as: ...")
_CONDITIONAL = re.compile(r"\b(?:for|if|when|unless)\b[^.;:]{0,40}?\d{1,3}\s*(?:years?|yrs?)"
                          r"|\bat\s+(?:the\s+time\s+of\s+)?(?:onset|diagnosis)", re.I)
_NEAR_AGE = re.compile(r"\bage[sd]?\b|\bold\b", re.I)
_OTHER_PEOPLE = re.compile(r"\b(?:donors?|parents?|partners?|caregivers?|mothers?|fathers?|spouses?|guardians?|"
                           r"healthy\s+volunteers?|controls?|cohorts?|groups?|"
                           r"siblings?|relatives?)\b", re.I)
_ALTERNATIVES = re.compile(r"defin|following|\beither\b|\bor\b", re.I)
_AGE_NUMBER = re.compile(r"\d{1,3}\s*(?:years?|yrs?|months?)\b", re.I)
_CHILDBEARING = re.compile(r"child\s*-?\s*bearing|pregnan|contracept|lactat", re.I)
_HEALTHY = re.compile(r"(?<!non-)(?<!un)\bhealthy\s+(?:adult\s+)?(?:volunteers?|subjects?|participants?|adults?|"
                      r"individuals?|men|women|males?|females?|controls?|children|persons?|people)\b", re.I)


@dataclass(frozen=True)
class Conflict:
    """A structured field that the criteria text of the same version contradicts."""

    registry: str
    trial_id: str
    version: Optional[str]
    kind: str
    field: str
    structured: Optional[str]
    stated: str
    criterion: Optional[str]
    message: str

    def to_dict(self) -> dict:
        """The JSON form (`None` left out)."""
        return to_dict(self)


def find_conflicts(record: TrialRecord) -> List[Conflict]:
    """Every conflict between a version's structured eligibility fields and its criteria.

    Args:
        record: one version of a trial, with its criteria tree.

    Returns:
        The conflicts, in `CONFLICT_KINDS` order.
    """
    eligibility = record.eligibility
    if eligibility is None:
        return []
    inclusion = [c for c in record.all_criteria() if c.polarity == "inclusion"]
    found = list(_age_conflicts(record, inclusion)) + list(_sex_conflicts(record, inclusion))
    found += list(_healthy_conflicts(record, inclusion))
    return found


def stated_ages(text: str) -> Tuple[List[Tuple[float, str]], List[Tuple[float, str]]]:
    """Lower and upper age limits a criterion states: ([(years, operator)], [(years, operator)])."""
    if not _AGE_CUE.search(text):
        return [], []
    lows, highs = [], []
    near = [m.span() for m in _NEAR_AGE.finditer(text)]

    def about_age(m) -> bool:  # "age" or "old" within a few words of the number
        return any(start - 25 <= m.end() and end + 25 >= m.start() for start, end in near)

    for m in filter(about_age, _RANGE.finditer(text)):
        lows.append((float(m.group(1)), "≥"))
        highs.append((float(m.group(2)), "≤"))
    rest = _RANGE.sub(" ", text)
    for m in filter(about_age, _LOW.finditer(rest)):
        op = " ".join((m.group(1) or "").lower().split())
        lows.append((float(m.group(2) or m.group(3)), ">" if op in (">", "over", "above")
                     or op.startswith(("older", "more", "greater")) else "≥"))
    for m in filter(about_age, _HIGH.finditer(rest)):
        op = " ".join((m.group(1) or "").lower().split())
        highs.append((float(m.group(2) or m.group(3)), "<" if op in ("<", "under", "below")
                      or op.startswith(("younger", "less")) else "≤"))
    return lows, highs


def _conflict(record: TrialRecord, kind: str, field: str, structured, stated: str,
              criterion: Optional[Criterion], message: str) -> Conflict:
    return Conflict(record.registry, record.trial_id, record.version, kind, field,
                    None if structured is None else str(structured), stated,
                    criterion.id if criterion is not None else None, message)


def _age_conflicts(record: TrialRecord, inclusion: List[Criterion]) -> Iterator[Conflict]:
    lows, highs = [], []
    texts = {c.id: c.text for c in inclusion}
    for criterion in inclusion:
        if not _own_age_limit(criterion, texts):
            continue
        low, high = stated_ages(criterion.text)
        lows += [(years, op, criterion) for years, op in low]
        highs += [(years, op, criterion) for years, op in high]
    eligibility = record.eligibility
    if lows and highs and min(y for y, _, _ in highs) <= max(y for y, _, _ in lows):
        highs = []  # "aged >= 60 ... patients aged < 60 who ...": alternatives, not one range
    yield from _limit(record, "min", {y for y, _, _ in lows}, lows, eligibility.min_age)
    yield from _limit(record, "max", {y for y, _, _ in highs}, highs, eligibility.max_age)


def _own_age_limit(criterion: Criterion, texts: dict) -> bool:
    """False for criteria whose ages are not the participants' limits (see `_CONDITIONAL` ...)."""
    text = criterion.text
    if _CONDITIONAL.search(text) or _OTHER_PEOPLE.search(text) or len(_AGE_NUMBER.findall(text)) > 2:
        return False
    parent = texts.get(criterion.id.rsplit(".", 1)[0]) if "." in criterion.id else None
    return not (parent and _ALTERNATIVES.search(parent))


def _limit(record, side: str, values: set, stated: list, age) -> Iterator[Conflict]:
    if len(values) != 1:  # none stated, or cohorts with limits of their own
        return
    years, op, criterion = stated[0]
    field = f"eligibility.{side}_age"
    text = f"{'≥' if side == 'min' else '≤'} {years:g} years" if op in ("≥", "≤") else f"{op} {years:g} years"
    if age is None or age.years is None:
        word = "minimum" if side == "min" else "maximum"
        if side == "min" and years <= 0:
            return
        yield _conflict(record, f"{side}_age_missing", field, None, text, criterion,
                        f"{word} age missing but {criterion.id} states {text}: {_brief(criterion.text)}")
        return
    strict = 1 if op in (">", "<") else 0
    expected = years + strict if side == "min" else years - strict
    if abs(age.years - years) < 0.5 or abs(age.years - expected) < 0.5:
        return
    word = "minimum" if side == "min" else "maximum"
    yield _conflict(record, f"{side}_age", field, age.text or f"{age.years:g} years", text, criterion,
                    f"{word} age {age.text or age.years} against {criterion.id}: {_brief(criterion.text)}")


def _sex_conflicts(record: TrialRecord, inclusion: List[Criterion]) -> Iterator[Conflict]:
    sex = record.eligibility.sex
    texts = " ".join(c.text for c in inclusion)
    if sex == "ALL":
        for pattern, other, only in ((_FEMALE_ONLY, _MALE, "women"), (_MALE_ONLY, _FEMALE, "men")):
            hit = next((c for c in inclusion if pattern.search(c.text) and not _CHILDBEARING.search(c.text)), None)
            if hit is not None and not other.search(texts) and not _BOTH.search(texts):
                yield _conflict(record, "sex", "eligibility.sex", sex, f"{only} only", hit,
                                f"sex ALL against {hit.id}: {_brief(hit.text)}")
                return
    elif sex in ("FEMALE", "MALE"):
        hit = next((c for c in inclusion if _BOTH.search(c.text) and not _CHILDBEARING.search(c.text)), None)
        if hit is not None:
            yield _conflict(record, "sex", "eligibility.sex", sex, "both sexes", hit,
                            f"sex {sex} against {hit.id}: {_brief(hit.text)}")


def _healthy_conflicts(record: TrialRecord, inclusion: List[Criterion]) -> Iterator[Conflict]:
    if record.eligibility.healthy_volunteers is not False:
        return
    hit = next((c for c in inclusion if _HEALTHY.search(c.text)), None)
    if hit is not None:
        yield _conflict(record, "healthy_volunteers", "eligibility.healthy_volunteers", "No",
                        _HEALTHY.search(hit.text).group(0), hit,
                        f"healthy volunteers No against {hit.id}: {_brief(hit.text)}")


def _brief(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
