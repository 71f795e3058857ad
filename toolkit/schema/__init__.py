"""JSON Schemas of the toolkit's public JSON forms, shipped inside the package.

`record.schema.json` documents `TrialRecord.to_dict()`; it is generated from
the dataclasses in `toolkit.records` by `scripts/build_schema.py` (see
`toolkit.schema.build`), so schema and model cannot drift.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from toolkit.errors import ToolkitError

__all__ = ["load_schema", "schema_names"]


def schema_names() -> list:
    """Names of the shipped schemas (`record`, ...)."""
    suffix = ".schema.json"
    return sorted(p.name[: -len(suffix)] for p in resources.files(__name__).iterdir()
                  if p.name.endswith(suffix))


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    path = resources.files(__name__) / f"{name}.schema.json"
    if not path.is_file():
        raise ToolkitError(f"no schema named {name!r} (known: {', '.join(schema_names())})")
    return path.read_text(encoding="utf-8")


def load_schema(name: str = "record") -> dict:
    """The JSON Schema called `name` (a fresh dict each call).

    Raises:
        ToolkitError: no schema of that name ships with the toolkit.
    """
    return json.loads(_load(name))
