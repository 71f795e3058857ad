"""Time windows ("within 4 weeks prior to randomisation") and other temporal cues.

Pure functions over a criterion text; offsets are character offsets into it.
A time window has an amount and a unit, optionally a relation before it and a
direction plus anchor after it; each part is normalised through the rule tables
of `data/rules.json`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

from toolkit.codec import replace_fields
from toolkit.nlp.rules import (
    NUMBER, Rules, alternation, amount_range, classify, lead_start, load_rules, number_value, overlaps,
)
from toolkit.records import Tag

_AGE_JOIN = re.compile(r"\s*(?:,|and|or|to|-|–|\((?:\s*i\.\s*e\.,?)?)?\s*")
_RELATION_REACH = 40  # characters before an amount searched for its relation ("within the past")
AGE_AFTER = re.compile(r"(?:\s*|-)(?:of age|old|or older|or younger|and older|and over|and above|of life)(?![a-z])", re.I)
_AGE_ONLY_AFTER = re.compile(r"(?:\s*|-)(?:of age|old|or older|or younger|and older|and over|and above)\b", re.I)
# A unit without a number after these words is one of it: 'within the past year', 'in the next month'.
_BARE_UNIT_AFTER = ("past", "last", "previous", "preceding", "next", "following", "coming")
# 'within 4 weeks or 5 half-lives (whichever is shorter) before', 'within 60 days, or 5 half-lives, whichever is longer, before'
_OR_MORE = re.compile(r"\s+or\s+(?:longer|more|greater)\b", re.I)  # "6 months or longer", "7 days or more since"
_RUN_WORD = r"(?:consecutive|continuous|successive|full|calendar)"  # '21 consecutive days', '3 full months'
_HEDGE_WORD = r"(?:approximately|approx\.?|about|around|roughly|nearly)"
_HALF_LIVES = r"(?:,?\s+or\s+\S+\s+half[- ]?lives?(?:,\s*whichever is \w+,?)?)?"


@lru_cache(maxsize=1)
def _patterns() -> Tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern, re.Pattern]:
    """Compiled: window core (amount, unit, direction), relation ending before it, anchor, temporal, age."""
    rules = load_rules()
    words = "|".join(sorted(rules.number_words, key=len, reverse=True))
    by_length = {len(word): [w for w in _BARE_UNIT_AFTER if len(w) == len(word)] for word in _BARE_UNIT_AFTER}
    behind = "|".join(f"(?<=(?:{'|'.join(same)}) )" for same in by_length.values())  # lookbehinds of one width
    bare = rf"(?=[wmy])(?:{behind})"  # only before week, month or year: cheap to rule out elsewhere
    amount = rf"(?:{NUMBER}|\b(?:{words})\b(?:\s*\(\d+\))?|{bare})"
    units = "|".join(sorted(rules.unit_of_form, key=len, reverse=True))
    window = re.compile(
        rf"(?<![\w./])(?P<between>(?<=between ))?{amount_range(amount, joiner='or|(?(between)and|(?!))')}"
        rf"(?P<more_units>{_OR_MORE.pattern})?(?:\s+{_RUN_WORD})?\s*-?\s*(?P<unit>{units})\b\.?"
        rf"(?:(?P<or_more>{_OR_MORE.pattern})?(?:\s+(?:period|interval|window))?{_HALF_LIVES}(?:\s*\([^()]{{1,25}}\))?,?"
        rf"\s+(?:immediately\s+)?(?P<dir>{alternation(rules.directions)})\b)?",
        re.IGNORECASE,
    )
    relation = re.compile(rf"(?:(?<!\w)|(?=[<>≤≥]))(?:{alternation(rules.relations)})(?:\s+{_HEDGE_WORD})?\s*$",
                          re.IGNORECASE)
    anchor = re.compile(rf"[\s-]*(?:{alternation(rules.anchors)})(?!\w)", re.IGNORECASE)
    temporal = re.compile(rf"\b(?:{alternation(rules.temporal)})\b", re.IGNORECASE)
    age_before = re.compile(
        rf"\b(?:aged?|ages|older than|younger than|(?:over|under) the age of)\b[^.;,]{{0,35}}$"
        rf"|\b(?:{'|'.join(rules.age_cues)})\b(?:\s*(?:of\s*)?(?:\w+\s*)?|(?P<bracket>\s*[(=][\s(=]*(?:\w+[\s(=]*)?))$",
        re.I
    )
    return window, relation, anchor, temporal, age_before


def find_time_windows(text: str) -> List[Tag]:
    """Time windows with an amount, normalised.

    Args:
        text: a criterion text.

    Returns:
        `time_window` tags (relation, amount, unit, days or low/high days,
        direction, anchor), in text order.
    """
    rules = load_rules()
    window, relation_re, anchor_re, _, age_before = _patterns()
    tags = []
    age_end = -1
    for match in window.finditer(text):
        start = lead_start(relation_re, text, match, reach=_RELATION_REACH)
        if _is_age(text, start, match, age_before) or _continues_age(text, age_end, start) \
                or _is_age_range(text, start, match):
            age_end = match.end()
        elif not _is_compound_adjective(text, match) and not _is_frequency(text, match) \
                and not _is_rate(text, start, match) and not _times_a_test(text, start, match) \
                and _bare_unit_reads(text, start, match):
            tags.append(_window_tag(text, start, match, anchor_re, rules))
    tags = [tag for tag in tags if tag is not None]
    return _share_anchors(text, _without_restatements(text, tags)) if len(tags) > 1 else tags


def _continues_age(text: str, age_end: int, start: int) -> bool:
    """'Age >= 65 years, < 90 years': the second limit is an age too."""
    return age_end >= 0 and bool(_AGE_JOIN.fullmatch(text, age_end, start))


_COMPARATIVE = re.compile(r"[<>≥≤=/]|more|less|greater|fewer|older|younger|at least|at most|over|under|above|below|between",
                          re.I)


def _is_age(text: str, start: int, match: re.Match, age_before: re.Pattern) -> bool:
    """'aged > 1 month', 'patients ≥ 16 years', '18 years of age': an age, not a window.

    A duration with a temporal relation ('patients during the first 12 hours')
    or a direction ('3 months prior to') stays a window.
    """
    relation_text = text[start:match.start()]
    if match.group("dir"):
        return False
    if _is_gestational(text, start, match):
        return True
    if relation_text.strip() and not _COMPARATIVE.search(relation_text):
        return bool(_AGE_ONLY_AFTER.match(text, match.end()))  # 'for 16 years and older'
    cue = age_before.search(text[max(0, start - 30):start])
    if cue is not None and (not cue.group("bracket") or _in_years(match)):  # 'patients (less than 1 month)' stays
        return True
    return bool(AGE_AFTER.match(text, match.end())) or _is_years_clause(text, start, match)


def _in_years(match: re.Match) -> bool:
    return match.group("unit").lower().startswith(("year", "yr"))


_CLAUSE_START = re.compile(r"(?:^|[,;(]|\b(?:and|or))\s*=?\s*$", re.I)
_CLAUSE_END = re.compile(r"\s*(?:[,;.)]|$|(?:and|or)\b)", re.I)


def _is_years_clause(text: str, start: int, match: re.Match) -> bool:
    """'..., under 18 years', '=16 years and < 70 years': 12 years or more compared alone in a clause is an age."""
    low = match.group("low")
    return _in_years(match) and bool(low) and low[0].isdigit() \
        and number_value(low) >= 12 and bool(_CLAUSE_START.search(text, max(0, start - 6), start)) \
        and bool(_CLAUSE_END.match(text, match.end()))


_GESTATION_AFTER = re.compile(r"\s*(?:\+\s*\d+\s*)?(?:\d/7\s*)?(?:weeks?\s*)?(?:of\s+)?(?:gestation|pregnancy|GA\b|PMA\b|"
                              r"post-?menstrual|corrected)", re.I)
_GESTATION_BEFORE = re.compile(r"\b(?:gestation\w*|preterms?|pre-?term|prematures?|born)\b[^.;]{0,40}$", re.I)


def _is_gestational(text: str, start: int, match: re.Match) -> bool:
    """'≤ 33 weeks gestational age', 'gestation <28 weeks', 'born before 37 weeks': an age of pregnancy."""
    if not match.group("unit").lower().startswith(("week", "wk", "w")) \
            or _WINDOW_PREPOSITION.search(text, start, match.start()):
        return False  # 'preterm infants given surfactant within 2 weeks' stays a window
    return bool(_GESTATION_AFTER.match(text, match.end())
                or _GESTATION_BEFORE.search(text, max(0, start - 60), start))


_APGAR = re.compile(r"apgar", re.I)


def _times_a_test(text: str, start: int, match: re.Match) -> bool:
    """'5 min Apgar', 'Apgar score < 5 at 10 minutes': when a score is taken, not a window."""
    return not match.group("dir") and bool(_APGAR.search(text, max(0, start - 30), min(len(text), match.end() + 12)))


_FREQUENCY = re.compile(
    r"(?:\b(?:once|twice|thrice|times?)|\d\s*x)\s*(?:(?:a|an|per|every|each)\s+)?$|\b(?:every|each)\s+$", re.I)


def _is_frequency(text: str, match: re.Match) -> bool:
    """'twice a week', '4 times every 4 weeks', 'every 3 months': how often, not a window."""
    return not match.group("dir") and bool(_FREQUENCY.search(text, max(0, match.start() - 25), match.start()))


_PER_UNIT = re.compile(r"\s*(?:/|\bper\b|\ba\b|\beach\b)\s*(?:day|night|week|month|year|wk|d)\b", re.I)


def _is_rate(text: str, start: int, match: re.Match) -> bool:
    """'20h/week', '5 days a week', '5 hours per night', '5 cigarettes a day': time per time, not a window
    (a bare 'a day' with neither relation nor direction is a rate)."""
    if match.group("dir"):
        return False
    return bool(_PER_UNIT.match(text, match.end())) or (start == match.start() and match.group("low").lower() in ("a", "an"))


_UNITS_READ_BARE = ("week", "month", "year")
_OF_AFTER = re.compile(r"\s+of\b")
_WINDOW_PREPOSITION = re.compile(r"\b(?:within|in|during|over|for)\b", re.I)


def _bare_unit_reads(text: str, start: int, match: re.Match) -> bool:
    """A unit without a number ('within the past year') reads as one only when singular,
    week, month or year, after a preposition and not of something ('the last day of')."""
    if match.group("low"):
        return True
    unit = match.group("unit").lower()
    return unit in _UNITS_READ_BARE and bool(_WINDOW_PREPOSITION.search(text, start, match.start())) \
        and not _OF_AFTER.match(text, match.end())


_AGE_RANGE_LEAD = re.compile(r"(?:\bbetween|\bfrom|\branging|\baged?|\bages)\s+(?:(?:\d+|from)\s+(?:and|to|-)?\s*)?$",
                             re.I)


def _is_age_range(text: str, start: int, match: re.Match) -> bool:
    """'between 18-60 years', 'ranging from 25 to 70 years', 'between 40 and 70 years': ages.

    Read as ages when the unit is years, nothing anchors or directs it, and the upper
    bound is 40 or more with a lower bound of 12 or more (a disease lasting 1 to 10
    years stays a window).
    """
    if match.group("dir") or not _in_years(match):
        return False
    lead = _AGE_RANGE_LEAD.search(text, max(0, start - 30), match.start())
    if lead is None:
        return False
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text[lead.start():match.end()])]
    return len(numbers) >= 2 and min(numbers) >= 12 and max(numbers) >= 40


_COMPOUND = re.compile(r"\d+-[a-z]+ (?!period|window|interval|washout|course|wash-out|follow|study|trial|[a-z]+-free)"
                       r"(?!(?:[\w-]+ ){1,2}(?:period|phase)\b)[a-z]", re.I)  # not '2-week placebo run-in period'


def _is_compound_adjective(text: str, match: re.Match) -> bool:
    """'6-minute walk', '24-hour urine': an amount-unit compound naming a test, not a window."""
    if match.group("dir") or match.group("high"):
        return False
    return bool(_COMPOUND.match(text, match.start()))


def _window_tag(text: str, start: int, match: re.Match, anchor_re: re.Pattern, rules: Rules) -> Optional[Tag]:
    unit = rules.unit_of_form.get(match.group("unit").lower())
    if unit is None or _implausible_unit(match):
        return None
    low = _amount(match.group("low"), rules)
    high = _amount(match.group("high"), rules) if match.group("high") else None
    if high is not None and high < low:
        low, high = high, low
    per_unit = rules.unit_days[unit]
    direction = classify(match.group("dir"), rules.directions) if match.group("dir") else None
    end, anchor, up_to_anchor = _anchor_after(text, match, anchor_re, rules, direction)
    if up_to_anchor and start == match.start():  # '18 years at diagnosis' is an age, not a duration
        end, anchor, up_to_anchor = match.end(), None, None
    anchor = anchor or _implied_anchor(match.group("dir"))
    if direction is None and anchor is None:
        direction, anchor = _interval_since(text, start, end, anchor_re, rules)
    relation_text = text[start:match.start()]
    relation = _relation(relation_text, rules)
    or_more = _OR_MORE.match(text, match.end()) if not match.group("dir") and end == match.end() else None
    if (or_more is not None or match.group("or_more") or match.group("more_units")) and relation in (None, "during"):
        relation, end = "at_least", or_more.end() if or_more is not None else end  # "6 months or longer", "7 days or more since"
    return Tag(
        label="time_window", text=text[start:end], start=start, end=end,
        relation=relation, amount=low, unit=unit,
        days=None if high is not None else _round(low * per_unit),
        low_days=_round(low * per_unit) if high is not None else None,
        high_days=_round(high * per_unit) if high is not None else None,
        direction=direction or up_to_anchor or _implied_direction(relation, relation_text), anchor=anchor,
        attrs={"high_amount": high} if high is not None else {},
    )


def _implausible_unit(match: re.Match) -> bool:
    """Single-letter units ('d', 'h', 'w', 'y') only count right after a digit; '2D' is no day."""
    unit, low = match.group("unit"), match.group("low")
    if unit == "D" and low in ("2", "3", "4"):
        return True  # '2D echocardiography': dimensions
    return len(unit) <= 2 and unit.lower() in {"d", "h", "w", "y", "mo"} and not (low and low[-1].isdigit())


def _amount(text: str, rules: Rules) -> float:
    """The amount a number or number word ("two", "six (6)") spells; none ('the past year') is one."""
    word = text.split("(")[0].strip().lower()
    if not word:
        return 1.0
    if word in rules.number_words:
        return float(rules.number_words[word])
    return number_value(word)


_HEDGE = re.compile(rf"\s+{_HEDGE_WORD}\s*$", re.I)


def _relation(text: Optional[str], rules: Rules) -> Optional[str]:
    if not text:
        return None
    return classify(_HEDGE.sub("", text.strip()), rules.relations) or None


_LOOKING_BACK = re.compile(r"\b(?:last|past|previous|preceding|prior|recent)\b", re.I)
_LOOKING_AHEAD = re.compile(r"\b(?:next|following|coming|first)\b", re.I)


def _implied_direction(relation: Optional[str], relation_text: Optional[str]) -> Optional[str]:
    """'since 2 weeks', 'the first 12 hours' look forward from an event; 'within the last 6 months' looks back."""
    if relation == "since":
        return "after"
    if relation_text and _LOOKING_BACK.search(relation_text):
        return "before"
    if relation_text and _LOOKING_AHEAD.search(relation_text):
        return "after"  # 'within the first 12 hours of symptom onset', 'in the next 6 months'
    return None


_ANCHOR_LINKER = re.compile(r"\s+(?:of|from|(?P<at>at))\b", re.I)


_BARE_STUDY_OR_TREATMENT = re.compile(r"(?:the )?(?:study|trial|treatment)", re.I)


def _anchor_after(text: str, match: re.Match, anchor_re: re.Pattern, rules: Rules,
                  direction: Optional[str]) -> Tuple[int, Optional[str], Optional[str]]:
    """(end, anchor, direction the linker implies): 'for at least 60 days at screening' runs up to it.

    After a bare 'the study' or 'treatment' counts from its end ('within 3 months after the study').
    """
    pos, up_to = match.end(), None
    if not match.group("dir"):
        linker = _ANCHOR_LINKER.match(text, pos)
        if linker is None:
            return pos, None, None
        pos, up_to = linker.end(), "before" if linker.group("at") else None
    found = anchor_re.match(text, pos)
    if found is None:
        return match.end(), None, None
    anchor_text = found.group().strip(" -\t\r\n")
    if not match.group("dir") and anchor_text.lower().endswith("treatment") \
            and _BARE_STUDY_OR_TREATMENT.fullmatch(anchor_text):
        return match.end(), None, None  # 'one month of treatment' is how long, not since when
    anchor = classify(anchor_text, rules.anchors) or None
    if direction == "after" and _BARE_STUDY_OR_TREATMENT.fullmatch(anchor_text):
        anchor = "end of study treatment" if anchor_text.lower().endswith("treatment") else "end of study"
    return found.end(), anchor, up_to


_INTERVAL = re.compile(r"\b(?:interval|time|duration|days|hours|weeks) (?:between\s+(?P<between>[^,;]{1,60}?)\s+and\s+"
                       r"[^,;]{1,60}?|(?:from|since)\s+(?P<since>[^,;]{1,60}?))"
                       r"(?:\s+(?:is|was|should be|must be)(?:\s+determined)?)?\s*$", re.I)
_INTERVAL_AFTER = re.compile(r"\s+between\s+(?P<between>[^,;()]{1,60}?)\s*(?:\(|\band\b)", re.I)


def _interval_since(text: str, start: int, end: int, anchor_re: re.Pattern,
                    rules: Rules) -> Tuple[Optional[str], Optional[str]]:
    """'The interval between symptom onset and enrollment is within 14 days', 'Days from symptom onset > 21
    days', 'More than 7 days between the onset of symptoms and ...': after the first event."""
    found = _INTERVAL.search(text, max(0, start - 160), start) or _INTERVAL_AFTER.match(text, end)
    event = found and (found.group("between") or found.groupdict().get("since"))
    if not event or not anchor_re.fullmatch(event):
        return None, None
    return "after", classify(event.strip(), rules.anchors) or None


_IMPLIED_ANCHORS = (("partum", "delivery"), ("operative", "surgery"), ("surgery", "surgery"),
                    ("posttreatment", "end of study treatment"), ("pretreatment", "start of study treatment"))


def _implied_anchor(direction_text: Optional[str]) -> Optional[str]:
    """'postpartum' is after delivery, 'pre-operative' before surgery, 'post-treatment' after its end."""
    lowered = (direction_text or "").lower().replace("-", "")
    return next((anchor for cue, anchor in _IMPLIED_ANCHORS if cue in lowered), None)


_OPENS = re.compile(r"\s*\(\s*")
_CLOSES = re.compile(r"\s*\)")


def _without_restatements(text: str, tags: List[Tag]) -> List[Tag]:
    """'within the past year (12 months)': a bracketed amount alone restates the window before it."""
    return [tag for i, tag in enumerate(tags) if i == 0 or not (
        _OPENS.fullmatch(text, tags[i - 1].end, tag.start) and _CLOSES.match(text, tag.end))]


_COORDINATED = re.compile(r"(?=[^.;]{0,60}$)[^.;]*?\b(?:or|and)\b[^.;]*", re.I)  # a short gap with or/and


def _share_anchors(text: str, tags: List[Tag]) -> List[Tag]:
    """'X within 14 days or Y within 7 days prior to Z': coordinated windows of one relation share the
    last one's direction and anchor when they have neither."""
    out = list(tags)
    for i in range(len(out) - 2, -1, -1):
        tag, following = out[i], out[i + 1]
        if tag.direction is None and tag.anchor is None and (following.direction or following.anchor) \
                and tag.relation == following.relation and _COORDINATED.fullmatch(text, tag.end, following.start):
            out[i] = replace_fields(tag, direction=following.direction, anchor=following.anchor)
    return out


def _round(value: float) -> float:
    return round(value, 3)


def find_temporal(text: str, taken: Sequence[Tuple[int, int]] = ()) -> List[Tag]:
    """Temporal cues without an amount (history of, current, prior, at screening ...).

    Args:
        text: a criterion text.
        taken: character ranges already tagged (time windows); hits inside are skipped.

    Returns:
        `temporal` tags with `norm` set to the cue's category.
    """
    rules = load_rules()
    temporal = _patterns()[3]
    tags = []
    for match in temporal.finditer(text):
        if overlaps(match.start(), match.end(), taken):
            continue
        norm = classify(match.group(), rules.temporal)
        tags.append(Tag("temporal", match.group(), match.start(), match.end(), norm=norm or None))
    return tags
