"""Train the shipped entity model on the training part of Chia, reproducibly.

Steps (all deterministic: same data, same model):
1. Convert: every non-blank line of the Chia training documents
   (`chia.is_held_out` (scripts/chia.py) false) becomes one spaCy `Doc`, tokenised by
   the pipeline's own tokenizer (`toolkit.nlp.tokenizer`), with the entities
   Drug, Condition, Measurement, Procedure, Value and Temporal as `doc.ents`
   (and as BIO token tags, for the token-classifier config `scripts/tagger_bio.cfg`).
   A discontinuous span counts from its first to its last character (as
   `scripts/eval_chia.py` scores it). Chia spans nest (about 6 % lie inside
   another of these six): `ner` keeps one layer, the longest span first, ties
   by `LABEL_ORDER`. Spans are snapped outwards to token boundaries.
2. Split the training trials again (`--dev-share`, seeded hash of the NCT id)
   into train and dev `DocBin`s; dev drives early stopping and model choice.
3. `spacy train` with `scripts/tagger_bio.cfg` (a BIO token classifier over a
   HashEmbed + MaxoutWindowEncoder CNN, width 48, depth 2; one thread, fixed
   seed). `--config scripts/tagger.cfg` trains the transition-based `ner`
   instead: better strict F1 on temporal and value spans, about twice the
   cost per criterion (figures in `toolkit/nlp/model/README.md`).
4. Copy the best model (config, vocab, `tok2vec`, `tagger` or `ner`; not the tokenizer,
   which the config rebuilds) into `toolkit/nlp/model/`.

The held-out fifth is never read here; `scripts/eval_chia.py` reports on it.

Chia: Kury et al. 2020, Sci Data 7:281, doi:10.1038/s41597-020-00620-0, CC BY 4.0.

Usage: OMP_NUM_THREADS=1 python scripts/train_tagger.py [--data ../shared/data/chia-train]
           [--work /tmp/ptk-tagger] [--set training.max_steps=4000 ...] [--no-install]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import re
import shutil
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from spacy.tokens import DocBin  # noqa: E402

from chia import iter_documents  # noqa: E402
from toolkit.nlp.lines import line_spans  # noqa: E402

CHIA_LABELS = {"Drug": "drug", "Condition": "condition", "Measurement": "measurement",
               "Procedure": "procedure", "Value": "value", "Temporal": "temporal"}
LABEL_ORDER = ("drug", "condition", "measurement", "procedure", "value", "temporal")
MODEL_DIR = Path(__file__).resolve().parents[1] / "toolkit" / "nlp" / "model"
SEED = 13
DEV_SHARE = 8  # one training trial in eight goes to dev


def is_dev(trial_id: str, share: int, seed: int = SEED) -> bool:
    """Whether a training trial goes to the dev part (one in `share`, by a seeded hash)."""
    return hashlib.sha1(f"{seed}:{trial_id}".encode("ascii")).digest()[0] % share == 0


def line_entities(doc, start: int, end: int) -> list:
    """(start, end, label) of the six labels inside one line, offsets into the line."""
    out = []
    for entity in doc.entities:
        label = CHIA_LABELS.get(entity.type)
        if label and start <= entity.start and entity.end <= end:
            out.append((entity.start - start, entity.end - start, label))
    return out


def one_layer(spans: list) -> list:
    """Non-overlapping spans: the longest first, then by label order and start (deterministic)."""
    ranked = sorted(spans, key=lambda s: (-(s[1] - s[0]), LABEL_ORDER.index(s[2]), s[0]))
    kept = []
    for span in ranked:
        if all(span[1] <= k[0] or k[1] <= span[0] for k in kept):
            kept.append(span)
    return sorted(kept)


def _trimmed(text: str, start: int, end: int) -> tuple:
    """The span without the spaces at either end."""
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + len(piece.rstrip())


def to_doc(nlp, text: str, spans: list, counts: collections.Counter):
    """A tokenised line with its entities snapped outwards to tokens."""
    doc = nlp.make_doc(text)
    ents = []
    for start, end, label in one_layer(spans):
        start, end = _trimmed(text, start, end)
        span = doc.char_span(start, end, label=label) if start < end else None
        if span is None and start < end:
            counts["snapped"] += 1
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None and all(span.end <= e.start or e.end <= span.start for e in ents):
            ents.append(span)
        else:
            counts["dropped"] += 1
    doc.ents = ents
    for token in doc:  # the same spans as BIO tags, for the token-classifier config
        token.tag_ = f"{'B' if token.ent_iob_ == 'B' else 'I'}-{token.ent_type_}" if token.ent_type_ else "O"
    counts["entities"] += len(ents)
    return doc


def convert(data: Path, work: Path, dev_share: int) -> dict:
    """Write `train.spacy` and `dev.spacy` under `work`; return counts."""
    from toolkit.nlp.tokenizer import make_tokenizer_nlp

    nlp = make_tokenizer_nlp()
    bins = {"train": DocBin(), "dev": DocBin()}
    counts = collections.Counter()
    for chia_doc in iter_documents(data, split="train"):
        part = "dev" if is_dev(chia_doc.trial_id, dev_share) else "train"
        counts[f"{part}_documents"] += 1
        spans_in_lines = 0
        for start, end in line_spans(chia_doc.text):
            spans = line_entities(chia_doc, start, end)
            spans_in_lines += len(spans)
            counts["nested_or_overlapping"] += len(spans) - len(one_layer(spans))
            bins[part].add(to_doc(nlp, chia_doc.text[start:end], spans, counts))
            counts[f"{part}_lines"] += 1
        annotated = sum(1 for e in chia_doc.entities if e.type in CHIA_LABELS)
        counts["across_lines"] += annotated - spans_in_lines
    work.mkdir(parents=True, exist_ok=True)
    for part, docbin in bins.items():
        docbin.to_disk(work / f"{part}.spacy")
    return counts


def train(work: Path, config: Path, overrides: dict) -> Path:
    """Run `spacy train`; return the folder of the best model."""
    from spacy.cli.train import train as spacy_train

    import toolkit.nlp.tokenizer  # noqa: F401  (registers the tokenizer named in the config)

    settings = {"paths.train": str(work / "train.spacy"), "paths.dev": str(work / "dev.spacy"),
                "system.seed": SEED, **overrides}
    spacy_train(config, work / "output", overrides=settings)
    return work / "output" / "model-best"


SHIPPED = ("config.cfg", "meta.json", "vocab", "tok2vec", "ner", "tagger")


def install(best: Path, target: Path) -> None:
    """Replace the shipped model by the trained one (the notes in the folder are kept)."""
    for name in SHIPPED:
        old, new = target / name, best / name
        if old.is_dir():
            shutil.rmtree(old)
        if new.is_dir():
            shutil.copytree(new, old)
        elif new.exists():
            shutil.copy(new, old)
    config = target / "config.cfg"  # the training data paths are the machine's, not the model's
    config.write_text(re.sub(r'^(train|dev) = ".*"$', r"\1 = null", config.read_text(encoding="utf-8"), flags=re.M),
                      encoding="utf-8")


def _override(text: str):
    key, _, value = text.partition("=")
    if value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, value


def main() -> None:
    """Convert, train and install."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "chia-train")
    parser.add_argument("--work", type=Path, default=Path("/tmp/ptk-tagger"))
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parent / "tagger_bio.cfg",
                        help="tagger_bio.cfg: token classifier (shipped); tagger.cfg: transition-based ner.")
    parser.add_argument("--dev-share", type=int, default=DEV_SHARE, help="One training trial in N goes to dev.")
    parser.add_argument("--set", action="append", default=[], help="Config override, e.g. components.tok2vec.model.encode.width=64")
    parser.add_argument("--convert-only", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    counts = convert(args.data, args.work, args.dev_share)
    print("converted:", dict(sorted(counts.items())))
    if args.convert_only:
        return
    best = train(args.work, args.config, dict(map(_override, args.set)))
    if not args.no_install:
        install(best, MODEL_DIR)
        print(f"installed {best} -> {MODEL_DIR}")


if __name__ == "__main__":
    main()
