"""Score the tagger on Chia documents it was never trained or tuned on.

The held-out part is the fixed split of `chia.is_held_out` (scripts/chia.py) (one
trial in five, by a hash of the NCT id); `--split dev` scores the dev part of
the training trials that `scripts/train_tagger.py` keeps out of training (for
choosing how model and rules combine, `--keep-rules`, `--rule-spans`). Each non-blank line of a document is
tagged as one criterion; the lines of a trial's inclusion and exclusion
documents are tagged as one batch, as `tag_record` tags one record, so
abbreviations defined in one criterion expand in the others. Chia types map to
labels: Drug -> drug, Condition -> condition, Measurement -> measurement,
Procedure -> procedure, Temporal -> time_window or temporal, Value -> value.

Strict: exact span (first to last character of a discontinuous span) and
label. Relaxed: any overlap with the same label; precision counts predicted
tags that overlap a gold span, recall counts gold spans that some predicted tag
overlaps.

Chia: Kury et al. 2020, Sci Data 7:281, doi:10.1038/s41597-020-00620-0, CC BY 4.0.

Anchors: Tian et al. 2021, fine-tuned RoBERTa on Chia (temporal: BERT-base),
relaxed / strict F1, as quoted in issue 10; goals are that issue's.

Usage: python scripts/eval_chia.py [--data ../shared/data/chia-train] [--split heldout|dev|train] [--errors N]
           [--no-model] [--keep-rules drug,condition,value,time_window,temporal] [--rule-spans time_window]
           [--all-vocabulary] [--model toolkit/nlp/model]
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling training script

from train_tagger import DEV_SHARE, is_dev  # noqa: E402

from toolkit.nlp import tag_texts  # noqa: E402
from chia import iter_documents  # noqa: E402
from toolkit.nlp.lines import line_spans  # noqa: E402

GOLD = {"Drug": "drug", "Condition": "condition", "Measurement": "measurement", "Procedure": "procedure",
        "Temporal": "temporal", "Value": "value"}  # Chia type -> scored label
PREDICTED = {"drug": "drug", "condition": "condition", "measurement": "measurement", "procedure": "procedure",
             "time_window": "temporal", "temporal": "temporal", "value": "value"}
SCORED = ("drug", "condition", "measurement", "procedure", "temporal", "value")
# Tian et al. 2021 on Chia, fine-tuned RoBERTa (temporal: BERT-base): (relaxed F1, strict F1)
ANCHORS = {"drug": (0.882, 0.741), "condition": (0.884, 0.745), "measurement": (0.792, 0.647),
           "procedure": (0.723, 0.592), "temporal": (0.725, 0.563), "value": (0.833, 0.688)}
TARGETS = {"drug": 0.89, "condition": 0.89, "measurement": 0.80, "procedure": 0.73, "temporal": 0.76, "value": 0.84}


def predict(doc, companions=()) -> list:
    """(label, start, end) of the tagger's tags on a document, in document offsets.

    Args:
        doc: the document scored.
        companions: the other documents of the same trial (its inclusion or
            exclusion part), tagged in the same batch as `tag_record` tags a
            whole record, so an abbreviation defined there expands here.
    """
    spans = list(line_spans(doc.text))
    extra = [d.text[s:e] for d in companions for s, e in line_spans(d.text)]
    results = tag_texts([doc.text[s:e] for s, e in spans] + extra)
    out = []
    for (offset, _), tags in zip(spans, results):
        out.extend((PREDICTED[t.label], t.start + offset, t.end + offset) for t in tags if t.label in PREDICTED)
    return out


def gold(doc) -> list:
    """(label, start, end) of the mapped Chia entities."""
    return [(GOLD[e.type], e.start, e.end) for e in doc.entities if e.type in GOLD]


class Score:
    """Counts for strict and relaxed precision/recall per label."""

    def __init__(self):
        self.counts = collections.defaultdict(collections.Counter)
        self.misses = collections.defaultdict(collections.Counter)
        self.false = collections.defaultdict(collections.Counter)

    def add(self, doc, predicted: list, expected: list) -> None:
        """Count one document."""
        exact = set(expected)
        for label, start, end in predicted:
            c = self.counts[label]
            c["pred"] += 1
            c["strict_tp_pred"] += (label, start, end) in exact
            hit = any(g[0] == label and g[1] < end and start < g[2] for g in expected)
            c["relaxed_tp_pred"] += hit
            if not hit:
                self.false[label][doc.text[start:end].lower()] += 1
        pred_exact = set(predicted)
        for label, start, end in expected:
            c = self.counts[label]
            c["gold"] += 1
            c["strict_tp_gold"] += (label, start, end) in pred_exact
            hit = any(p[0] == label and p[1] < end and start < p[2] for p in predicted)
            c["relaxed_tp_gold"] += hit
            if not hit:
                self.misses[label][doc.text[start:end].lower()] += 1

    def prf(self, label: str, kind: str):
        """Precision, recall, F1 of one label, strict or relaxed."""
        c = self.counts[label]
        p = c[f"{kind}_tp_pred"] / c["pred"] if c["pred"] else 0.0
        r = c[f"{kind}_tp_gold"] / c["gold"] if c["gold"] else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def print_table(score: Score) -> None:
    """The per-label table beside the published anchors."""
    print(f"{'label':<10}{'gold':>6}{'pred':>6} | {'strict P':>8}{'R':>6}{'F1':>6} | {'relaxed P':>9}{'R':>6}{'F1':>6}"
          f" | {'Tian rel':>8}{'strict':>7} | goal")
    for label in SCORED:
        c = score.counts[label]
        sp, sr, sf = score.prf(label, "strict")
        rp, rr, rf = score.prf(label, "relaxed")
        anchor = ANCHORS[label]
        print(f"{label:<10}{c['gold']:>6}{c['pred']:>6} | {sp:>8.3f}{sr:>6.3f}{sf:>6.3f} | {rp:>9.3f}{rr:>6.3f}{rf:>6.3f}"
              f" | {anchor[0]:>8.3f}{anchor[1]:>7.3f} | {TARGETS[label]:.2f}")




def configure(args) -> None:
    """Build the process pipeline with the options given (model or not, combination policy)."""
    from toolkit.nlp import pipeline

    entity_config = {}
    if args.keep_rules is not None:
        entity_config["keep_rules"] = [x for x in args.keep_rules.split(",") if x]
    if args.rule_spans is not None:
        entity_config["rule_spans"] = [x for x in args.rule_spans.split(",") if x]
    if args.all_vocabulary:
        entity_config["coded_only"] = False
    if args.no_model or entity_config or args.model:
        if args.no_model:
            entity_config.setdefault("keep_rules", list(PREDICTED))
        model_dir = args.model or pipeline.MODEL_DIR
        pipeline._NLP = pipeline.build_nlp(model=not args.no_model, model_dir=model_dir, trial_entities=entity_config)


def main() -> None:
    """Run the evaluation and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "chia-train")
    parser.add_argument("--split", default="heldout", choices=["heldout", "dev", "train"])
    parser.add_argument("--errors", type=int, default=0, help="Print the N most frequent misses and false hits per label.")
    parser.add_argument("--model", type=Path, help="An entity model folder other than the shipped one.")
    parser.add_argument("--no-model", action="store_true", help="Vocabularies and rules only (the tagger before the model).")
    parser.add_argument("--keep-rules", help="Comma-separated rule labels kept where the model tagged nothing.")
    parser.add_argument("--rule-spans", help="Comma-separated rule labels that keep their own span.")
    parser.add_argument("--all-vocabulary", action="store_true",
                        help="Keep every vocabulary drug/condition tag the model did not overrule (else coded_only).")
    args = parser.parse_args()
    configure(args)
    score = Score()
    started = time.perf_counter()
    docs = 0
    by_trial = collections.defaultdict(list)
    split = "train" if args.split == "dev" else args.split
    for doc in iter_documents(args.data, split=split):
        if args.split == "train" and is_dev(doc.trial_id, DEV_SHARE) or args.split == "dev" and not is_dev(doc.trial_id, DEV_SHARE):
            continue
        by_trial[doc.trial_id].append(doc)
    for trial_docs in by_trial.values():
        for doc in trial_docs:
            score.add(doc, predict(doc, [d for d in trial_docs if d is not doc]), gold(doc))
            docs += 1
    print(f"Chia {args.split}: {docs} documents, {time.perf_counter() - started:.1f} s")
    print_table(score)
    for label in SCORED[: 6 if args.errors else 0]:
        print(f"\n{label} misses: {score.misses[label].most_common(args.errors)}")
        print(f"{label} false hits: {score.false[label].most_common(args.errors)}")


if __name__ == "__main__":
    main()
