"""Hostile queries and damaged indexes: a usage error or an answer, never a traceback or a wrong blame.

Cases 7, 8, 9, 13 and 15 of the robustness issue: deep, long and wide queries
are refused as usage errors (exit 2) naming the bound, never as a broken
index; short and leading wildcards are refused with a message; a lone symbol
is text; staging folders of killed rebuilds are cleaned; an index missing a
part says to rebuild instead of answering with fewer hits.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from toolkit.errors import QueryError, SearchIndexError
from toolkit.cli import main
from toolkit.index import Filters, SearchIndex, compile_query, parse_query, render, search
from toolkit.index.query import MAX_DEPTH, MAX_TERMS
from toolkit.index.term_lists import MAX_PREFIX_TERMS, TermLists, resolve_terms
from toolkit.index.query import Prefix


@pytest.fixture(scope="module")
def root(tmp_path_factory, sample_records):
    """A whoosh index of the shipped sample (untagged) under its own root."""
    path = tmp_path_factory.mktemp("hostile")
    index = SearchIndex(path, engine="whoosh")
    index.rebuild(sample_records)
    index.close()
    return path


def ptk(root, *args):
    env = {"PTK_INDEX": str(root), "PTK_STORE": str(root / "no-store"), "PTK_ENGINE": "whoosh"}
    return CliRunner().invoke(main, list(args), env=env)


HOSTILE = [
    ("(" * 250 + "x" + ")" * 250, f"nests more than {MAX_DEPTH} levels"),
    ("NOT " * 1000 + "x", f"nests more than {MAX_DEPTH} levels"),
    (" ".join(f"w{i}" for i in range(1000)), f"more than {MAX_TERMS} terms"),
    (" ".join(f"pre{i}*" for i in range(2000)), f"more than {MAX_TERMS} terms"),
    (" OR ".join(f"w{i}" for i in range(10000)), "characters long"),
    ("a*", "too short a prefix"),
    ("*a*", "cannot start with '*'"),
]


@pytest.mark.parametrize("query,reason", HOSTILE, ids=["parens", "nots", "words", "prefixes", "ors", "a*", "*a*"])
@pytest.mark.parametrize("show", [False, True])
def test_search_hostile_query_is_a_usage_error(root, query, reason, show):
    result = ptk(root, "search", *(["--show-query"] if show else []), query)
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert "index" not in result.output and "Traceback" not in result.output


def test_search_hostile_prefix_with_too_many_words_says_so(tmp_path):
    lists = TermLists(tmp_path)
    lists.write({"text": {f"abc{i:04d}" for i in range(MAX_PREFIX_TERMS + 1)} | {"abd"}})
    with pytest.raises(QueryError, match=f"matches more than {MAX_PREFIX_TERMS} indexed words"):
        resolve_terms(Prefix("text", "abc"), lists)
    assert render(resolve_terms(Prefix("text", "abd"), lists)) == "text:abd"


def test_search_hostile_prefix_is_resolved_to_indexed_words(root):
    hits = search("zidovud*", index_dir=root, engine="whoosh", limit=None)
    assert hits and all("zidovud" in h.text.lower() for h in hits)


@pytest.mark.parametrize("query", ["∅", "diameter ∅", "≥"])
def test_search_hostile_lone_symbol_is_text(root, query):
    result = ptk(root, "search", query, "--jsonl")
    assert result.exit_code == 0, result.output
    assert render(compile_query(query, exact=True)).count("∅") + render(compile_query(query, exact=True)).count("≥")


def test_search_empty_query_is_a_usage_error(root):
    result = ptk(root, "search")
    assert result.exit_code == 2
    assert "empty query" in result.output


def test_search_a_filter_that_removes_every_hit_is_named(root):
    result = ptk(root, "search", "zidovudine", "--phase", "4")
    assert result.exit_code == 0
    assert "--phase 4 removed every hit" in result.stderr


def test_search_stale_staging_folders_are_cleaned(root, sample_records, tmp_path):
    target = tmp_path / "indexes"
    index = SearchIndex(target, engine="whoosh")
    index.rebuild(sample_records[:3])
    stale = [target / ".whoosh-k1ll3d", target / ".whoosh-old-999"]
    for path in stale:
        (path / "index").mkdir(parents=True)
        (path / "index" / "segment.seg").write_bytes(b"\0" * 1024)
    index.rebuild(sample_records[:3])
    index.close()
    assert not any(path.exists() for path in stale)
    assert sorted(p.name for p in target.iterdir()) == [".whoosh.lock", "whoosh"]


@pytest.mark.parametrize("part", ["terms", "concepts.sqlite", "vocabulary.txt"])
def test_search_index_missing_a_part_asks_for_a_rebuild(root, tmp_path, part):
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    victim = copy / "whoosh" / part
    shutil.rmtree(victim) if victim.is_dir() else victim.unlink()
    result = ptk(copy, "search", "zidovudne~")
    assert result.exit_code == 1
    assert "incomplete" in result.output and "ptk index --rebuild" in result.output
    with pytest.raises(SearchIndexError, match="incomplete"):
        search("zidovudine", index_dir=copy, engine="whoosh")


# --- property tests of the query parser -------------------------------------------

_ATOMS = st.sampled_from(["x", "pregnant", '"a b"', "drug:HCQ", "hep*", "zid~", "∅", "-", "(", ")", "AND", "OR",
                          "NOT", "status:", "*", "~", '"', "a:b", "phase:2", "é", "10%", ">=", "√"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ATOMS, max_size=40).map(" ".join) | st.text(max_size=200))
def test_search_query_parser_answers_or_refuses(text):
    """Any text parses and compiles, or is refused with a QueryError: nothing else escapes."""
    try:
        node = compile_query(text, Filters(), exact=True)
    except QueryError as exc:
        assert str(exc)
        return
    assert render(node).startswith("(NOT kind:trial")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=600), st.sampled_from(["(", "NOT ", "-", "drug:("]))
def test_search_query_parser_bounds_depth(depth, opener):
    closer = ")" if "(" in opener else ""
    text = opener * depth + "x" + closer * depth
    if depth <= MAX_DEPTH // 2:
        parse_query(text)
        return
    try:
        parse_query(text)
    except QueryError as exc:
        assert any(reason in str(exc) for reason in ("nests more than", "inside field", "characters long"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["leukemia", "pregnant", "corticosteroids", "anti-PD-1", "heart failure"]),
                min_size=1, max_size=12))
def test_search_query_expansion_is_bounded(words):
    try:
        node = compile_query(" OR ".join(words))
    except QueryError as exc:
        assert "expands to" in str(exc)
        return
    assert json.dumps(render(node))
