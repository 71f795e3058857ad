"""Golden diffs of real version pairs, read and checked by hand.

Each case names a history file, a trial and two versions; the expected
diff is `tests/fixtures/diff/<case>.json` (a projection of the diff that
leaves out criterion ids and word runs, which belong to the criteria
parser). After a reviewed change, rewrite them with
`PTK_UPDATE_GOLDEN=1 pytest tests/test_diff_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import CORPUS, data_path
from toolkit.diff import diff_records

FIXTURES = Path(__file__).parent / "fixtures" / "diff"

CASES = {
    # v4 -> v5: target raised 85 -> 100, completion slipped, E "in the last 6 weeks" -> 4 weeks,
    # new "OR patients with exacerbation ..." clause in an inclusion criterion
    "NCT02007772_v4_v5": (CORPUS / "history" / "NCT02007772_cthist.csv", "NCT02007772", 4, 5),
    # v5 -> v6: completed, actual enrollment 105, central contacts removed
    "NCT02007772_v5_v6": (CORPUS / "history" / "NCT02007772_cthist.csv", "NCT02007772", 5, 6),
    # v8 -> v9: completed, max age 54 -> 70, a second study arm's inclusion criterion, outcomes rewritten
    "DRKS00000058_v8_v9": (CORPUS / "history" / "DRKS00000058_cthist.csv", "DRKS00000058", 8, 9),
    # v4 -> v5: terminated, enrollment cut 70 -> 46 (actual)
    "NCT01352702_v4_v5": (("versions-cthist", "ctgov_versions_2022-03.csv.gz"), "NCT01352702", 4, 5),
    # v3 -> v4: exclusion "creatinine clearance < 45mL/min" -> "< 30mL/min": fewer excluded (loosened)
    "NCT01899456_v3_v4": (("versions-cthist", "ctgov_versions_2022-03.csv.gz"), "NCT01899456", 3, 4),
    # v1 -> v2: recruiting -> completed with results: the outcome list gives way to
    # "[See Results Section.]", which is no outcome removed (only the note shows)
    "NCT01171820_v1_v2": (("versions-cthist", "ctgov_versions_2022-03.csv.gz"), "NCT01171820", 1, 2),
    # ctrdata CTGOV (legacy XML as JSON): results posted; outcomes reworded (subjects -> participants), two countries added
    "NCT03325439_v2_v3": (("multiregistry", "ctrdata_versions.jsonl.gz"), "NCT03325439", 2, 3),
}


def _path(where) -> str:
    return str(where if isinstance(where, Path) else data_path(*where))


def project(diff) -> dict:
    """The parts of a diff a golden file pins down."""
    data = diff.to_dict()
    criteria = [{k: c.get(k) for k in ("status", "moved", "old_text", "new_text", "old_polarity", "new_polarity")
                 if c.get(k)} | {"tags": [(t["label"], t["change"]) for t in c.get("tags", [])]}
                for c in data.get("criteria", [])]
    outcomes = [{k: v for k, v in o.items() if k not in ("words", "similarity")} for o in data.get("outcomes", [])]
    return {
        "events": [{k: e.get(k) for k in ("kind", "field", "before", "after")} for e in data["events"]],
        "fields": data.get("fields", []), "criteria": criteria, "outcomes": outcomes,
        "parts": data["parts"], "texts": [t["field"] for t in data.get("texts", [])],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_diff_golden_real_pairs(case, history_versions):
    where, trial_id, old, new = CASES[case]
    versions = history_versions(_path(where))[trial_id]
    got = json.loads(json.dumps(project(diff_records(versions[old - 1], versions[new - 1])), ensure_ascii=False))
    golden = FIXTURES / f"{case}.json"
    if os.environ.get("PTK_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_diff_golden_json_follows_the_schema(case, history_versions):
    jsonschema = pytest.importorskip("jsonschema")
    from toolkit.schema import load_schema

    where, trial_id, old, new = CASES[case]
    versions = history_versions(_path(where))[trial_id]
    diff = diff_records(versions[old - 1], versions[new - 1])
    for include_unchanged in (False, True):
        jsonschema.validate(json.loads(json.dumps(diff.to_dict(include_unchanged=include_unchanged))),
                            load_schema("diff"))


def test_diff_golden_cases_have_files():
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(CASES)

