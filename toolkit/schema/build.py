"""Generate the record JSON Schema from the dataclasses of `toolkit.records`.

Each dataclass becomes a `$defs` entry: its fields as properties with JSON
types, fields without a default as `required`, `additionalProperties: false`,
the class docstring as description and a field's trailing `# comment` (or
its `Attributes:` docstring entry) as the field's description. The JSON form
leaves out `None` and empty lists, so optional fields are never `null`.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Any, Mapping

from toolkit import codec, records

__all__ = ["SCHEMA_ID", "build_record_schema", "dump_schema"]

SCHEMA_ID = "https://ptk.invalid/schema/record.schema.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_FIELD_COMMENT = re.compile(r"^\s+(\w+)\s*:[^#\n]*#\s*(.+)$", re.MULTILINE)
_ATTRIBUTE_LINE = re.compile(r"^\s+(\w+)(?:\s*/\s*\w+)*:\s+(.+)$")


def build_record_schema() -> dict:
    """The JSON Schema (draft 2020-12) of `TrialRecord.to_dict()`."""
    defs = {}
    _collect(records.TrialRecord, defs)
    root = defs.pop("TrialRecord")
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "TrialRecord",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def dump_schema(schema: Mapping) -> str:
    """The schema as shipped: indented JSON with a final newline."""
    import json

    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _collect(cls: type, defs: dict) -> None:
    """Add `cls` and every dataclass it refers to into `defs`."""
    if cls.__name__ in defs:
        return
    defs[cls.__name__] = {}  # reserve the name: models may refer to themselves
    hints = typing.get_type_hints(cls, vars(records))
    notes = _field_notes(cls)
    properties, required = {}, []
    for f in dataclasses.fields(cls):
        key = codec.RENAMED.get(f.name, f.name)
        prop = _type_schema(hints[f.name], defs)
        if f.name in notes:
            prop = {"description": notes[f.name], **prop}
        properties[key] = prop
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(key)
    defs[cls.__name__] = _object(cls, properties, required)


def _object(cls: type, properties: dict, required: list) -> dict:
    schema = {"type": "object", "description": _class_description(cls), "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _type_schema(hint: Any, defs: dict) -> dict:
    """The JSON Schema of one annotated type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return _type_schema(inner[0], defs)
    if origin is tuple:
        return {"type": "array", "items": _type_schema(args[0], defs)}
    if origin in (Mapping, dict) or hint in (dict, Mapping):
        return {"type": "object"}
    if dataclasses.is_dataclass(hint):
        _collect(hint, defs)
        return {"$ref": f"#/$defs/{hint.__name__}"}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    return {}


def _class_description(cls: type) -> str:
    """The class docstring without its `Attributes:` section, on one line per paragraph."""
    doc = inspect.getdoc(cls) or ""
    doc = doc.split("\nAttributes:")[0].strip()
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    return "\n".join(p for p in paragraphs if p)


def _field_notes(cls: type) -> dict:
    """Field descriptions: `Attributes:` docstring entries, then trailing comments."""
    notes = {}
    doc = inspect.getdoc(cls) or ""
    if "\nAttributes:" in doc:
        for line in doc.split("\nAttributes:")[1].splitlines():
            match = _ATTRIBUTE_LINE.match(line)
            if match:
                notes[match.group(1)] = match.group(2).strip()
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return notes
    for name, comment in _FIELD_COMMENT.findall(source):
        notes.setdefault(name, comment.strip())
    return notes
