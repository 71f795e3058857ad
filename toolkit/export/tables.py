"""The export tables: their columns (from `tables.json`) and the rows of one version.

Rows are built from the record's JSON form (the public contract of
`toolkit/schema/record.schema.json`), not from the dataclasses: decoding a
stored body to a dict and walking it is several times faster than building
the model, and export touches every criterion and tag of the corpus.
"""

from __future__ import annotations

import functools
import json
import operator

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None
from dataclasses import dataclass
from importlib import resources
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from toolkit.normalize.aliases import alias_of
from toolkit.normalize.countries import country_code

__all__ = ["Column", "Table", "TABLES", "TABLE_NAMES", "VersionKey", "rows_of_version"]

TYPES = ("string", "int64", "float64", "bool")


@dataclass(frozen=True)
class Column:
    """One column: its name, type (one of `TYPES`) and meaning."""

    name: str
    type: str
    doc: str


@dataclass(frozen=True)
class Table:
    """One export table: its name, what a row is, its columns in order."""

    name: str
    doc: str
    columns: Tuple[Column, ...]

    @property
    def names(self) -> Tuple[str, ...]:
        """The column names in order."""
        return tuple(c.name for c in self.columns)


@functools.lru_cache(maxsize=1)
def _load() -> Dict[str, Table]:
    text = resources.files("toolkit.export").joinpath("tables.json").read_text("utf-8")
    tables = {}
    for name, spec in json.loads(text).items():
        if name.startswith("_"):
            continue
        columns = tuple(Column(*c) for c in spec["columns"])
        assert all(c.type in TYPES for c in columns), name
        tables[name] = Table(name, spec["doc"], columns)
    return tables


TABLES: Dict[str, Table] = _load()
TABLE_NAMES: Tuple[str, ...] = tuple(TABLES)


@dataclass(frozen=True)
class VersionKey:
    """Which stored version a record is: registry, trial id, seq, latest flag, date."""

    registry: str
    trial_id: str
    seq: int
    latest: bool
    version_date: Optional[str] = None


def rows_of_version(key: VersionKey, record: Mapping[str, Any]) -> Dict[str, List[tuple]]:
    """The rows of every table (events aside) for one version's record dict.

    Args:
        key: the version's place in the store.
        record: the record's JSON form (`TrialRecord.to_dict()`, or a decoded body).

    Returns:
        table name -> rows, each a tuple in the table's column order.
    """
    k = (key.registry, key.trial_id, key.seq)
    criteria, tags = _criteria_rows(k, (record.get("eligibility") or {}).get("criteria") or ())
    return {
        "trials": [_trial_row(key, record)],
        "conditions": [k + (i, c) for i, c in enumerate(record.get("conditions") or ())],
        "interventions": [_intervention_row(k, i, x) for i, x in enumerate(record.get("interventions") or ())],
        "outcomes": [k + (i, o.get("kind"), o.get("measure"), o.get("time_frame"), o.get("description"))
                     for i, o in enumerate(record.get("outcomes") or ())],
        "sites": _site_rows(k, record),
        "sponsors": [k + (i, s.get("name"), s.get("role"), s.get("class"))
                     for i, s in enumerate(record.get("sponsors") or ())],
        "ids": [_id_row(k, i, s) for i, s in enumerate(record.get("secondary_ids") or ())],
        "criteria": criteria,
        "tags": tags,
    }


def _trial_row(key: VersionKey, r: Mapping[str, Any]) -> tuple:
    elig = r.get("eligibility") or {}
    enrollment = r.get("enrollment") or {}
    raw = r.get("raw_values") or {}
    low, high = elig.get("min_age") or {}, elig.get("max_age") or {}
    return (
        key.registry, key.trial_id, key.seq, key.latest, r.get("version"), key.version_date,
        r.get("content_hash"), r.get("title"), r.get("official_title"), r.get("acronym"),
        r.get("status"), _text(raw.get("status")), ",".join(r.get("phases") or ()) or None,
        _text(raw.get("phases")), r.get("study_type"), _text(raw.get("study_type")),
        enrollment.get("count"), enrollment.get("type"), r.get("start_date"),
        r.get("primary_completion_date"), r.get("completion_date"), r.get("first_posted"),
        r.get("last_updated"), low.get("years"), high.get("years"), low.get("text"), high.get("text"),
        elig.get("sex"), _text(raw.get("sex")), elig.get("healthy_volunteers"),
        (r.get("source") or {}).get("format"),
    )


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return " | ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def _intervention_row(k: tuple, i: int, x: Mapping[str, Any]) -> tuple:
    return k + (i, x.get("type"), x.get("name"), x.get("description"),
                " | ".join(x.get("other_names") or ()) or None)


def _site_rows(k: tuple, record: Mapping[str, Any]) -> List[tuple]:
    locations = record.get("locations") or ()
    written = (record.get("raw_values") or {}).get("countries") or ()
    rows = []
    for i, site in enumerate(locations):
        country = site.get("country")
        raw = written[i] if i < len(written) and written[i] != country else None
        rows.append(k + (i, site.get("facility"), site.get("city"), site.get("state"), site.get("zip"),
                         country, country_code(country), raw, site.get("status")))
    return rows


def _id_row(k: tuple, i: int, s: Mapping[str, Any]) -> tuple:
    alias = alias_of(s.get("id") or "")
    return k + (i, s.get("id"), s.get("type"), s.get("source"),
                alias[0] if alias else None, alias[1] if alias else None)


_TAG_FIELDS = ("label", "text", "start", "end", "norm", "code", "negated", "relation", "amount",
               "unit", "days", "low_days", "high_days", "direction", "anchor", "measurement",
               "comparator", "number", "low", "high", "attrs")
_TAG_NONE = dict.fromkeys(_TAG_FIELDS)
_TAG_VALUES = operator.itemgetter(*_TAG_FIELDS)


def _criteria_rows(k: tuple, criteria) -> Tuple[List[tuple], List[tuple]]:
    """(criteria rows, tag rows) of a criteria tree, depth first."""
    crit_rows: List[tuple] = []
    tag_rows: List[tuple] = []
    for criterion, parent in _walk(criteria, None):
        cid = criterion["id"]
        crit_rows.append(k + (cid, parent, len(crit_rows), criterion.get("polarity"),
                              criterion.get("category"), criterion.get("text"),
                              criterion.get("start"), criterion.get("end")))
        tags = criterion.get("tags")
        if tags:
            head = k + (cid,)
            for i, tag in enumerate(tags):
                # a complete dict and one C-level itemgetter: 3x faster than a get per field
                values = _TAG_VALUES({**_TAG_NONE, **tag})
                if values[-1] is not None:  # attrs: a JSON object, or null when empty
                    values = values[:-1] + (_json_object(values[-1]),)
                tag_rows.append(head + (i,) + values)
    return crit_rows, tag_rows


def _json_object(value) -> Optional[str]:
    if not value:
        return None
    if orjson is not None:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _walk(criteria, parent: Optional[str]) -> Iterator[tuple]:
    """(criterion, parent id) depth first, in source order (a stack, not recursion: trees are shallow
    but generators nested per level cost more than the rows)."""
    stack = [(c, parent) for c in reversed(criteria)]
    while stack:
        criterion, above = stack.pop()
        yield criterion, above
        children = criterion.get("children")
        if children:
            cid = criterion["id"]
            stack.extend((c, cid) for c in reversed(children))
