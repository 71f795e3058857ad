"""Named events: what a change means, with its before and after values.

Events are read off the field, criterion and outcome changes; the
vocabulary is `EVENT_KINDS` (documented in `toolkit/schema/diff.schema.json`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator, List, Optional

from toolkit.diff.model import CriterionChange, Event, FieldChange, OutcomeChange
from toolkit.diff.significance import COSMETIC, SUBSTANTIVE
from toolkit.diff.tags import threshold_direction
from toolkit.normalize.ages import parse_age
from toolkit.normalize.fields import iso_date

__all__ = ["EVENT_KINDS", "events_for", "contrast"]

EVENT_KINDS = (
    "status_changed", "status_regressed", "enrollment_raised", "enrollment_cut", "enrollment_halved",
    "enrollment_type_changed",
    "start_date_slipped", "start_date_brought_forward",
    "primary_completion_date_slipped", "primary_completion_date_brought_forward",
    "completion_date_slipped", "completion_date_brought_forward",
    "age_range_widened", "age_range_narrowed", "age_range_changed", "sex_changed",
    "healthy_volunteers_changed", "phase_changed",
    "inclusion_criterion_added", "exclusion_criterion_added",
    "inclusion_criterion_dropped", "exclusion_criterion_dropped", "criterion_moved",
    "time_window_lengthened", "time_window_shortened",
    "threshold_tightened", "threshold_loosened", "threshold_changed",
    "primary_outcome_changed", "primary_outcome_added", "primary_outcome_removed",
    "secondary_outcome_changed", "secondary_outcome_added", "secondary_outcome_removed",
    "outcome_moved_to_primary", "outcome_moved_to_secondary",
    "sites_added", "sites_removed", "intervention_added", "intervention_removed",
    "sponsor_changed",
)

_DATES = ("start_date", "primary_completion_date", "completion_date")


def events_for(fields: Iterable[FieldChange], criteria: Iterable[CriterionChange],
               outcomes: Iterable[OutcomeChange], *, ages: tuple = ((None, None), (None, None))) -> List[Event]:
    """Every named event of a diff, fields first, then criteria, then outcomes.

    Args:
        fields: field changes of the diff.
        criteria: aligned criteria.
        outcomes: aligned outcomes.
        ages: ((old min, old max), (new min, new max)) age texts, for messages.
    """
    fields = list(fields)
    events = list(_field_events(fields))
    events += _age_events({f.field: f for f in fields}, ages)
    for change in criteria:
        events += _criterion_events(change)
    for change in outcomes:
        events += _outcome_events(change)
    return events


def _field_events(fields: List[FieldChange]) -> Iterator[Event]:
    for f in fields:
        handler = _FIELD_HANDLERS.get(f.field)
        if handler is not None:
            for event in handler(f):
                yield dataclasses.replace(event, significance=f.significance or SUBSTANTIVE)


# the order a trial's recruitment status moves in; a step back is a regression
_STATUS_STAGE = {
    "WITHDRAWN": 0, "NOT_YET_RECRUITING": 0, "RECRUITING": 1, "ENROLLING_BY_INVITATION": 1,
    "ACTIVE_NOT_RECRUITING": 2, "COMPLETED": 3, "TERMINATED": 3,
}


def _status(f: FieldChange) -> Iterator[Event]:
    yield Event("status_changed", f"status changed from {f.before} to {f.after}", f.field, f.before, f.after)
    before, after = _STATUS_STAGE.get(str(f.before)), _STATUS_STAGE.get(str(f.after))
    if before is not None and after is not None and after < before and f.before != "WITHDRAWN":
        yield Event("status_regressed", f"status went back from {f.before} to {f.after}", f.field, f.before, f.after)


def _enrollment(f: FieldChange) -> Iterator[Event]:
    if isinstance(f.before, (int, float)) and isinstance(f.after, (int, float)):
        kind = "enrollment_raised" if f.after > f.before else "enrollment_cut"
        verb = "raised" if f.after > f.before else "cut"
        yield Event(kind, f"enrollment target {verb} from {f.before} to {f.after}", f.field, f.before, f.after)
        if f.after * 2 < f.before:
            yield Event("enrollment_halved", f"enrollment cut by more than half: {f.before} -> {f.after}",
                        f.field, f.before, f.after)


def _enrollment_type(f: FieldChange) -> Iterator[Event]:
    yield Event("enrollment_type_changed", f"enrollment changed from {f.before} to {f.after}",
                f.field, f.before, f.after)


def _date(f: FieldChange) -> Iterator[Event]:
    a, b = _date_key(f.before), _date_key(f.after)
    if a is None or b is None:
        return
    if 0 in a or 0 in b:  # compare at the coarser precision: 2011-05 equals 2011-05-01
        size = min(a.index(0) if 0 in a else 3, b.index(0) if 0 in b else 3)
        a, b = a[:size], b[:size]
    if a == b:
        return
    name = f.field.replace("_", " ")
    if b > a:
        yield Event(f"{f.field}_slipped", f"{name} slipped from {f.before} to {f.after}", f.field, f.before, f.after)
    else:
        yield Event(f"{f.field}_brought_forward", f"{name} brought forward from {f.before} to {f.after}",
                    f.field, f.before, f.after)


def _date_key(value: Any) -> Optional[tuple]:
    """(year, month, day) of a date as registries write it (`normalize.fields.iso_date`), None if unreadable."""
    iso = iso_date(value) if isinstance(value, str) else None
    if iso is None:
        return None
    parts = [int(p) for p in iso.split("-")]
    return tuple(parts + [0] * (3 - len(parts)))


def _simple(kind: str, label: str):
    def handler(f: FieldChange) -> Iterator[Event]:
        yield Event(kind, f"{label} changed from {f.before} to {f.after}", f.field, f.before, f.after)
    return handler


def _collection(added_kind: str, removed_kind: str, noun: str):
    def handler(f: FieldChange) -> Iterator[Event]:
        if f.added:
            yield Event(added_kind, f"{len(f.added)} {noun} added: " + "; ".join(f.added[:5]),
                        f.field, None, list(f.added))
        if f.removed:
            yield Event(removed_kind, f"{len(f.removed)} {noun} removed: " + "; ".join(f.removed[:5]),
                        f.field, list(f.removed), None)
    return handler


def _set_changed(kind: str, noun: str):
    def handler(f: FieldChange) -> Iterator[Event]:
        yield Event(kind, f"{noun} changed: {_listing(f)}", f.field,
                    list(f.removed) + list(f.before or ()), list(f.added) + list(f.after or ()))
    return handler


def _listing(f: FieldChange) -> str:
    """"added X; removed Y; A -> B" in words, never a Python list."""
    parts = [f"added {'; '.join(f.added)}"] if f.added else []
    parts += [f"removed {'; '.join(f.removed)}"] if f.removed else []
    parts += [f"{x} -> {y}" for x, y in zip(f.before or (), f.after or ())
              if isinstance(f.before, list) and isinstance(f.after, list)]
    return ", ".join(parts) or "reworded"


_FIELD_HANDLERS = {
    "status": _status, "enrollment.count": _enrollment, "enrollment.type": _enrollment_type,
    **{name: _date for name in _DATES},
    "sex": _simple("sex_changed", "sex"),
    "healthy_volunteers": _simple("healthy_volunteers_changed", "healthy volunteers"),
    "phases": _set_changed("phase_changed", "phases"), "sponsors": _set_changed("sponsor_changed", "sponsors"),
    "locations": _collection("sites_added", "sites_removed", "site(s)"),
    "interventions": _collection("intervention_added", "intervention_removed", "intervention(s)"),
}


def _age_events(fields: dict, ages: tuple) -> Iterator[Event]:
    low, high = fields.get("min_age"), fields.get("max_age")
    if low is None and high is None:
        return
    wider = narrower = False
    if low is not None:
        a, b = _years(low.before, default=0.0), _years(low.after, default=0.0)
        wider, narrower = b < a, b > a
    if high is not None:
        a, b = _years(high.before, default=float("inf")), _years(high.after, default=float("inf"))
        wider, narrower = wider or b > a, narrower or b < a
    if not (wider or narrower):
        return
    before, after = (f"{lo or 'no minimum'} to {hi or 'no maximum'}" for lo, hi in ages)
    kind = "age_range_changed" if wider == narrower else ("age_range_widened" if wider else "age_range_narrowed")
    yield Event(kind, f"age range {kind.rsplit('_', 1)[1]}: {before} -> {after}", "eligibility.age", before, after)


def _years(text: Any, *, default: float) -> float:
    """An age limit as written, in years (`toolkit.normalize.ages`); `default` when it states none."""
    age = parse_age(None if text is None else str(text))
    return default if age is None or age.years is None else age.years


def _brief(text: Any, limit: int = 120) -> str:
    """One line of at most `limit` characters, for messages."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _criterion_events(c: CriterionChange) -> List[Event]:
    if c.status == "added":
        return [Event(f"{_polarity(c.new_polarity)}_criterion_added",
                      f"new {_polarity(c.new_polarity)} criterion {c.new_id}: {_brief(c.new_text)}",
                      "criteria", None, c.new_text, c.new_id)]
    if c.status == "removed":
        return [Event(f"{_polarity(c.old_polarity)}_criterion_dropped",
                      f"{_polarity(c.old_polarity)} criterion {c.old_id} dropped: {_brief(c.old_text)}",
                      "criteria", c.old_text, None, c.old_id)]
    events = []
    if set(c.moved) & {"polarity", "category"}:
        level = SUBSTANTIVE if "polarity" in c.moved else COSMETIC
        events.append(Event("criterion_moved", f"criterion {c.old_id} moved to {c.new_id} "
                            f"({c.old_polarity}/{c.old_category} -> {c.new_polarity}/{c.new_category})",
                            "criteria", c.old_id, c.new_id, c.new_id, significance=level))
    for tag in c.tags:
        events += _tag_events(c, tag)
    return events


def _polarity(value: Optional[str]) -> str:
    return value if value in ("inclusion", "exclusion") else "inclusion"


def _tag_events(c: CriterionChange, tag) -> List[Event]:
    if tag.change != "changed" or tag.before_value is None or tag.after_value is None:
        return []
    if tag.label == "time_window":
        kind = "time_window_lengthened" if tag.after_value > tag.before_value else "time_window_shortened"
        return [Event(kind, f"time window in {c.new_id} {kind.rsplit('_', 1)[1]}: {tag.before} -> {tag.after}",
                      "criteria", tag.before, tag.after, c.new_id)]
    if tag.label == "value":
        direction = threshold_direction(tag.comparator, c.new_polarity or "inclusion",
                                        tag.before_value, tag.after_value)
        return [Event(f"threshold_{direction}", f"threshold in {c.new_id} {direction}: {tag.before} -> {tag.after}",
                      "criteria", tag.before, tag.after, c.new_id)]
    return []


def _outcome_events(o: OutcomeChange) -> List[Event]:
    if o.status in ("added", "removed"):
        kind = (o.new_kind if o.status == "added" else o.old_kind) or "other"
        measure = o.new_measure if o.status == "added" else o.old_measure
        if kind not in ("primary", "secondary"):
            return []
        return [Event(f"{kind}_outcome_{o.status}", f"{kind} outcome {o.status}: {_brief(measure)}", "outcomes",
                      None if o.status == "added" else measure, measure if o.status == "added" else None,
                      significance=o.significance or SUBSTANTIVE)]
    events = []
    if "kind" in o.changes and o.new_kind in ("primary", "secondary"):
        events.append(Event(f"outcome_moved_to_{o.new_kind}", f"outcome moved from {o.old_kind} to "
                            f"{o.new_kind}: {_brief(o.new_measure)}", "outcomes", o.old_kind, o.new_kind))
    for what in ("measure", "time_frame"):
        if what in o.changes and o.new_kind in ("primary", "secondary"):
            before = o.old_measure if what == "measure" else o.old_time_frame
            after = o.new_measure if what == "measure" else o.new_time_frame
            shown_before, shown_after = contrast(before, after, 80)
            events.append(Event(f"{o.new_kind}_outcome_changed", f"{o.new_kind} outcome "
                                f"{what.replace('_', ' ')} changed: {shown_before} -> {shown_after}",
                                f"outcomes.{what}", before, after,
                                significance=SUBSTANTIVE if what in o.substantive else COSMETIC))
    if "description" in o.substantive and o.new_kind in ("primary", "secondary"):  # it sets a new threshold
        events.append(Event(f"{o.new_kind}_outcome_changed", f"{o.new_kind} outcome description changed"
                            f" (a new threshold): {_brief(o.new_measure)}", "outcomes.description"))
    return events


def contrast(before: Any, after: Any, limit: int = 80) -> tuple:
    """Short forms of two texts that differ on screen too: when both would
    shorten alike, each starts a little before the first difference."""
    a, b = " ".join(str(before).split()), " ".join(str(after).split())
    if _brief(a, limit) != _brief(b, limit) or a == b:
        return _brief(a, limit), _brief(b, limit)
    start = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, a.rfind(" ", 0, max(0, start - 20)) + 1)
    return "…" + _brief(a[start:], limit - 1), "…" + _brief(b[start:], limit - 1)
