"""Value queries over real thresholds, units converted (`toolkit.index.values`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.errors import QueryError
from toolkit.index import Filters, SearchIndex, search
from toolkit.index.values import canonical, parse_value_query
from toolkit.records import Criterion, Eligibility, TrialRecord

CASES = json.loads((Path(__file__).parent / "fixtures" / "search" / "value_cases.json").read_text("utf-8"))["cases"]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    from toolkit.nlp import tag_record

    records = []
    for n, case in enumerate(CASES):
        trial, cid = case["id"].split()
        criterion = Criterion(id=cid, polarity="inclusion", text=case["text"], start=0, end=len(case["text"]))
        record = TrialRecord(registry="ctgov", trial_id=f"{trial}-{n}", eligibility=Eligibility(criteria=(criterion,)))
        records.append(tag_record(record))
    root = tmp_path_factory.mktemp("values")
    index = SearchIndex(root, engine="whoosh")
    index.rebuild(records)
    index.close()
    return root


def _trials(index_dir, query=None, filters=Filters()):
    return {h.trial_id.rsplit("-", 1)[0] for h in search(query, filters=filters, index_dir=index_dir, limit=None)}


@pytest.mark.parametrize("case,query", [(c, q) for c in CASES for q in c["match"]],
                         ids=[f"{c['id']}:{q}" for c in CASES for q in c["match"]])
def test_search_value_query_finds_the_threshold(index_dir, case, query):
    trial = case["id"].split()[0]
    assert trial in _trials(index_dir, f'value:"{query}"')
    assert trial in _trials(index_dir, filters=Filters(values=(query,)))


@pytest.mark.parametrize("case,query", [(c, q) for c in CASES for q in c["miss"]],
                         ids=[f"{c['id']}:{q}" for c in CASES for q in c["miss"]])
def test_search_value_query_leaves_other_thresholds_out(index_dir, case, query):
    assert case["id"].split()[0] not in _trials(index_dir, f'value:"{query}"')


@pytest.mark.parametrize("key,number,unit,expected", [
    ("creatinine", 88.4, "µmol/L", 1.0), ("creatinine", 1.2, "mg/dL", 1.2), ("hemoglobin", 90, "g/L", 9.0),
    ("hba1c", 53, "mmol/mol", 7.0), ("hba1c", 7.5, "%", 7.5), ("platelets", 100000, "/µL", 100.0),
    ("platelets", 100, "x10^9/L", 100.0), ("platelets", 150000, None, 150.0), ("bilirubin", 34.2, "umol/L", 2.0),
])
def test_search_value_units_convert(key, number, unit, expected):
    assert canonical(key, number, unit) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("text", ["hba1c", "cholesterol < 5", "creatinine < 2 furlongs", "<= 8"])
def test_search_value_query_errors_say_why(text):
    with pytest.raises(QueryError):
        parse_value_query(text)
