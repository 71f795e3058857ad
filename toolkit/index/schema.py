"""The search schema as data: every field, its kind, and query-side names.

Kinds:
    id       exact single value, used to delete and replace documents;
    keyword  exact, lower-cased, possibly several values;
    text     analyzed (see `toolkit.index.analysis`), with positions;
    number   float, possibly several values (ranges);
    stored   returned with a hit, not searchable.
"""

from __future__ import annotations

import re
from typing import Dict, Optional

__all__ = [
    "FIELDS", "KEYS_FIELD", "keyword_term", "indexed_fields", "STORED", "QUERY_FIELDS", "SCHEMA_VERSION", "AGE_UNBOUNDED",
    "normalize_keyword", "COUNTRY_SEPARATOR", "trial_key", "trial_number", "TRIAL_NUMBER",
    "FACETS", "FACET_SOURCE", "FACET_FIELD", "facet_values", "facet_terms", "facets_of_terms",
]

SCHEMA_VERSION = 8

# Between the countries of a trial in its stored `countries_raw` (names may hold commas).
COUNTRY_SEPARATOR = "; "


def trial_key(registry: str, trial_id: str) -> str:
    """The index's identity of a trial: `registry:trial_id`."""
    return f"{registry}:{trial_id}"


# The column engines keep `trial_number(trial_key)` in (not a searchable field).
TRIAL_NUMBER = "trial_number"


def trial_number(key: str) -> int:
    """A trial key as a 63-bit number (a hash): documents carry it (`TRIAL_NUMBER`) and engines
    keep it in a column, so the hits of a query can be grouped by trial without reading their
    stored fields."""
    import hashlib  # the write path only

    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") >> 1

# Facets a search counts its matches by, and the stored field each is read from.
FACETS = ("status", "phase", "polarity", "country")
FACET_SOURCE = {"status": "status_raw", "phase": "phases_raw", "polarity": "polarity_raw",
                "country": "countries_raw"}
# facets holding several values per trial, and what separates them in the stored field
_LIST_FACETS = {"phase": ",", "country": COUNTRY_SEPARATOR.strip()}

# The column engines may keep `facet_terms(document)` in, to count facets without reading stored fields.
FACET_FIELD = "facet"


def facet_values(facet: str, stored: str) -> list:
    """The values of one facet in its stored field's text ("(none)" for an empty one)."""
    values = [v.strip() for v in stored.split(_LIST_FACETS[facet])] if facet in _LIST_FACETS else [stored]
    return [v or "(none)" for v in values]


def facet_terms(stored: dict) -> list:
    """`facet=value` for every facet value of a document's stored fields (each once)."""
    terms = (f"{facet}={value}" for facet in FACETS for value in facet_values(facet, stored.get(FACET_SOURCE[facet]) or ""))
    return list(dict.fromkeys(terms))


def facets_of_terms(counted) -> Dict[str, Dict[str, int]]:
    """{facet: {value: n}} from (`facet=value` term, n) pairs."""
    out: Dict[str, Dict[str, int]] = {}
    for term, n in counted:
        facet, value = term.split("=", 1)
        out.setdefault(facet, {})[value] = n
    return out


# Stand-ins for an absent age limit, so a range filter needs no special case.
AGE_UNBOUNDED = (0.0, 999.0)

FIELDS: Dict[str, str] = {
    "doc_id": "id",
    "trial_key": "id",
    "kind": "keyword",
    "trial": "keyword",
    "registry": "keyword",
    "polarity": "keyword",
    "status": "keyword",
    "phase": "keyword",
    "type": "keyword",
    "sex": "keyword",
    "healthy": "keyword",
    "text": "text",
    "context": "text",
    "category": "text",
    "title": "text",
    "drug": "text",
    "condition": "text",
    "measurement": "text",
    "sponsor": "text",
    "country": "text",
    "min_age": "number",
    "max_age": "number",
    "window": "number",
    "start": "number",
    "completion": "number",
    # value thresholds in one unit per measurement (see toolkit.index.values)
    "value_hba1c": "number", "value_creatinine": "number", "value_hemoglobin": "number",
    "value_platelets": "number", "value_anc": "number", "value_bilirubin": "number",
}

# Engines index every keyword field in this one field as `name=value` terms:
# one field instead of nine makes Whoosh several times faster to write.
KEYS_FIELD = "keys"


def keyword_term(field: str, value: str) -> str:
    """The term of a keyword value in `KEYS_FIELD`."""
    return f"{field}={value}"


def indexed_fields(kind: str) -> tuple:
    """Names of the fields of one kind (keyword fields live in `KEYS_FIELD`)."""
    return tuple(name for name, k in FIELDS.items() if k == kind)


# Returned with every hit; `text`, `title` and `category` keep their raw form.
STORED = (
    "doc_id", "trial_key", "kind", "trial_id", "registry", "version", "criterion_id",
    "polarity_raw", "category_raw", "text_raw", "title_raw", "status_raw", "phases_raw",
    "countries_raw", "content_hash", "dates_raw", "windows_raw",
)

# Names a user may write before a colon -> index field.
QUERY_FIELDS: Dict[str, str] = {
    "text": "text", "context": "context", "category": "category",
    "drug": "drug", "condition": "condition", "measurement": "measurement",
    "sponsor": "sponsor", "country": "country", "polarity": "polarity",
    "status": "status", "phase": "phase", "type": "type", "trial": "trial",
    "registry": "registry", "sex": "sex", "healthy": "healthy",
    "title": "title", "intervention": "drug", "value": "value",
}

_POLARITY = {"inc": "inclusion", "exc": "exclusion", "unk": "unknown"}


def normalize_keyword(field: str, value: str) -> Optional[str]:
    """The indexed spelling of a keyword value, the same for documents and queries.

    `phase:2`, `phase:"Phase 2"`, `PHASE2`, ICTRP's `PHASE_02` and `Phase II` all give `phase2`;
    `status:"not yet recruiting"` and `--status "Active, not recruiting"` give
    `not_yet_recruiting` and `active_not_recruiting`, ICTRP's `Recruitment open` gives `recruiting`;
    `polarity:exc` gives `exclusion`.

    Returns:
        The normalised value, or None when nothing is left.
    """
    text = re.sub(r"[\s\-/,;]+", "_", value.strip().lower()).strip("_")
    if not text:
        return None
    if field == "phase":
        return _phase(text)
    if field == "status":
        return _status(value, text)
    if field == "polarity":
        return _POLARITY.get(text[:3], text)
    if field == "healthy":
        return "yes" if text in ("yes", "true", "1", "y") else "no" if text in ("no", "false", "0", "n") else text
    return text


def _phase(text: str) -> str:
    text = text.replace("_", "")
    if text in ("na", "n/a", "notapplicable"):
        return "na"
    if text.startswith("early"):
        return "early_phase1"
    match = re.fullmatch(r"(?:phase)?0*([1-4]|i{1,3}|iv)", text)
    if not match:
        return text
    number = match.group(1)
    return f"phase{_ROMAN.get(number, number)}"


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def _status(value: str, text: str) -> str:
    """A status in the registries' shared spelling: ICTRP's "Recruitment open" and "Pending" are recruiting
    and not_yet_recruiting, as `toolkit.normalize` stores them."""
    from toolkit.normalize.fields import status_enum  # the same table the records were normalised with

    enum = status_enum(value)
    return enum.lower() if enum else text
