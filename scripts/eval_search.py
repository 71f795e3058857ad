"""Concept-query evaluation: recall and precision of plain concept queries.

A concept query is typed as a person types it: one word or phrase, no field
(`pregnant`, `anti-PD-1`, `HbA1c`). Its relevant criteria are those whose text
names the concept in one of the spellings of the case table
(`tests/fixtures/search/concepts.json`); a hit is right when its criterion is
relevant. The table was built from the development part of ../shared/data
(the ctgov-v2 downloads of dgg32, UserZetsu and scampbe3, the ICTRP export);
by default this script measures it on records the table was not built from:
the legacy ClinicalTrials.gov XML download and the urology bulk zip.

It also counts the analyzer's errors on the table's `joins` (words that must
give one term) and `distinct` (words that must not) for each stemmer the
analyzer offers, which is how the analyzer's stemmer was chosen.

Usage:
    python scripts/eval_search.py [--source PATH ...] [--engine whoosh]
        [--max-trials N] [--min-relevant 3] [--json OUT] [--show-misses 3] [--table CONCEPTS.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Set, Tuple

from toolkit.formats import RawRecord, iter_records, parse_record
from toolkit.index import SearchIndex, search

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "tests" / "fixtures" / "search" / "concepts.json"
DATA = REPO.parent / "shared" / "data"
HELD_OUT = ("ctgov-xml/ctgov_xml_2023-02.tar.gz", "ctgov-v2/Marc-Morcos_urology__ctg-studies.json.zip")

Key = Tuple[str, str, str]


def spelling_pattern(spellings: List[str]) -> "re.Pattern":
    """One regex matching any spelling as a whole word, case-insensitive."""
    alternatives = "|".join(f"(?:{s})" for s in spellings)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def load_records(paths: List[Path], max_trials: int) -> list:
    """Parsed records (the last version of a trial wins), at most `max_trials`."""
    records: Dict[Tuple[str, str], object] = {}
    for raw in iter_records([str(p) for p in paths]):
        if not isinstance(raw, RawRecord):
            continue
        try:
            record = parse_record(raw)
        except Exception:  # a record the mapper rejects is not part of the evaluation
            continue
        records[(record.registry, record.trial_id)] = record
        if len(records) >= max_trials:
            break
    return list(records.values())


def criteria_texts(records) -> Dict[Key, str]:
    """{(registry, trial id, criterion id): text} of every criterion, children included."""
    out: Dict[Key, str] = {}

    def walk(criteria, record):
        for criterion in criteria:
            out[(record.registry, record.trial_id, criterion.id)] = criterion.text
            walk(criterion.children, record)

    for record in records:
        if record.eligibility:
            walk(record.eligibility.criteria, record)
    return out


def evaluate(concepts: List[dict], texts: Dict[Key, str], index_dir: Path, engine: str,
             min_relevant: int, show_misses: int) -> List[dict]:
    """Per concept: relevant, returned, recall, precision (and a few misses and wrong hits)."""
    rows = []
    for case in concepts:
        pattern = spelling_pattern(case["match"])
        relevant: Set[Key] = {key for key, text in texts.items() if pattern.search(text)}
        hits = search(case["query"], index_dir=index_dir, engine=engine, limit=None)
        returned = {(h.registry, h.trial_id, h.criterion_id) for h in hits}
        right = relevant & returned
        row = {"query": case["query"], "relevant": len(relevant), "returned": len(returned),
               "recall": len(right) / len(relevant) if relevant else None,
               "precision": len(right) / len(returned) if returned else (1.0 if not relevant else 0.0),
               "scored": len(relevant) >= min_relevant}
        if show_misses:
            row["misses"] = [texts[k][:160] for k in sorted(relevant - returned)[:show_misses]]
            row["wrong"] = [texts[k][:160] for k in sorted(returned - relevant)[:show_misses]]
        rows.append(row)
    return rows


def analyzer_errors(table: dict) -> Dict[str, dict]:
    """For each stemmer the analyzer offers (after the same spelling fold): join and distinct pairs it gets wrong."""
    try:
        from toolkit.index.stemmers import STEMMERS, american
    except ImportError:  # before the analyzer had a choice
        from whoosh.lang.porter import stem as porter
        STEMMERS, american = {"porter": porter}, str
    out = {}
    for name, stemmer in STEMMERS.items():
        def stem(word, stemmer=stemmer):
            return stemmer(american(word.lower()))
        not_joined = [pair for pair in table.get("joins", ()) if stem(pair[0]) != stem(pair[1])]
        joined = [pair for pair in table.get("distinct", ()) if stem(pair[0]) == stem(pair[1])]
        out[name] = {"joins_missed": not_joined, "distinct_joined": joined,
                     "errors": len(not_joined) + len(joined)}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", nargs="*", type=Path, default=[DATA / p for p in HELD_OUT])
    parser.add_argument("--engine", default="whoosh")
    parser.add_argument("--max-trials", type=int, default=20000)
    parser.add_argument("--min-relevant", type=int, default=3)
    parser.add_argument("--show-misses", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--table", type=Path, default=TABLE, help="a concept table in the case table's form")
    args = parser.parse_args(argv)

    table = json.loads(args.table.read_text("utf-8"))
    started = time.perf_counter()
    records = load_records(args.source, args.max_trials)
    texts = criteria_texts(records)
    print(f"{len(records):,} trials, {len(texts):,} criteria parsed in {time.perf_counter() - started:.0f}s",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="ptk-eval-") as tmp:
        index = SearchIndex(Path(tmp), engine=args.engine)
        index.rebuild(records)
        index.close()
        rows = evaluate(table["concepts"], texts, Path(tmp), args.engine, args.min_relevant, args.show_misses)
    scored = [r for r in rows if r["scored"]]
    summary = {"trials": len(records), "criteria": len(texts), "concepts": len(scored),
               "mean_recall": statistics.mean(r["recall"] for r in scored),
               "mean_precision": statistics.mean(r["precision"] for r in scored),
               "analyzer": analyzer_errors(table)}
    _print(rows, summary, args.show_misses)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "concepts": rows}, indent=1) + "\n", "utf-8")
    return 0


def _print(rows: List[dict], summary: dict, show_misses: int) -> None:
    print("| query | relevant | returned | recall | precision |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        recall = "n/a" if r["recall"] is None else f"{r['recall']:.2f}"
        mark = "" if r["scored"] else " (not scored: too few relevant)"
        print(f"| `{r['query']}`{mark} | {r['relevant']} | {r['returned']} | {recall} | {r['precision']:.2f} |")
        for text in r.get("misses", []):
            print(f"|   missed: {text} | | | | |")
        for text in r.get("wrong", []):
            print(f"|   wrong: {text} | | | | |")
    print(f"\n{summary['concepts']} concepts scored over {summary['criteria']:,} criteria of "
          f"{summary['trials']:,} trials: mean recall {summary['mean_recall']:.3f}, "
          f"mean precision {summary['mean_precision']:.3f}")
    for name, errors in summary["analyzer"].items():
        print(f"stemmer {name}: {errors['errors']} errors; joins missed {errors['joins_missed']}; "
              f"distinct words joined {errors['distinct_joined']}")


if __name__ == "__main__":
    sys.exit(main())
