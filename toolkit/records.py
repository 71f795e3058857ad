"""The record model: frozen dataclasses, the one vocabulary of every stage.

`to_dict` gives the JSON form documented in `toolkit/schema/record.schema.json`
and `from_dict` reads it back (both from `toolkit.codec`); canonical JSON and
the content hash are `toolkit.canonical`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple

from toolkit.codec import from_dict, replace_fields, to_dict

__all__ = [
    "Age", "Arm", "Criterion", "Design", "Eligibility", "Enrollment", "Identifier",
    "Intervention", "Investigator", "Link", "Location", "Outcome", "Section",
    "Source", "Sponsor", "Tag", "TrialRecord", "to_dict", "from_dict", "replace_fields", "walk_criteria",
]


class _Model:
    """Mixin giving every model `to_dict` and `from_dict`."""

    def to_dict(self) -> dict:
        """Return the JSON form (plain dicts, lists and scalars)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        """Build an instance from its JSON form; unknown keys raise `RecordError`."""
        return from_dict(cls, data)


@dataclass(frozen=True)
class Tag(_Model):
    """A typed span inside a criterion text (offsets into `Criterion.text`).

    `label` is one of drug, condition, time_window, temporal, value, negation,
    exception, abbreviation (open vocabulary). Time windows fill relation ..
    anchor and `bounds` (the norm of the drug, procedure or condition the window
    limits); values fill measurement, comparator, number/low/high and unit.
    """

    label: str
    text: str
    start: int
    end: int
    norm: Optional[str] = None
    code: Optional[str] = None
    relation: Optional[str] = None
    amount: Optional[float] = None
    unit: Optional[str] = None
    days: Optional[float] = None
    low_days: Optional[float] = None
    high_days: Optional[float] = None
    direction: Optional[str] = None
    anchor: Optional[str] = None
    measurement: Optional[str] = None
    comparator: Optional[str] = None
    number: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None
    negated: Optional[bool] = None
    cue: Optional[str] = None
    bounds: Optional[str] = None
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Criterion(_Model):
    """One eligibility criterion: a bullet, its text and its nested bullets.

    `start`/`end` are character offsets into `Eligibility.text` covering every
    source line of this criterion (not its children). `text` is the joined,
    unescaped text of those lines without the bullet marker.
    """

    id: str
    polarity: str  # inclusion | exclusion | unknown
    text: str
    start: int
    end: int
    category: Optional[str] = None
    children: Tuple["Criterion", ...] = ()
    tags: Tuple[Tag, ...] = ()


@dataclass(frozen=True)
class Age(_Model):
    """An age limit as written plus its parsed value, unit and years."""

    text: Optional[str] = None
    value: Optional[float] = None
    unit: Optional[str] = None
    years: Optional[float] = None


@dataclass(frozen=True)
class Eligibility(_Model):
    """The eligibility block: raw text, age and sex limits, the criteria tree."""

    text: str = ""
    min_age: Optional[Age] = None
    max_age: Optional[Age] = None
    sex: Optional[str] = None  # ALL | FEMALE | MALE
    healthy_volunteers: Optional[bool] = None
    std_ages: Tuple[str, ...] = ()
    gender_based: Optional[bool] = None
    gender_description: Optional[str] = None
    sampling_method: Optional[str] = None
    study_population: Optional[str] = None
    criteria: Tuple[Criterion, ...] = ()
    headings: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Enrollment(_Model):
    """Enrollment count and whether it is ACTUAL or ESTIMATED."""

    count: Optional[int] = None
    type: Optional[str] = None


@dataclass(frozen=True)
class Design(_Model):
    """Study design; observational studies fill the last two fields."""

    allocation: Optional[str] = None
    intervention_model: Optional[str] = None
    primary_purpose: Optional[str] = None
    masking: Optional[str] = None
    who_masked: Tuple[str, ...] = ()
    observational_model: Optional[str] = None
    time_perspective: Optional[str] = None
    description: Optional[str] = None


@dataclass(frozen=True)
class Arm(_Model):
    """An arm or group with the names of its interventions."""

    label: str
    type: Optional[str] = None
    description: Optional[str] = None
    interventions: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Intervention(_Model):
    """An intervention: drug, device, procedure, behavioural ..."""

    name: str
    type: Optional[str] = None
    description: Optional[str] = None
    other_names: Tuple[str, ...] = ()
    arm_labels: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome(_Model):
    """An outcome measure; `kind` is primary, secondary or other."""

    kind: str
    measure: str
    time_frame: Optional[str] = None
    description: Optional[str] = None


@dataclass(frozen=True)
class Sponsor(_Model):
    """A lead sponsor or collaborator; `class_` is the JSON key `class`."""

    name: str
    role: str = "lead"  # lead | collaborator
    class_: Optional[str] = None


@dataclass(frozen=True)
class Investigator(_Model):
    """An official, responsible party or contact person."""

    name: Optional[str] = None
    role: Optional[str] = None
    affiliation: Optional[str] = None
    degree: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None


@dataclass(frozen=True)
class Location(_Model):
    """A study site."""

    facility: Optional[str] = None
    city: Optional[str] = None
    state: Optional[str] = None
    zip: Optional[str] = None
    country: Optional[str] = None
    status: Optional[str] = None


@dataclass(frozen=True)
class Link(_Model):
    """A related link or reference."""

    label: Optional[str] = None
    url: Optional[str] = None
    kind: Optional[str] = None  # link | reference | citation ...
    pmid: Optional[str] = None


@dataclass(frozen=True)
class Identifier(_Model):
    """A secondary identifier (org study id, EudraCT number, grant ...)."""

    id: str
    type: Optional[str] = None
    source: Optional[str] = None


@dataclass(frozen=True)
class Section(_Model):
    """A titled block of the source, in source order."""

    heading: str
    text: str = ""


@dataclass(frozen=True)
class Source(_Model):
    """Where a record came from: format, file, entry inside an archive, position."""

    format: str
    path: Optional[str] = None
    entry: Optional[str] = None
    index: Optional[int] = None


@dataclass(frozen=True)
class TrialRecord(_Model):
    """One version of one trial record.

    `status`, `phases`, `study_type`, `eligibility.sex` and location countries
    are in the one vocabulary (`toolkit.normalize.vocabulary`); `raw_values`
    keeps the registry's own spelling of each where it differs (or could not
    be mapped): keys status, phases, study_type, sex, countries.
    """

    registry: str
    trial_id: str
    version: Optional[str] = None
    content_hash: Optional[str] = None
    secondary_ids: Tuple[Identifier, ...] = ()
    title: Optional[str] = None
    official_title: Optional[str] = None
    acronym: Optional[str] = None
    status: Optional[str] = None
    why_stopped: Optional[str] = None
    phases: Tuple[str, ...] = ()
    study_type: Optional[str] = None
    enrollment: Optional[Enrollment] = None
    start_date: Optional[str] = None
    primary_completion_date: Optional[str] = None
    completion_date: Optional[str] = None
    first_posted: Optional[str] = None
    last_updated: Optional[str] = None
    design: Optional[Design] = None
    conditions: Tuple[str, ...] = ()
    keywords: Tuple[str, ...] = ()
    condition_mesh: Tuple[str, ...] = ()
    intervention_mesh: Tuple[str, ...] = ()
    brief_summary: Optional[str] = None
    detailed_description: Optional[str] = None
    arms: Tuple[Arm, ...] = ()
    interventions: Tuple[Intervention, ...] = ()
    outcomes: Tuple[Outcome, ...] = ()
    sponsors: Tuple[Sponsor, ...] = ()
    investigators: Tuple[Investigator, ...] = ()
    locations: Tuple[Location, ...] = ()
    links: Tuple[Link, ...] = ()
    sections: Tuple[Section, ...] = ()
    eligibility: Optional[Eligibility] = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw_values: Mapping[str, Any] = field(default_factory=dict)
    source: Optional[Source] = None

    @property
    def key(self) -> Tuple[str, str]:
        """(registry, trial_id): the identity of the trial across versions."""
        return (self.registry, self.trial_id)

    def all_criteria(self):
        """Yield every criterion of the tree, depth first, in source order."""
        if self.eligibility is not None:
            yield from walk_criteria(self.eligibility.criteria)


def walk_criteria(criteria):
    """Yield criteria and their descendants depth first, in source order."""
    for criterion in criteria:
        yield criterion
        yield from walk_criteria(criterion.children)
