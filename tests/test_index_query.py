"""The query language: parsing, errors that point at the problem, compiling."""

from __future__ import annotations

import pytest

from toolkit.errors import QueryError
from toolkit.index import Filters, compile_query, age_in_years, parse_duration, parse_query, render
from toolkit.index.analysis import analyze
from toolkit.index.schema import normalize_keyword


@pytest.mark.parametrize("query,expected", [
    ("car t", "(car AND t)"),
    ("blinatumomab OR rituximab", "(blinatumomab OR rituximab)"),
    ("a b OR c", "((a AND b) OR c)"),
    ("a AND (b OR c)", "(a AND (b OR c))"),
    ("NOT pregnant", "NOT pregnant"),
    ("-pregnant lactating", "(NOT pregnant AND lactating)"),
    ('"graft versus host"', '"graft versus host"'),
    ("polarity:exclusion", "polarity:exclusion"),
    ("drug:(rituximab OR blinatumomab)", "(drug:rituximab OR drug:blinatumomab)"),
    ("leuk*", "leuk*"),
    ("pembrolizumb~", "pembrolizumb~0"),
    ("pembrolizumb~2", "pembrolizumb~2"),
    ("AND leukemia", None),
    ("leukemia OR", None),
    ("DRUG:\"CAR T\"", 'drug:"CAR T"'),
])
def test_query_parse_renders_tree(query, expected):
    if expected is None:
        with pytest.raises(QueryError):
            parse_query(query)
        return
    assert render(parse_query(query)) == expected


@pytest.mark.parametrize("query,reason,column", [
    ("(leukemia OR lymphoma", "'(' is never closed", 1),
    ("leukemia)", "unbalanced ')'", 9),
    ('"graft versus host', "unterminated quote", 1),
    ("color:red", "unknown field 'color'", 1),
    ("leukemia AND", "the query ends too early", 13),
    ("drug:(a OR status:recruiting)", "field 'status' inside field 'drug'", 12),
    ("le*uk", "'*' and '~' go at the end of a word", 1),
])
def test_query_errors_point_at_the_problem(query, reason, column):
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    message = str(caught.value)
    assert reason in message
    assert f"column {column}" in message
    caret_line = message.splitlines()[-1]
    assert caret_line.index("^") - 2 == column - 1


def test_query_empty_is_an_error():
    with pytest.raises(QueryError, match="empty query"):
        parse_query("   ")


@pytest.mark.parametrize("query,expected", [
    # stemming and case folding
    ("Infections", "(text:infection OR text:infect)"),
    # a hyphenated word is a phrase of its parts
    ("CAR-T", None),
    # keyword fields are normalised
    ("phase:2", "phase:phase2"),
    ('phase:"Phase 3"', "phase:phase3"),
    ("status:\"not yet recruiting\"", "status:not_yet_recruiting"),
    ("polarity:exc", "polarity:exclusion"),
    ("trial:NCT06054113", "trial:nct06054113"),
    ("type:interventional", "type:interventional"),
    # a prefix is the folded word, punctuation dropped (a fuzzing find: '>' broke tantivy's regex)
    ("condition:>Pregnan*", "condition:pregnan*"),
    ("Hépat*", "text:hépat*"),
])
def test_query_compile_resolves_words(query, expected):
    node = compile_query(query)
    rendered = render(node)
    assert rendered.startswith("(NOT kind:trial AND ")
    if expected is not None:
        assert rendered == f"(NOT kind:trial AND {expected})"


@pytest.mark.parametrize("query,variant", [
    ('drug:"CAR T"', 'drug:"chimeric antigen receptor"'),
    ("drug:CAR-T", "drug:cart"),
    ("condition:GvHD", 'condition:"graft versus host diseas"'),
    ('"graft-versus-host disease"', "text:gvhd"),
    ("NSCLC", 'text:"non small cell lung cancer"'),
    ("ECOG", 'text:"eastern cooperativ oncology group"'),
    # concepts: spellings, abbreviations, a class's members, hyphen joins
    ("pregnant", "text:pregnancy"),
    ("breastfeeding", "text:lactating"),
    ("allergy", "text:hypersensitivity"),
    ("corticosteroids", "text:dexamethason"),
    ("anti-PD-1", "text:pembrolizumab"),
    ("drug:HCQ", "drug:hydroxychloroquin"),
    ("washout", 'text:"wash out"'),
    ("wash-out", "text:washout"),
    ("HbA1c", 'text:"glycosylat hemoglobin"'),
    ("heart failure", "text:chf"),  # unquoted words that name a concept together
    ("hepatitis", "text:hbv"),
])
def test_query_compile_expands_concepts(query, variant):
    assert variant in render(compile_query(query))


@pytest.mark.parametrize("query,expected", [
    # a concept's loose word is found outside its guard phrases, never expanded from
    ("breastfeeding", '(text:nursing AND NOT (text:"nursing home" OR text:"nursing facility" OR text:"nursing care"'),
    ("lactating", "OR (text:nursing AND NOT (text:\"nursing home\""),
    ("nursing", "(NOT kind:trial AND text:nursing)"),
    ("nursing home", "(NOT kind:trial AND (text:nursing AND text:home))"),
])
def test_query_compile_guards_loose_concept_words(query, expected):
    assert expected in render(compile_query(query))


def test_query_compile_guards_from_an_index_concept_store(tmp_path):
    from toolkit.index.concepts import ConceptStore, default_concepts

    default_concepts().save(tmp_path / "concepts.sqlite")
    store = ConceptStore(tmp_path / "concepts.sqlite")
    try:
        assert render(compile_query("breastfeeding", concepts=store)) == render(compile_query("breastfeeding"))
    finally:
        store.close()


def test_query_compile_drug_option_expands_like_the_field():
    assert "drug:hydroxychloroquin" in render(compile_query("", Filters(drug="HCQ")))


@pytest.mark.parametrize("query,not_there", [
    ("hepatitis", "text:hepatic"), ("gastric", "text:gastriti"), ("lactating", "text:lactat "),
    ("steroids", "nonsteroid"), ("HBV", "text:hepatitis)"), ("pembrolizumab", "text:\"pd 1\""),
])
def test_query_compile_does_not_join_distinct_words(query, not_there):
    assert not_there not in render(compile_query(query)) + " "


@pytest.mark.parametrize("query,expected", [
    ("pregnant", "text:pregnant"), ('"wash-out"', 'text:"wash out"'), ("drug:HCQ", "drug:hcq"),
])
def test_query_compile_exact_turns_expansion_off(query, expected):
    assert render(compile_query(query, exact=True)) == f"(NOT kind:trial AND {expected})"


@pytest.mark.parametrize("query", ['"CAR T"*', '"CAR T"~', "status:-", "*", "~"])
def test_query_compile_rejects_terms_with_nothing_to_search(query):
    with pytest.raises(QueryError):
        compile_query(query)


@pytest.mark.parametrize("query,expected", [("∅", "text:∅"), ("drug:≥", "drug:≥"), ("diameter ∅", "(text:diameter AND text:∅)")])
def test_query_compile_a_lone_symbol_is_text(query, expected):
    assert render(compile_query(query, exact=True)) == f"(NOT kind:trial AND {expected})"


@pytest.mark.parametrize("text,days", [
    ("4w", 28), ("28d", 28), ("28", 28), ("6 months", 180), ("1y", 365), ("2 weeks", 14),
    ("0.5m", 15), ("1m", 30),
])
def test_query_parse_duration(text, days):
    assert parse_duration(text) == pytest.approx(days)


@pytest.mark.parametrize("text", ["four weeks", "4 fortnights", "", "-3d", "5 minutes"])
def test_query_parse_duration_rejects(text):
    with pytest.raises(QueryError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text,years", [("10y", 10), ("18", 18), ("6m", 0.5), ("70 years", 70)])
def test_query_age_in_years(text, years):
    assert age_in_years(text) == pytest.approx(years)


def test_query_filters_become_ranges_and_keywords():
    node = compile_query("rituximab", Filters(polarity="exclusion", status=("recruiting", "Not yet recruiting"),
                                             phase=("2",), age_years=10, window_max_days=28), exact=True)
    assert render(node) == (
        "(NOT kind:trial AND text:rituximab AND polarity:exclusion AND "
        "(status:recruiting OR status:not_yet_recruiting) AND phase:phase2 AND "
        "min_age:[* TO 10] AND max_age:[10 TO *] AND window:[* TO 28])")


@pytest.mark.parametrize("field,value,expected", [
    ("phase", "PHASE1", "phase1"), ("phase", "Phase 2", "phase2"), ("phase", "EARLY_PHASE1", "early_phase1"),
    ("phase", "NA", "na"), ("phase", "PHASE_02", "phase2"), ("phase", "Phase II", "phase2"), ("phase", "2", "phase2"),
    ("phase", "phase iv", "phase4"),
    ("status", "Recruitment open", "recruiting"), ("status", "Pending", "not_yet_recruiting"),
    ("status", "prematurely ended", "terminated"), ("status", "ACTIVE_NOT_RECRUITING", "active_not_recruiting"),
    ("status", "Active, not recruiting", "active_not_recruiting"), ("polarity", "Inclusion", "inclusion"),
    ("healthy", "true", "yes"), ("sex", "ALL", "all"), ("status", "  ", None),
])
def test_query_normalize_keyword(field, value, expected):
    assert normalize_keyword(field, value) == expected


@pytest.mark.parametrize("text,stems", [
    ("Prior CAR-T cells within 4 weeks", ["prior", "car", "t", "cell", "within", "4", "week"]),
    ("HbA1c ≥ 7.5%", ["hba1c", "≥", "7.5"]),
    ("Graft-versus-Host-Disease (GvHD)", ["graft", "versus", "host", "diseas", "gvhd"]),
    ("ÉCOG performance status", ["écog", "performanc", "status"]),
    # British spellings and inflections join; derivations stay apart
    ("Tumours, anaemia, oedema, randomised", ["tumor", "anemia", "edema", "randomiz"]),
    ("allergies metastases women receiving", ["allergy", "metastasis", "woman", "receiv"]),
    ("hepatitis hepatic gastritis gastric lactating lactate", ["hepatitis", "hepatic", "gastritis", "gastric",
                                                                "lactating", "lactat"]),
    ("年龄18-65岁的高血压患者", ["年", "龄", "18", "65", "岁", "的", "高", "血", "压", "患", "者"]),
])
def test_index_analysis_stems_and_folds(text, stems):
    assert analyze(text) == stems


DERIVATIONS = [  # (query word, forms it also finds); [] = kept apart
    ("psoriasis", ["psoriatic"]), ("septic", ["sepsis"]), ("anemia", ["anemic"]), ("ischemic", ["ischemia"]),
    ("endoscopy", ["endoscopic", "endoscopical", "endoscopically"]), ("metastasis", ["metastatic"]),
    ("diagnosis", []), ("prognostic", []), ("hypoglycemia", []), ("hepatitis", []), ("pregnancy", []), ("day", []),
]


@pytest.mark.parametrize("word, forms", DERIVATIONS, ids=[w for w, _ in DERIVATIONS])
def test_derived_forms_of_medical_nouns_and_adjectives(word, forms):
    from toolkit.index.derivations import derived_forms

    assert list(derived_forms(word)) == forms


def test_plain_word_finds_its_derived_form_and_exact_does_not():
    expanded = render(compile_query("psoriasis"))
    assert "text:psoriatic" in expanded
    assert "psoriatic" not in render(compile_query("psoriasis", exact=True))
