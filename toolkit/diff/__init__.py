"""Version diffs: fields, criteria alignment, outcomes and named events.

`diff_records(old, new)` is the entry point; it returns a `RecordDiff`
whose JSON form is documented in `toolkit/schema/diff.schema.json`.
Every change carries a significance, cosmetic or substantive
(`toolkit.diff.significance`). Renderers: `toolkit.diff.render_text`,
`toolkit.diff.render_html`; whole dumps: `toolkit.diff.history`; choosing
and de-duplicating versions: `toolkit.diff.versions`; events across the
corpus, kept incrementally: `toolkit.diff.changes`; conflicts between
structured fields and criteria within one version: `toolkit.diff.conflicts`.
"""

from __future__ import annotations

from toolkit.diff.criteria import MATCH_THRESHOLD, criteria_items, diff_criteria
from toolkit.diff.events import EVENT_KINDS, events_for
from toolkit.diff.fields import PARTS, diff_fields
from toolkit.diff.model import (
    CriterionChange, Event, FieldChange, OutcomeChange, RecordDiff, TagChange, TextChange,
    VersionRef, WordOp,
)
from toolkit.diff.outcomes import diff_outcomes
from toolkit.diff.text import normalize
from toolkit.errors import DiffError
from toolkit.records import TrialRecord

__all__ = [
    "diff_records", "version_ref", "DiffError", "RecordDiff", "FieldChange", "TextChange",
    "CriterionChange", "OutcomeChange", "TagChange", "Event", "VersionRef", "WordOp",
    "EVENT_KINDS", "PARTS", "MATCH_THRESHOLD", "normalize",
]


def diff_records(old: TrialRecord, new: TrialRecord, *, check_identity: bool = True) -> RecordDiff:
    """Compare two versions of one trial.

    Args:
        old: the earlier version.
        new: the later version.
        check_identity: refuse records of different trials.

    Returns:
        The diff: named events first, then field, text, criterion and
        outcome changes.

    Raises:
        DiffError: the records are of different trials and `check_identity` is set.
    """
    if check_identity and old.trial_id != new.trial_id:
        raise DiffError(f"cannot diff {old.trial_id} against {new.trial_id}: different trials")
    fields, texts = diff_fields(old, new)
    criteria = diff_criteria(criteria_items(old), criteria_items(new))
    outcomes = diff_outcomes(old.outcomes, new.outcomes) if _outcomes_listed(old, new) else ()
    return RecordDiff(
        registry=new.registry, trial_id=new.trial_id, old=version_ref(old), new=version_ref(new),
        events=tuple(events_for(fields, criteria, outcomes, ages=(_ages(old), _ages(new)))),
        fields=fields, texts=texts,
        criteria=criteria, outcomes=outcomes,
    )


def _ages(record: TrialRecord) -> tuple:
    """(min, max) age texts of a record, for event messages."""
    eligibility = record.eligibility
    if eligibility is None:
        return None, None
    return tuple(age.text if age is not None else None for age in (eligibility.min_age, eligibility.max_age))


def _outcomes_listed(old: TrialRecord, new: TrialRecord) -> bool:
    """False when a side lists no outcomes because they moved to posted results.

    cthist rows of trials with results hold "[See Results Section.]" in place
    of the outcome list (kept as `extra.outcome_measures`); that is not every
    outcome removed. The note itself still shows as a field change.
    """
    def deferred(record):
        note = str(record.extra.get("outcome_measures", ""))
        return not record.outcomes and "results" in note.lower()

    return not (deferred(old) or deferred(new))


def version_ref(record: TrialRecord) -> VersionRef:
    """Which version a record is: label, date, hash, source file."""
    source = None
    if record.source is not None and record.source.path:
        source = record.source.path + (f"!{record.source.entry}" if record.source.entry else "")
    return VersionRef(record.version, record.last_updated, record.content_hash, source)
