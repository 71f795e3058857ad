"""`ptk index` and `ptk search` on the shipped sample: the README examples and errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.cli import main

ENGINES = ("whoosh", "tantivy")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A store parsed from the shipped sample (all of `corpus/`) and both indexes built from it."""
    root = tmp_path_factory.mktemp("cli")
    env = {"PTK_STORE": str(root / "store"), "PTK_INDEX": str(root / "indexes"), "PTK_ENGINE": ""}
    runner = CliRunner()
    parsed = runner.invoke(main, ["parse", "-q", str(CORPUS)], env=env)
    assert parsed.exit_code == 0, parsed.output
    for engine in ENGINES:
        built = runner.invoke(main, ["index", "--engine", engine], env=env)
        assert built.exit_code == 0, built.output
        assert f"{engine} index" in built.stderr and "built" in built.stderr
    return env


def ptk(env, *args, engine=None):
    extra = ["--engine", engine] if engine else []
    return CliRunner().invoke(main, ["search", *args, *extra], env=env)


def hits_of(result):
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# The README's examples: (arguments, a (trial, criterion) the answer must hold).
README_EXAMPLES = [
    (["--status", "recruiting", "--phase", "2", "--polarity", "exclusion", 'drug:"CAR T"'], ("NCT05086315", "E9")),
    (["--polarity", "exclusion", "--window-max", "4w", 'drug:"CAR T"'], ("NCT06054113", "E13")),
    (["condition:GvHD"], ("NCT06054113", "E11")),
    (['"graft-versus-host disease" AND polarity:exclusion'], ("NCT06054113", "E11")),
    (["pregnan* OR lactating", "--polarity", "exclusion", "--age", "10y"], None),
    (["zidovudne~"], ("NCT00000667", "E16")),
    (["AZT trial:NCT00000685"], ("NCT00000685", "E3")),
    (["chemotherapy NOT intrathecal", "--status", "completed", "--window-max", "8w"], None),
    (['category:"prior medication" interferon'], None),
    (["country:china COVID-19", "--polarity", "inclusion"], None),
    (['sponsor:"national cancer institute" (hepatitis OR HIV)'], None),
    (["type:observational consent"], None),
    (["(leukemia OR lymphoma) AND (relapsed OR refractory)", "--phase", "1"], None),
    (["ECOG", "--window-min", "1w"], None),
    (["breastfeeding", "--polarity", "exclusion"], None),
    (["corticosteroids"], None),
    (["drug:HCQ"], None),
    (["breastfeeding", "--exact"], None),
    (["pregnant", "--polarity", "exclusion"], None),
    (["--trials", "COVID-19", "--phase", "2", "--started-after", "2020-01"], None),
    (["--value", "creatinine >= 1.5 mg/dL"], None),
    (['value:"hemoglobin <= 100 g/L"', "--polarity", "inclusion"], None),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("args,expected", README_EXAMPLES)
def test_search_cli_readme_examples_answer(env, engine, args, expected):
    hits = hits_of(ptk(env, *args, "--jsonl", "--limit", "100", engine=engine))
    assert hits, f"no answer for {args}"
    if expected:
        assert expected in {(h["trial_id"], h["criterion_id"]) for h in hits}
    for hit in hits:
        assert hit["snippet"].count("**") >= 2 or not hit["highlights"]


def test_search_cli_engines_agree_on_readme_examples(env):
    for args, _ in README_EXAMPLES:
        answers = [sorted((h["trial_id"], h.get("criterion_id", "")) for h in
                          hits_of(ptk(env, *args, "--jsonl", "--limit", "500", engine=e))) for e in ENGINES]
        assert answers[0] == answers[1], args


def test_search_cli_table_shows_criteria_with_trials(env):
    result = ptk(env, "--polarity", "exclusion", 'drug:"CAR T"')
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["trial_id", "status", "criterion_id", "polarity"]
    assert any(line.startswith("NCT06054113") and " E13 " in line for line in lines)
    assert "**chimeric antigen receptor** T cells" in result.stdout


def test_search_cli_json_and_csv(env):
    as_json = json.loads(ptk(env, "zidovudine", "--json").stdout)
    assert as_json and {"trial_id", "criterion_id", "polarity", "text", "score", "snippet"} <= set(as_json[0])
    rows = list(csv.DictReader(io.StringIO(ptk(env, "zidovudine", "--csv").stdout)))
    assert [(r["trial_id"], r["criterion_id"]) for r in rows] == [
        (h["trial_id"], h["criterion_id"]) for h in as_json]


def test_search_cli_group_by_trial(env):
    groups = json.loads(ptk(env, "zidovudine", "--group-by", "trial", "--json").stdout)
    flat = json.loads(ptk(env, "zidovudine", "--json", "--limit", "1000").stdout)
    assert len(groups) == len({h["trial_id"] for h in flat})
    assert sum(g["count"] for g in groups) == len(flat)
    assert [g["score"] for g in groups] == sorted((g["score"] for g in groups), reverse=True)


def test_search_cli_count_and_facets(env):
    counted = json.loads(ptk(env, "AZT", "--count", "--json").stdout)
    flat = json.loads(ptk(env, "AZT", "--json", "--limit", "1000").stdout)
    assert counted["count"] == len(flat)
    assert sum(counted["facets"]["polarity"].values()) == len(flat)
    assert counted["facets"]["status"] == _tally(h["status"] for h in flat)
    table = ptk(env, "AZT", "--count")
    assert table.stdout.startswith(f"{len(flat)} criteria")


def _tally(values):
    out = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def test_search_cli_limit(env):
    assert len(json.loads(ptk(env, "patients", "--json", "--limit", "3").stdout)) == 3


def test_search_cli_show_query_stops(env):
    result = ptk(env, "--show-query", "--polarity", "exclusion", "--window-max", "4w", 'drug:"CAR T"')
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("(NOT kind:trial AND (drug:\"car t\" OR ")
    assert "polarity:exclusion" in result.stdout and "window:[* TO 28]" in result.stdout


@pytest.mark.parametrize("extra", [[], ["--count"]])
def test_search_cli_no_results_suggests_close_terms(env, extra):
    result = ptk(env, "zidovudne", *extra)
    assert result.exit_code == 0
    assert "no criteria match" in result.stderr
    assert "zidovudine" in result.stderr
    assert "facet" not in result.stdout


@pytest.mark.parametrize("args,needle", [
    (["status:(recruiting"], "'(' is never closed at column 8"),
    (["colour:red"], "unknown field 'colour'"),
    (["--age", "ten", "x"], "not a duration"),
    (["--window-max", "4 fortnights", "x"], "not a duration"),
])
def test_search_cli_bad_query_is_a_usage_error(env, args, needle):
    result = ptk(env, *args)
    assert result.exit_code == 2
    assert needle in result.output


def test_search_cli_missing_index_names_the_command(env, tmp_path):
    result = ptk(env, "--index", str(tmp_path / "none"), "leukemia")
    assert result.exit_code == 1
    assert "run `ptk index`" in result.output


def test_search_cli_stale_index_warns(env, tmp_path):
    runner = CliRunner()
    fresh = dict(env, PTK_STORE=str(tmp_path / "store"), PTK_INDEX=str(tmp_path / "ix"))
    assert runner.invoke(main, ["parse", "-q", "--no-tag", str(CORPUS / "seed")], env=fresh).exit_code == 0
    assert runner.invoke(main, ["index", "-q"], env=fresh).exit_code == 0
    assert "behind the store" not in ptk(fresh, "leukemia").stderr
    parsed = runner.invoke(main, ["parse", "-q", "--no-tag", str(CORPUS / "ctgov-xml" / "NCT00000155.xml")],
                           env=fresh)
    assert parsed.exit_code == 0
    # parse kept the index current: nothing stale
    assert "behind the store" not in ptk(fresh, "leukemia").stderr
    assert "NCT00000155" in {h["trial_id"] for h in hits_of(ptk(fresh, "trial:NCT00000155", "--jsonl"))}


def test_search_cli_index_behind_a_store_changed_elsewhere_warns(env, tmp_path):
    import dataclasses

    from toolkit.store import Store

    runner = CliRunner()
    fresh = dict(env, PTK_STORE=str(tmp_path / "store"), PTK_INDEX=str(tmp_path / "ix"))
    assert runner.invoke(main, ["parse", "-q", "--no-tag", str(CORPUS / "seed")], env=fresh).exit_code == 0
    assert runner.invoke(main, ["index", "-q"], env=fresh).exit_code == 0
    with Store(tmp_path / "store") as store:
        record = store.get("NCT06054113")
        store.put(dataclasses.replace(record, title="Changed title", content_hash=None))
    assert "behind the store" in ptk(fresh, "leukemia").stderr
    updated = runner.invoke(main, ["index"], env=fresh)
    assert updated.exit_code == 0 and "1 with a newer version" in updated.stderr
    assert "behind the store" not in ptk(fresh, "leukemia").stderr


def test_search_cli_facets_after_hits(env):
    both = json.loads(ptk(env, "AZT", "--facets", "--json").stdout)
    flat = json.loads(ptk(env, "AZT", "--json", "--limit", "1000").stdout)
    assert both["hits"] == flat
    assert sum(both["facets"]["polarity"].values()) == len(flat)
    lines = ptk(env, "AZT", "--facets", "--jsonl").stdout.splitlines()
    assert json.loads(lines[-1])["facets"] == both["facets"]
    rows = list(csv.DictReader(io.StringIO(ptk(env, "AZT", "--count", "--csv").stdout)))
    assert rows[0] == {"facet": "total", "value": "", "criteria": str(len(flat))}
    assert ptk(env, "AZT", "--facets", "--csv").exit_code == 2


def test_search_cli_index_rebuild_and_update(env, tmp_path):
    runner = CliRunner()
    fresh = dict(env, PTK_STORE=str(tmp_path / "store"), PTK_INDEX=str(tmp_path / "ix"))
    assert runner.invoke(main, ["parse", "-q", "--no-tag", str(CORPUS / "seed")], env=fresh).exit_code == 0
    first = runner.invoke(main, ["index", "--engine", "tantivy"], env=fresh)
    assert first.exit_code == 0 and "built: 1 trials" in first.stderr
    again = runner.invoke(main, ["index", "--engine", "tantivy"], env=fresh)
    assert again.exit_code == 0 and "up to date" in again.stderr
    rebuilt = runner.invoke(main, ["index", "--rebuild", "--engine", "tantivy"], env=fresh)
    assert rebuilt.exit_code == 0 and "built: 1 trials" in rebuilt.stderr
    hits = hits_of(ptk(fresh, "GvHD", "--jsonl"))  # untagged: the text, via synonyms; tantivy is the index there
    assert [(h["trial_id"], h["criterion_id"]) for h in hits] == [("NCT06054113", "E11")]


def test_search_cli_index_without_store_says_how_to_make_one(env, tmp_path):
    fresh = dict(env, PTK_STORE=str(tmp_path / "nostore"), PTK_INDEX=str(tmp_path / "ix"))
    result = CliRunner().invoke(main, ["index"], env=fresh)
    assert result.exit_code == 1
    assert "ptk parse" in result.output


def _readme_search_lines():
    from conftest import REPO

    readme = (REPO / "README.md").read_text("utf-8")
    section = readme.split("## Search eligibility criteria", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("ptk search ")]


_OUTPUT_ONLY = {"--count": 0, "--show-query": 0, "--json": 0, "--jsonl": 0, "--csv": 0, "--facets": 0,
                "--limit": 1, "--group-by": 1}


def _meaning(args):
    """The arguments that choose the hits (output options left out), in a comparable form."""
    out, skip = [], 0
    for arg in args:
        if skip:
            skip -= 1
        elif arg in _OUTPUT_ONLY:
            skip = _OUTPUT_ONLY[arg]
        else:
            out.append(arg)
    return sorted(out)


@pytest.mark.parametrize("line", _readme_search_lines())
def test_search_cli_every_readme_example_is_a_test(line):
    import shlex

    assert _meaning(shlex.split(line)[2:]) in [_meaning(args) for args, _ in README_EXAMPLES], line


def test_search_cli_group_by_trial_count_counts_trials(env):
    counted = json.loads(ptk(env, "pregnant", "--group-by", "trial", "--count", "--json").stdout)
    hits = json.loads(ptk(env, "pregnant", "--json", "--limit", "1000").stdout)
    assert counted["unit"] == "trials"
    assert counted["count"] == len({h["trial_id"] for h in hits}) < len(hits)


def test_search_cli_trials_search_whole_trials(env):
    trials = hits_of(ptk(env, "--trials", "COVID-19", "--jsonl", "--limit", "100"))
    assert trials and all("criterion_id" not in t for t in trials)
    counted = json.loads(ptk(env, "--trials", "COVID-19", "--count", "--json").stdout)
    assert counted["count"] == len(trials) and counted["unit"] == "trials"
    phase2 = hits_of(ptk(env, "--trials", "COVID-19", "--phase", "2", "--jsonl", "--limit", "100"))
    assert phase2 and {t["trial_id"] for t in phase2} < {t["trial_id"] for t in trials}
    assert all("PHASE2" in t["phases"] for t in phase2)


def test_search_cli_window_is_bound_to_its_drug(env):
    """`--window-max 4w 'drug:"CAR T"'` keeps criteria whose CAR T window is at most 28 days."""

    from toolkit.index import Filters, search
    from toolkit.index.windows import parse_windows

    hits = hits_of(ptk(env, "--window-max", "4w", 'drug:"CAR T"', "--jsonl", "--limit", "100"))
    found_ids = {(h["trial_id"], h["criterion_id"]) for h in hits}
    assert ("NCT06054113", "E13") in found_ids  # "> 4 weeks prior": the CAR T window is 28 days
    # CAR-T named beside a 4-week window that bounds something else (immunosuppression), its own
    # windows (relapse beyond 2 or 3 months) longer: not a CAR T window of at most 4 weeks
    assert ("NCT05086315", "E7") not in found_ids
    shorter = hits_of(ptk(env, "--window-max", "3w", 'drug:"CAR T"', "--jsonl", "--limit", "100"))
    assert ("NCT06054113", "E13") not in {(h["trial_id"], h["criterion_id"]) for h in shorter}
    for engine in ENGINES:
        found = search('drug:"CAR T"', filters=Filters(window_max_days=28), index_dir=env["PTK_INDEX"],
                       engine=engine, limit=None)
        assert len(found) == len(hits)
        for hit in found:  # each kept criterion has a window of at most 28 days bound to CAR T
            assert any(days <= 28 and ("car", "t") in {words[i:i + 2] for i in range(len(words))} or
                       "cart" in words for words, days in parse_windows(hit.windows)), hit.windows


def test_search_cli_empty_query_is_a_usage_error(env):
    result = ptk(env)
    assert result.exit_code == 2 and "empty query" in result.output
    assert ptk(env, "--polarity", "exclusion", "--count").exit_code == 0  # a filter alone is a query


def test_search_cli_names_the_filter_that_removed_every_hit(env):
    result = ptk(env, "zidovudine", "--status", "recruiting", "--phase", "4")
    assert result.exit_code == 0
    assert "removed every hit" in result.stderr and "the query alone matches" in result.stderr


def test_search_cli_exact_turns_expansion_off(env):
    shown = ptk(env, "--show-query", "--exact", "corticosteroids").stdout
    assert shown.strip() == "(NOT kind:trial AND text:corticosteroid)"
    assert "dexamethason" in ptk(env, "--show-query", "corticosteroids").stdout
