"""Search engines behind one small interface (see `base.Engine`).

Engine modules import their library lazily, so `ptk` runs without the
optional tantivy extra until `--engine tantivy` is asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from toolkit.errors import SearchIndexError
from toolkit.index.engines.base import Engine, Hit

__all__ = ["ENGINES", "DEFAULT_ENGINE", "Engine", "Hit", "engine_class", "open_engine"]

ENGINES = {"whoosh": "whoosh_engine", "tantivy": "tantivy_engine"}
DEFAULT_ENGINE = "whoosh"


def engine_class(name: str) -> type:
    """The engine class registered under `name`.

    Raises:
        SearchIndexError: unknown engine, or its library is not installed.
    """
    module_name = ENGINES.get(name)
    if module_name is None:
        raise SearchIndexError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")
    try:
        module = importlib.import_module(f"toolkit.index.engines.{module_name}")
    except ImportError as exc:
        raise SearchIndexError(
            f"engine {name!r} needs a library that is not installed ({exc.name}): "
            f"pip install 'ptk[{name}]'"
        ) from None
    return module.ENGINE


def open_engine(name: str, path: Path) -> Engine:
    """An engine object for the index directory `path` (not yet opened)."""
    return engine_class(name)(Path(path))
