"""Learn lexicon additions and filters from the training part of Chia.

Writes `toolkit/nlp/data/learned.json`, which `scripts/build_lexicons.py`
folds into the shipped lexicon:
- `terms`: Drug and Condition surface forms annotated in the training
  documents that, wherever they occur in those documents, are annotated with
  that label at least `MIN_PRECISION` of the time;
- `drop`: surface forms of the vocabularies that match in the training
  documents at least `MIN_SEEN` times but overlap an annotation of their label
  less than `DROP_BELOW` of the time ("alt" matching as a drug, "control"),
  or less than `MIN_PRECISION_CODED` for forms that carry a DrugBank/MeSH id.
  Norms in `PROTECTED` stay whatever Chia says: criteria search needs them.

Only documents of the training split are read (`scripts/chia.py`, one trial
in five held out by a hash of its NCT id), so `scripts/eval_chia.py` scores
on documents this never saw. Deterministic: same data, same output.
Runs in under a minute on one core.

Chia: Kury et al. 2020, Sci Data 7:281, doi:10.1038/s41597-020-00620-0, CC BY 4.0.

Usage: python scripts/learn_lexicon.py [--data ../shared/data/chia-train]
Then:  python scripts/build_lexicons.py
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling build script

import build_lexicons  # noqa: E402

from chia import LABELS, iter_documents  # noqa: E402
from toolkit.nlp.lines import line_spans  # noqa: E402
from toolkit.nlp.lexicon import DATA_DIR, Lexicon, lexicon_key  # noqa: E402

MIN_PRECISION = 0.35  # to add an annotated form
MIN_SEEN = 3
DROP_BELOW = 0.35  # a vocabulary form this imprecise costs more F1 than it brings
MIN_PRECISION_CODED = 0.25  # forms with a DrugBank/MeSH id need stronger evidence to drop
TERM_LABELS = ("drug", "condition")
PROTECTED = {
    "chemotherapy", "immunotherapy", "CD19-directed therapy", "CAR T cells", "vinca alkaloid",
    "pregnancy", "lactation", "HIV infection", "hepatitis B", "hepatitis C", "epilepsy",
    "graft vs host disease", "Burkitt lymphoma", "precursor B-cell lymphoblastic leukemia-lymphoma",
    "corticosteroid", "anticoagulant", "CYP3A4 inhibitor", "investigational drug", "hypersensitivity",
}


def gold_terms(docs, tokenizer) -> dict:
    """key -> Counter of labels over single-fragment Drug/Condition annotations."""
    found = collections.defaultdict(collections.Counter)
    for doc in docs:
        for entity in doc.entities:
            label = LABELS.get(entity.type)
            if label in TERM_LABELS and len(entity.fragments) == 1 and len(entity.text.strip()) > 1:
                key = lexicon_key(tok.text for tok in tokenizer(entity.text.strip()))
                if key and not key.replace(" ", "").isdigit():
                    found[key][label] += 1
    return found


def candidate_lexicon(base: dict, gold: dict) -> Lexicon:
    """The vocabularies plus every annotated form (annotated label where they disagree)."""
    rows = {key: list(row) for key, row in base.items()}
    for key, labels in gold.items():
        label = labels.most_common(1)[0][0]
        if key not in rows or rows[key][0] != label:
            rows[key] = [label, key, None]
    return Lexicon(rows)


def match_stats(docs, tokenizer, lexicon: Lexicon) -> dict:
    """key -> [times matched, times overlapping an annotation of its label]."""
    stats = collections.defaultdict(lambda: [0, 0])
    for doc in docs:
        gold = [(LABELS[e.type], e.start, e.end) for e in doc.entities if LABELS.get(e.type) in TERM_LABELS]
        for offset, end in line_spans(doc.text):
            tokens = tokenizer(doc.text[offset:end])
            lowers = [lexicon_key([tok.text]) for tok in tokens]
            for match in lexicon.match(lowers):
                span = tokens[match.start:match.end]
                start, stop = span.start_char + offset, span.end_char + offset
                key = " ".join(lowers[match.start:match.end])
                hit = any(g[0] == match.entry.label and g[1] < stop and start < g[2] for g in gold)
                stats[key][0] += 1
                stats[key][1] += hit
    return stats


def _imprecise(row, precision: float) -> bool:
    coded = row[2] is not None
    return precision < (MIN_PRECISION_CODED if coded else DROP_BELOW)


def learn(data: Path, shared: Path) -> dict:
    """The learned terms and drops."""
    tokenizer = build_lexicons.make_tokenizer_nlp().tokenizer
    docs = list(iter_documents(data, split="train"))
    base = build_lexicons.build(shared, use_learned=False)
    gold = gold_terms(docs, tokenizer)
    lexicon = candidate_lexicon(base, gold)
    stats = match_stats(docs, tokenizer, lexicon)
    terms = collections.defaultdict(list)
    drop = []
    for key, (seen, hits) in sorted(stats.items()):
        precise = hits / seen >= MIN_PRECISION
        label, norm = lexicon.rows[key][0], lexicon.rows[key][1]
        if key in gold and key not in base and precise:
            terms[label].append(key)
        elif key in base and seen >= MIN_SEEN and norm not in PROTECTED and _imprecise(base[key], hits / seen):
            drop.append(key)
    return {
        "source": "Chia training split (Kury et al. 2020, CC BY 4.0), see scripts/chia.py",
        "documents": len(docs), "min_precision": MIN_PRECISION, "min_seen": MIN_SEEN,
        "terms": {label: sorted(forms) for label, forms in sorted(terms.items())}, "drop": drop,
    }


def main() -> None:
    """Learn and write `learned.json`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2] / "shared" / "data"
    parser.add_argument("--data", type=Path, default=root / "chia-train")
    parser.add_argument("--shared", type=Path, default=root)
    args = parser.parse_args()
    learned = learn(args.data, args.shared)
    path = DATA_DIR / "learned.json"
    path.write_text(json.dumps(learned, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    sizes = {label: len(forms) for label, forms in learned["terms"].items()}
    print(f"{learned['documents']} training documents: terms {sizes}, drop {len(learned['drop'])} -> {path}")


if __name__ == "__main__":
    main()
