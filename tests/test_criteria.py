"""The eligibility criteria parser on real texts: golden cases and case tables.

Golden cases live in tests/fixtures/criteria/*.txt (one named case per real
excerpt, with its trial id); `scripts/update_criteria_golden.py` rewrites their
expected outlines after review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_criteria_invariant import invariant_errors
from toolkit.errors import ToolkitError
from toolkit.criteria.bullets import split_lines
from toolkit.criteria.tree import CriteriaResult, parse_criteria
from golden import dump_cases, load_cases, render_outline
from toolkit.criteria.heading_rules import RulesError, RuleSet, load_rules
from toolkit.records import walk_criteria

FIXTURES = Path(__file__).parent / "fixtures" / "criteria"
CASES = [case for path in sorted(FIXTURES.glob("*.txt")) for case in load_cases(path)]


def test_criteria_golden_cases_are_many_and_named():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    assert all(case.trial.strip() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_criteria_golden_case(case):
    assert render_outline(parse_criteria(case.text)) == case.expected


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_criteria_golden_case_keeps_invariant(case):
    assert invariant_errors(case.text) == []


def test_criteria_outline_case_file_round_trips():
    path = FIXTURES / "seed.txt"
    assert dump_cases(load_cases(path)) == path.read_text(encoding="utf-8")


# --- the seed page --------------------------------------------------------------


@pytest.fixture
def seed_result(seed_path):
    page = seed_path.read_text(encoding="utf-8")
    block = page[page.index("Inclusion Criteria\n"):page.index("\n1 Month\n")]
    return block, parse_criteria(block)


def test_criteria_seed_unindented_children_of_following(seed_result):
    _, result = seed_result
    parent = result.criteria[1]
    assert parent.id == "I2" and parent.text.endswith("at least one of the following:")
    assert [c.id for c in parent.children] == ["I2.1", "I2.2", "I2.3"]
    assert [c.id for c in parent.children[2].children] == ["I2.3.1", "I2.3.2"]
    assert result.criteria[2].text.startswith("Karnofsky performance status")


@pytest.mark.parametrize(
    "ident,category,start",
    [
        ("E1", "Other Medical Conditions", "Clinically relevant CNS pathology"),
        ("E10", "Prior/Concomitant Therapy", "AlloHSCT within 12 weeks"),
        ("E15", "Prior/Concurrent Clinical Study Experience", "Currently receiving treatment"),
        ("E16", "Other Exclusions", "Female participants of childbearing potential"),
    ],
)
def test_criteria_seed_subheadings_are_categories(seed_result, ident, category, start):
    _, result = seed_result
    criterion = {c.id: c for c in walk_criteria(result.criteria)}[ident]
    assert (criterion.polarity, criterion.category) == ("exclusion", category)
    assert criterion.text.startswith(start)


def test_criteria_seed_escapes_removed_offsets_kept(seed_result):
    block, result = seed_result
    first = result.criteria[0]
    assert first.text == "Pediatric participants aged > 1 month and < 18 years at the time of informed consent"
    assert block[first.start:first.end].startswith("Pediatric participants aged \\> 1 month")


# --- headings -------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading,polarity",
    [
        ("Inclusion Criteria:", "inclusion"),
        ("Key Inclusion Criteria", "inclusion"),  # cthist NCT01352702
        ("INCLUSION CRITERIA", "inclusion"),
        ("Inclusion:", "inclusion"),
        ("Main inclusion criteria", "inclusion"),  # NCT02798159
        ("Exclusion criteria include:", "exclusion"),
        ("Patients must meet ALL of the following", "inclusion"),
        ("Part A Inclusion Criteria", "inclusion"),
        ("Inclusion Criteria for Group 2", "inclusion"),  # legacy XML
        ("-  INCLUSION CRITERIA:", "inclusion"),  # legacy XML bulleted heading
        ("**Exclusion Criteria:**", "exclusion"),
        ("Exclusion Criteria :", "exclusion"),
        ("Additional Inclusion Criteria", "inclusion"),  # DRKS
        ("INCLUSION/EXCLUSION CRITERIA:", "unknown"),
        ("Patients may be eligible for this study if they:", "inclusion"),  # NIH CC records
        ("You will not be eligible for this study if you:", "exclusion"),
        ("Patients with the following symptoms or conditions are excluded:", "exclusion"),  # ACTG
        ("Excluded within 30 days of study entry:", "exclusion"),  # ACTG
        ("Participants are excluded from the study if any of the following criteria apply:", "exclusion"),
    ],
)
def test_criteria_heading_variants_set_polarity(heading, polarity):
    result = parse_criteria(f"{heading}\n* Age 18 or older")
    assert result.headings == (heading.strip("-* "),)
    assert result.criteria[0].polarity == polarity
    assert result.criteria[0].text == "Age 18 or older"


@pytest.mark.parametrize(
    "line",
    [
        "Patients who do not meet the inclusion criteria",
        "See inclusion criteria above",
        "Failure to meet inclusion criteria.",  # legacy XML
        "Further inclusion criteria apply.",  # NCT06791122
        "Other protocol-defined inclusion/exclusion criteria may apply",
        "Patient meets the inclusion criteria for trial entry",
        "Pregnant women will be excluded.",
    ],
)
def test_criteria_mentions_of_criteria_are_not_headings(line):
    result = parse_criteria(f"Exclusion Criteria:\n* Age under 18\n* {line}")
    assert result.headings == ("Exclusion Criteria:",)
    assert [c.text for c in result.criteria] == ["Age under 18", line]
    assert {c.polarity for c in result.criteria} == {"exclusion"}


@pytest.mark.parametrize(
    "line,before,after",
    [
        # NCT00668135
        ("* Stable heterosexual relationship Exclusion Criteria:", "Stable heterosexual relationship", None),
        # NCT00461565 (legacy XML)
        ("Hepatitis C at screening Exclusion Criteria:- Any unstable medical disorder",
         "Hepatitis C at screening", "Any unstable medical disorder"),
    ],
)
def test_criteria_heading_inside_a_line_starts_a_block(line, before, after):
    result = parse_criteria(f"Inclusion Criteria:\n{line}\n* Pregnancy")
    assert result.headings == ("Inclusion Criteria:", "Exclusion Criteria:")
    assert [(c.polarity, c.text) for c in result.criteria] == [
        ("inclusion", before), *([("exclusion", after)] if after else []), ("exclusion", "Pregnancy")
    ]


@pytest.mark.parametrize(
    "line",
    [
        "D) Other Exclusion Criteria:",  # NCT00657033: a heading of its own
        "Imaging studies are not done in patients that have the following exclusion criteria:",  # NCT00004847
        "3. other inclusion criteria: good compliance",  # ChiCTR2000029569
    ],
)
def test_criteria_heading_words_inside_a_line_not_cut(line):
    result = parse_criteria(f"Inclusion Criteria:\n{line}")
    assert all(c.polarity == "inclusion" for c in result.criteria)


@pytest.mark.parametrize(
    "text,rest",
    [
        ("Inclusion criteria: 1) Any age;\n2) Meet the diagnostic standard of COVID-19;", "Any age;"),  # ChiCTR2000030219
        ("Exclusion criteria: no exclusion criteria.", "no exclusion criteria."),  # ChiCTR2000029639
        ("DISEASE CHARACTERISTICS: Histologically proven solid tumor", "Histologically proven solid tumor"),
    ],
)
def test_criteria_inline_heading_text_becomes_criterion(text, rest):
    result = parse_criteria(text)
    assert result.criteria[0].text == rest
    assert invariant_errors(text) == []


def test_criteria_inline_heading_numbered_items_are_siblings():
    text = "Inclusion criteria: 1) Any age;\n2) Meet the diagnostic standard of COVID-19;"
    result = parse_criteria(text)
    assert [c.id for c in result.criteria] == ["I1", "I2"]


# --- structure ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,outline",
    [
        # API v2 markdown nesting by indentation
        ("Inclusion Criteria:\n\n* A\n  * B\n  * C\n* D", ["I1", "I1.1", "I1.2", "I2"]),
        # ChiCTR: "(1)" children under "1. ...:" at the same indentation (ChiCTR2000030032)
        ("1. novel coronavirus:\n(1) travel;\n(2) contact;\n2. Clinical manifestations:\n(1) fever;",
         ["U1", "U1.1", "U1.2", "U2", "U2.1"]),
        # numbered items keep counting: not children of an item ending with ":"
        ("1. At least one of:\n2. Age 18\n3. Consent", ["U1", "U2", "U3"]),
        # a restarting number under an item ending with ":" is a child list
        ("* Any of:\n1. A\n2. B", ["U1", "U1.1", "U1.2"]),
    ],
)
def test_criteria_nesting(text, outline):
    result = parse_criteria(text)
    assert [c.id for c in walk_criteria(result.criteria)] == outline


def test_criteria_hard_wrapped_continuation_joined():
    # NCT00000385, legacy XML: continuation indented under the text
    text = (
        "        Exclusion Criteria:\r\n\r\n"
        "          6. Major medical problem such as cardiac, renal, and thyroid diseases, or seizure\r\n"
        "             disorder.\r\n\r\n"
        "          7. History of psychoactive medication in the previous 2 weeks.\r\n"
    )
    result = parse_criteria(text)
    assert [c.text for c in result.criteria] == [
        "Major medical problem such as cardiac, renal, and thyroid diseases, or seizure disorder.",
        "History of psychoactive medication in the previous 2 weeks.",
    ]


@pytest.mark.data
def test_criteria_line_endings_do_not_change_the_tree():
    """CRLF legacy XML gives the same tree as the same text with LF."""
    case = next(c for c in CASES if c.name == "numbered_wrapped")
    lf, crlf = parse_criteria(case.text), parse_criteria(case.text.replace("\n", "\r\n"))
    assert [(c.id, c.text) for c in walk_criteria(lf.criteria)] == [
        (c.id, c.text) for c in walk_criteria(crlf.criteria)
    ]


def test_criteria_no_heading_notes_unknown_polarity():
    result = parse_criteria("Age 18 or older\nSigned consent")
    assert [c.id for c in result.criteria] == ["U1", "U2"]
    assert result.notes == ("no inclusion/exclusion heading: polarity unknown",)


def test_criteria_preamble_before_heading_is_noted():
    result = parse_criteria("Healthy adults.\n\nInclusion Criteria:\n* Age 18")
    assert [c.id for c in result.criteria] == ["U1", "I1"]
    assert result.notes == ("1 criteria before the first inclusion/exclusion heading: polarity unknown",)


@pytest.mark.parametrize("text", ["", "   \n\n  ", "\r\n"])
def test_criteria_empty_text_gives_empty_result(text):
    assert parse_criteria(text) == CriteriaResult()


def test_criteria_ids_stable_across_parses():
    case = CASES[0]
    assert parse_criteria(case.text) == parse_criteria(case.text)


# --- rules as data ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"blocks": []},
        {"block": [{"name": "x", "pattern": "(?P<head>a", "polarity": "inclusion"}]},
        {"block": [{"name": "x", "pattern": "(?P<head>a)", "polarity": "maybe"}]},
        {"cue": [{"name": "x", "pattern": "abc", "polarity": "exclusion"}]},
        {"category": [{"name": "x", "pattern": "(?P<head>a)", "colour": "red"}]},
    ],
)
def test_criteria_rules_reject_malformed_data(data):
    with pytest.raises(RulesError):
        RuleSet.from_dict(data)


def test_criteria_rules_error_is_a_toolkit_error():
    assert issubclass(RulesError, ToolkitError)
    assert len(load_rules().rules) >= 8


# --- lines and bullet markers -------------------------------------------------------


@pytest.mark.parametrize(
    "line,style,rest",
    [
        ("* Age 18", "sym:*", "Age 18"),  # API v2 markdown
        ("  -  Age 18", "sym:-", "Age 18"),  # legacy XML
        ("\\- Currently receiving", "sym:-", "Currently receiving"),  # seed page NCT06054113
        ("• Age 18", "sym:•", "Age 18"),
        ("· Age 18", "sym:·", "Age 18"),
        ("o Headache is reported", "sym:o", "Headache is reported"),  # NCT06669780
        ("-Age equal or above 18 years", "sym:-", "Age equal or above 18 years"),  # DRKS00000005
        ("*Resectable malignancies", "sym:*", "Resectable malignancies"),  # DRKS00000005
        ("1. Males and females", "num.", "Males and females"),
        ("10) lactating women", "num)", "lactating women"),  # ChiCTR2000029539
        ("19)Women at high risk", "num)", "Women at high risk"),  # NCT00002644
        ("(2) Patients admitted", "(num)", "Patients admitted"),  # ChiCTR2000029805
        ("a. Spondylosis", "alpha.", "Spondylosis"),  # NCT06485206
        ("B) Shock occurred", "alpha)", "Shock occurred"),  # NCT04260594
        ("(d) able to state", "(alpha)", "able to state"),  # NCT04299711
        ("ii. necrosis", "roman.", "necrosis"),  # NCT00001421
        ("iv) history of", "roman)", "history of"),  # NCT00004143
        ("* 1. Unwilling", "num.", "Unwilling"),  # NCT04948307
    ],
)
def test_criteria_bullet_markers(line, style, rest):
    (parsed,) = split_lines(line)
    assert parsed.style == style
    assert line[parsed.text_start:parsed.end] == rest


@pytest.mark.parametrize(
    "line",
    [
        "1.5 times normal AST",  # legacy XML continuation line
        "(ABC) infection or colonization",  # NCT00001308 continuation line
        "200).",  # NCT00000645
        "U.S. citizens only",
        "e.g. influenza vaccine",
        "or other opioids",
        "-",
    ],
)
def test_criteria_non_markers(line):
    (parsed,) = split_lines(line)
    assert parsed.style == "none" and parsed.text_start == parsed.content


@pytest.mark.parametrize(
    "text",
    ["a\nb\n\nc", "a\r\nb\r\n\r\nc", "a\rb\n\r\nc\r", "a\n\n\nb\r\n\rc"],
)
def test_criteria_split_lines_any_line_ending(text):
    lines = split_lines(text)
    assert [text[line.start:line.end] for line in lines] == [
        part for part in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if part
    ]
    assert [line.blank_before for line in lines][-1] is True
