"""The record model: frozen dataclasses and their JSON form.

Every stage of the toolkit speaks this vocabulary. `to_dict` gives the JSON
form documented in `toolkit/schema/record.schema.json`; `from_dict` reads it
back and rejects unknown keys, so the round trip is lossless.

Conventions of the JSON form:
- keys are the dataclass field names, except `Sponsor.class_` -> `class`;
- `None` values and empty tuples/dicts are left out of the JSON;
- tuples become lists and back.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Tuple

from toolkit.errors import RecordError

try:  # optional accelerator: same bytes as the json module, checked below
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None

__all__ = [
    "Age", "Arm", "Criterion", "Design", "Eligibility", "Enrollment", "Identifier",
    "Intervention", "Investigator", "Link", "Location", "Outcome", "Section",
    "Source", "Sponsor", "Tag", "TrialRecord", "to_dict", "from_dict",
    "content_hash", "with_hash", "replace_fields", "compact_json", "walk_criteria",
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
    """One version of one trial record."""

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


# --- JSON form ---------------------------------------------------------------

_RENAMED = {"class_": "class"}
_UNRENAMED = {v: k for k, v in _RENAMED.items()}


_SCALARS = (str, int, float, bool)


def to_dict(obj: Any) -> Any:
    """Turn a model (or a tuple/dict of them) into its JSON form."""
    kind = type(obj)
    if kind in _PLAIN:
        return obj
    if kind is tuple or kind is list:
        return [v if type(v) in _PLAIN else to_dict(v) for v in obj]
    if kind is dict:
        return {k: v if type(v) in _PLAIN else to_dict(v) for k, v in obj.items()}
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(obj)


# Exact types returned as they are (subclasses take the general path).
_PLAIN = frozenset((str, int, float, bool, type(None)))
_CONVERTERS: dict = {}

# One field of a model in the generated converter: a plain value is kept
# unless None; anything else unless it is an empty tuple, list or dict.
_FIELD_CODE = """
    value = obj.{name}
    if type(value) in PLAIN:
        if value is not None:
            out[{key!r}] = value
    elif value or not isinstance(value, CONTAINERS):
        out[{key!r}] = to_dict(value)"""


def _converter(cls: type):
    """The `to_dict` function of one type: generated code for a dataclass
    (one unrolled block per field, as `dataclasses` builds `__init__`)."""
    names = _json_names(cls)
    if names is None:
        return _other_to_dict
    body = "".join(_FIELD_CODE.format(name=name, key=key) for name, key in names)
    source = f"def convert(obj):\n    out = {{}}{body}\n    return out\n"
    scope = {"PLAIN": _PLAIN, "CONTAINERS": (tuple, list, dict), "to_dict": to_dict}
    exec(compile(source, f"<to_dict of {cls.__name__}>", "exec"), scope)
    return scope["convert"]


def _other_to_dict(obj: Any) -> Any:
    """`to_dict` of anything but exact scalars, tuples, lists and dataclasses."""
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, (dict, Mapping)):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


@functools.lru_cache(maxsize=None)
def _json_names(cls: type):
    """(field name, JSON key) pairs of a dataclass type; None for other types."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple((f.name, _RENAMED.get(f.name, f.name)) for f in dataclasses.fields(cls))


def from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """Build a model of type `cls` from its JSON form.

    Raises:
        RecordError: on unknown keys, missing required keys or wrong shapes.
    """
    if not isinstance(data, Mapping):
        raise RecordError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    fields = _decoders(cls)
    kwargs = {}
    for key, value in data.items():
        decoder = fields.get(key)
        if decoder is None:
            raise RecordError(f"{cls.__name__}: unknown key {key!r}")
        name, convert, where = decoder
        kwargs[name] = value if value is None else convert(value, where)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise RecordError(f"{cls.__name__}: {exc}") from None


@functools.lru_cache(maxsize=None)
def _decoders(cls: type) -> dict:
    """{JSON key or field name: (field name, converter, "Class.key" for errors)}, built once per class."""
    hints = typing.get_type_hints(cls, vars(sys.modules[__name__]))
    out = {}
    for f in dataclasses.fields(cls):
        convert = _decoder_of(hints[f.name])
        for key in (f.name, _RENAMED.get(f.name, f.name)):
            out[key] = (f.name, convert, f"{cls.__name__}.{key}")
    return out


@functools.lru_cache(maxsize=None)
def _decoder_of(hint: Any) -> Callable[[Any, str], Any]:
    """A function converting a (non-null) JSON value to the annotated Python type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        return _decoder_of(next(a for a in args if a is not type(None)))  # None is handled by callers
    if origin in (tuple, Tuple):
        return _tuple_decoder(_decoder_of(args[0]))
    if dataclasses.is_dataclass(hint):
        return lambda value, where: from_dict(hint, value)
    return _same


def _tuple_decoder(item: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """A converter of a JSON list to a tuple of `item`-converted values (None stays None)."""
    def convert(value, where):
        if not isinstance(value, (list, tuple)):
            raise RecordError(f"{where}: expected a list")
        if item is _same:
            return tuple(value)
        return tuple(None if v is None else item(v, where) for v in value)
    return convert


def _same(value: Any, where: str) -> Any:
    """The converter of a JSON scalar: the value itself."""
    return value


# Eligibility fields derived from `Eligibility.text` by the parser and tagger:
# left out of the hash so a better parser does not invent new versions.
_DERIVED_ELIGIBILITY = ("criteria", "headings", "notes")


def content_hash(record: TrialRecord) -> str:
    """Hash of the source content of a record.

    Leaves out where the record was read from and what the toolkit derived
    (criteria tree, tags), so the same source content always hashes alike.
    The derived parts are dropped before the JSON form is built, so the
    cost does not grow with the criteria tree.
    """
    blob = compact_json(to_dict(_source_content(record)), sort_keys=True)
    return hashlib.sha256(blob).hexdigest()[:20]


# Types orjson would write but json refuses (or writes otherwise) raise instead.
_ORJSON_OPTIONS = (orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME) if orjson is not None else 0
_DIGITS = frozenset(b"0123456789")


def _orjson_may_differ(blob: bytes) -> bool:
    """Whether orjson's bytes may differ from the json module's.

    They differ on floats under 1e-4 (0.00001 vs 1e-05, 1.9e-6 vs 1.9e-06)
    and on NaN and infinities (null vs NaN); exponent forms are refused too.
    A marker anywhere, even inside a string, means: let json write it.
    (`in` and `find` run at memory speed; a regex over the blob cost more
    than the json module saves.)
    """
    if b"null" in blob or b"0.0000" in blob:
        return True
    for marker in (b"e-", b"e+"):
        at = blob.find(marker, 1)
        while at > 0:
            if blob[at - 1] in _DIGITS:
                return True
            at = blob.find(marker, at + 2)
    return False


def compact_json(data: Any, *, sort_keys: bool = False) -> bytes:
    """`json.dumps(data, ensure_ascii=False, separators=(",", ":"))` as UTF-8 bytes.

    orjson gives the same bytes three times faster; where its output could
    differ (see `_orjson_may_differ`) or it refuses the data, the json module
    does the work, so the bytes (and the hashes made from them) never change.

    Args:
        data: plain dicts, lists and scalars (a `to_dict` result).
        sort_keys: sort object keys (the canonical form for hashing).

    Raises:
        UnicodeEncodeError: a string holds a lone surrogate.
    """
    if orjson is not None:
        try:
            blob = orjson.dumps(data, option=_ORJSON_OPTIONS | (orjson.OPT_SORT_KEYS if sort_keys else 0))
        except TypeError:  # non-string keys, huge ints, surrogates: json decides
            blob = None
        if blob is not None and not _orjson_may_differ(blob):
            return blob
    text = json.dumps(data, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def _source_content(record: TrialRecord) -> TrialRecord:
    """The record without hash, source and derived eligibility fields."""
    changes = {"content_hash": None, "source": None}
    eligibility = record.eligibility
    if eligibility is not None and any(getattr(eligibility, k) for k in _DERIVED_ELIGIBILITY):
        changes["eligibility"] = replace_fields(eligibility, **{k: () for k in _DERIVED_ELIGIBILITY})
    return replace_fields(record, **changes)


def with_hash(record: TrialRecord) -> TrialRecord:
    """Return the record with its `content_hash` filled in."""
    return replace_fields(record, content_hash=content_hash(record))


def replace_fields(obj: Any, **changes: Any) -> Any:
    """`dataclasses.replace` for the models, without re-running `__init__`.

    The models are frozen dataclasses with no `__post_init__`; copying the
    instance dictionary and setting the changed fields gives the same object
    as `dataclasses.replace`, several times faster.

    Raises:
        TypeError: a name in `changes` is not a field of `obj`.
    """
    cls = type(obj)
    names = _field_names(cls)
    if names is None or not hasattr(obj, "__dict__"):
        return dataclasses.replace(obj, **changes)
    unknown = [name for name in changes if name not in names]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {unknown[0]!r}")
    new = object.__new__(cls)
    state = dict(obj.__dict__)
    state.update(changes)
    object.__setattr__(new, "__dict__", state)
    return new


@functools.lru_cache(maxsize=None)
def _field_names(cls: type):
    """Field names of a dataclass without `__post_init__` or init-only fields; else None."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    if any(not f.init for f in fields):
        return None
    return frozenset(f.name for f in fields)
