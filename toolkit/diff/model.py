"""The diff model: frozen dataclasses and their JSON form.

The JSON form (`RecordDiff.to_dict`) is documented in
`toolkit/schema/diff.schema.json`; keys are the field names, `None` and empty
values are left out, like the record model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from toolkit.records import to_dict

__all__ = [
    "WordOp", "FieldChange", "TextChange", "TagChange", "CriterionChange",
    "OutcomeChange", "Event", "VersionRef", "RecordDiff",
]


@dataclass(frozen=True)
class WordOp:
    """One run of a word-level diff: `op` is equal, delete or insert."""

    op: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    """A structured field that differs between the two versions.

    Scalars fill `before`/`after`; collections (conditions, sites, arms ...)
    fill `added`/`removed` with one display string per item.
    """

    field: str
    part: str
    before: Any = None
    after: Any = None
    added: Tuple[str, ...] = ()
    removed: Tuple[str, ...] = ()
    significance: Optional[str] = None


@dataclass(frozen=True)
class TextChange:
    """A free-text field or titled section whose words changed."""

    field: str
    part: str
    status: str  # modified | added | removed
    words: Tuple[WordOp, ...] = ()
    similarity: Optional[float] = None
    significance: Optional[str] = None


@dataclass(frozen=True)
class TagChange:
    """A tag that appeared, disappeared or changed value inside a criterion."""

    label: str
    change: str  # added | removed | changed
    before: Optional[str] = None
    after: Optional[str] = None
    before_value: Optional[float] = None
    after_value: Optional[float] = None
    unit: Optional[str] = None
    comparator: Optional[str] = None


@dataclass(frozen=True)
class CriterionChange:
    """One criterion aligned between versions.

    `status` is unchanged, modified, moved, added or removed; a modified
    criterion can also have moved (`moved` lists position, category,
    polarity). `similarity` is the rapidfuzz ratio (0-100) of the normalised texts.
    """

    status: str
    old_id: Optional[str] = None
    new_id: Optional[str] = None
    old_text: Optional[str] = None
    new_text: Optional[str] = None
    old_polarity: Optional[str] = None
    new_polarity: Optional[str] = None
    old_category: Optional[str] = None
    new_category: Optional[str] = None
    similarity: Optional[float] = None
    moved: Tuple[str, ...] = ()
    words: Tuple[WordOp, ...] = ()
    tags: Tuple[TagChange, ...] = ()
    significance: Optional[str] = None


@dataclass(frozen=True)
class OutcomeChange:
    """One outcome measure aligned between versions.

    `changes` names what differs for a matched pair: measure, time_frame,
    description, kind (moved between primary and secondary).
    """

    status: str  # unchanged | modified | added | removed
    old_kind: Optional[str] = None
    new_kind: Optional[str] = None
    old_measure: Optional[str] = None
    new_measure: Optional[str] = None
    old_time_frame: Optional[str] = None
    new_time_frame: Optional[str] = None
    changes: Tuple[str, ...] = ()
    similarity: Optional[float] = None
    words: Tuple[WordOp, ...] = ()
    significance: Optional[str] = None
    substantive: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    """A named change with its meaning: `kind` from a closed vocabulary.

    See `toolkit.diff.events.EVENT_KINDS` for the vocabulary.
    """

    kind: str
    message: str
    field: Optional[str] = None
    before: Any = None
    after: Any = None
    criterion: Optional[str] = None
    significance: str = "substantive"


@dataclass(frozen=True)
class VersionRef:
    """Which version a side of the diff is."""

    version: Optional[str] = None
    date: Optional[str] = None
    content_hash: Optional[str] = None
    source: Optional[str] = None

    def heading(self) -> str:
        """How a rendered diff names this side: `v<label>`, then the date if known."""
        label = self.version or self.source or "?"
        return f"v{label}" + (f" ({self.date})" if self.date else "")


@dataclass(frozen=True)
class RecordDiff:
    """Everything that changed between two versions of one trial."""

    registry: str
    trial_id: str
    old: VersionRef
    new: VersionRef
    events: Tuple[Event, ...] = ()
    fields: Tuple[FieldChange, ...] = ()
    texts: Tuple[TextChange, ...] = ()
    criteria: Tuple[CriterionChange, ...] = ()
    outcomes: Tuple[OutcomeChange, ...] = ()

    @property
    def changed(self) -> bool:
        """True when anything of substance differs."""
        return bool(self.fields or self.texts or self.changed_criteria or self.changed_outcomes)

    @property
    def significance(self) -> Optional[str]:
        """`substantive` if any change is, `cosmetic` if all are, None when nothing changed."""
        if not self.changed:
            return None
        levels = {c.significance for c in (*self.fields, *self.texts, *self.changed_criteria, *self.changed_outcomes)}
        return "substantive" if "substantive" in levels else "cosmetic"

    def only(self, significance: str) -> "RecordDiff":
        """The same diff keeping only changes and events of one significance
        (unchanged criteria and outcomes are kept, for `--all`)."""
        def keep(items):
            return tuple(i for i in items
                         if i.significance == significance or getattr(i, "status", None) == "unchanged")
        return dataclasses.replace(
            self, events=tuple(e for e in self.events if e.significance == significance),
            fields=keep(self.fields), texts=keep(self.texts), criteria=keep(self.criteria),
            outcomes=keep(self.outcomes))

    @property
    def changed_criteria(self) -> Tuple[CriterionChange, ...]:
        """Criteria other than unchanged ones."""
        return tuple(c for c in self.criteria if c.status != "unchanged")

    @property
    def changed_outcomes(self) -> Tuple[OutcomeChange, ...]:
        """Outcomes other than unchanged ones."""
        return tuple(o for o in self.outcomes if o.status != "unchanged")

    @property
    def parts(self) -> Tuple[str, ...]:
        """The parts of the record that changed, in a fixed order."""
        found = {f.part for f in self.fields} | {t.part for t in self.texts}
        if self.changed_criteria:
            found.add("criteria")
        if self.changed_outcomes:
            found.add("outcomes")
        return tuple(sorted(found))

    def to_dict(self, *, include_unchanged: bool = False) -> dict:
        """Return the JSON form; unchanged criteria/outcomes only on request."""
        data = to_dict(self)
        if not include_unchanged:
            data["criteria"] = [to_dict(c) for c in self.changed_criteria]
            data["outcomes"] = [to_dict(o) for o in self.changed_outcomes]
        data["changed"] = self.changed
        if self.significance is not None:
            data["significance"] = self.significance
        data["parts"] = list(self.parts)
        data["counts"] = _criteria_counts(self.criteria)
        return {k: v for k, v in data.items() if v != [] or k in ("events", "parts")}


def _criteria_counts(criteria) -> dict:
    counts: dict = {}
    for change in criteria:
        counts[change.status] = counts.get(change.status, 0) + 1
    return counts
