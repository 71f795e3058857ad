"""The JSON form of frozen dataclasses: `to_dict`, `from_dict`, `replace_fields`.

Generic over any dataclass (the record model in `toolkit.records` uses it):
- keys are the field names, except `class_` -> `class`;
- `None` values and empty tuples/dicts are left out of the JSON;
- tuples become lists and back; `from_dict` rejects unknown keys, so the
  round trip is lossless.
`to_dict` runs one generated converter per type (one unrolled block per
field, as `dataclasses` builds `__init__`); `from_dict` one table of field
decoders per type: decoding a stored record is the cost of every store read.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import typing
from typing import Any, Callable, Mapping, Tuple

from toolkit.errors import RecordError

__all__ = ["to_dict", "from_dict", "replace_fields"]

RENAMED = {"class_": "class"}
UNRENAMED = {v: k for k, v in RENAMED.items()}


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
    return tuple((f.name, RENAMED.get(f.name, f.name)) for f in dataclasses.fields(cls))


def from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """Build a model of type `cls` from its JSON form.

    Raises:
        RecordError: on unknown keys, missing required keys or wrong shapes.
    """
    decode = _FAST_DECODERS.get(cls)
    if decode is None:
        decode = _fast_decoder(cls)
    return decode(data)


def _checked_from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """`from_dict` key by key: what the generated decoder falls back on, and what names every error."""
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


# The generated decoder of each model type (see `_fast_decoder`).
_FAST_DECODERS: dict = {}
_MISSING = object()


def _fast_decoder(cls: type) -> Callable[[Any], Any]:
    """The `from_dict` of one type: generated code, one block per field.

    It reads a plain dict whose keys are all known, list-valued fields as
    lists; anything else (another mapping, an unknown or missing key, a
    wrong shape) goes to `_checked_from_dict`, which decodes it or raises
    the same error as before. The state is a copy of a template of every
    field (its default) updated with the data, so only the fields that
    nest models or tuples cost Python code; the instance is built by
    setting that `__dict__` (the models have no `__post_init__`), as
    `replace_fields` does, else by calling the class. The decoders of the
    types it nests are made with it, and all are published once complete.
    """
    building: dict = {}
    decode = _generate(cls, building)
    _FAST_DECODERS.update(building)
    return decode


def _generate(cls: type, building: dict) -> Callable[[Any], Any]:
    """Generate the decoder of `cls` into `building` (and those of the types it nests)."""
    if not dataclasses.is_dataclass(cls):
        decode = building[cls] = functools.partial(_checked_from_dict, cls)
        return decode
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    scope = {"cls": cls, "MISSING": _MISSING, "new": object.__new__, "set_attr": object.__setattr__,
             "slow": functools.partial(_checked_from_dict, cls)}
    template, known, renamed, checks, converts, nested = {}, set(), [], [], [], []
    for i, f in enumerate(dataclasses.fields(cls)):
        key = RENAMED.get(f.name, f.name)
        known.update((f.name, key))
        if key != f.name:
            renamed.append(f"    if {key!r} in state:\n        state[{f.name!r}] = state.pop({key!r})")
        template[f.name] = f.default if f.default is not dataclasses.MISSING else _MISSING
        scope[f"default{i}"] = template[f.name]
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            checks.append(f"    if state[{f.name!r}] is MISSING:\n        return slow(data)")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"factory{i}"] = f.default_factory
            checks.append(f"    if state[{f.name!r}] is MISSING:\n        state[{f.name!r}] = factory{i}()")
        kind, item = _field_kind(hints[f.name])
        if kind == "same":
            continue
        converts.append(f"    v = state[{f.name!r}]")
        if kind in ("tuple", "models"):
            decoded = "tuple(v)" if kind == "tuple" else f"tuple([x if x is None else decode{i}(x) for x in v])"
            converts.append(f"    if type(v) is list:\n        state[{f.name!r}] = {decoded}\n"
                            f"    elif v is not None and v is not default{i}:\n        return slow(data)")
        elif kind == "model":
            converts.append(f"    if v is not None and v is not default{i}:\n        state[{f.name!r}] = decode{i}(v)")
        else:
            scope[f"convert{i}"] = _decoder_of(hints[f.name])
            converts.append(f"    if v is not None and v is not default{i}:\n"
                            f"        state[{f.name!r}] = convert{i}(v, {cls.__name__ + '.' + key!r})")
        if item is not None:
            nested.append((f"decode{i}", item))
    scope["KNOWN"], scope["TEMPLATE"] = frozenset(known), template
    if _field_names(cls) is not None and not hasattr(cls, "__slots__"):
        build = "    obj = new(cls)\n    set_attr(obj, '__dict__', state)\n    return obj"
    else:
        build = "    return cls(**state)"
    # The template holds every field in order (defaults, or MISSING); the data's values replace them in place.
    source = "\n".join(["def decode(data):", "    if type(data) is not dict or not data.keys() <= KNOWN:",
                         "        return slow(data)", "    state = TEMPLATE.copy()", "    state.update(data)",
                         *renamed, *checks, *converts, build]) + "\n"
    exec(compile(source, f"<from_dict of {cls.__name__}>", "exec"), scope)
    decode = building[cls] = scope["decode"]
    for name, item in nested:  # after adding it: a model may nest itself (criteria in criteria)
        scope[name] = _FAST_DECODERS.get(item) or building.get(item) or _generate(item, building)
    return decode


def _field_kind(hint: Any) -> Tuple[str, Any]:
    """How a field's JSON value is decoded: ("same"|"tuple"|"model"|"models"|"other", the model type)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        return _field_kind(next(a for a in args if a is not type(None)))
    if origin in (tuple, Tuple) and args:
        if _decoder_of(args[0]) is _same:
            return "tuple", None
        if dataclasses.is_dataclass(args[0]) and isinstance(args[0], type):
            return "models", args[0]
        return "other", None
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return "model", hint
    return ("same", None) if _decoder_of(hint) is _same else ("other", None)


@functools.lru_cache(maxsize=None)
def _decoders(cls: type) -> dict:
    """{JSON key or field name: (field name, converter, "Class.key" for errors)}, built once per class."""
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    out = {}
    for f in dataclasses.fields(cls):
        convert = _decoder_of(hints[f.name])
        for key in (f.name, RENAMED.get(f.name, f.name)):
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
