"""Format detection: which reader understands a member, from its content.

Each reader module (`toolkit.formats.<package>.read`, see `table.py`) exposes `FORMAT`, `sniff(head,
name)` and `read(stream, *, path, entry)`. `detect` offers the first bytes
of a member to the readers in registry order (most specific first, the
permissive plain-text `page` reader last) and returns the first that
claims it. A reader listed in the registry but not written yet is skipped.
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType
from typing import Dict, Optional, Sequence

from toolkit.errors import UnknownFormatError
from toolkit.formats.table import reader_module

__all__ = ["HEAD_SIZE", "available_readers", "load_reader", "detect"]

HEAD_SIZE = 16 * 1024


@functools.lru_cache(maxsize=None)
def _import(name: str) -> Optional[ModuleType]:
    """The reader module of a format, or None when it cannot load.

    A reader that fails to import is skipped with a warning, so one broken
    reader does not stop the others from reading their formats.
    """
    try:
        return reader_module(name)
    except Exception as exc:  # a broken reader module must not break the other formats
        warnings.warn(f"reader {name!r} cannot be loaded: {exc}", RuntimeWarning, stacklevel=2)
        return None


def available_readers(names: Sequence[str]) -> Dict[str, ModuleType]:
    """The reader modules that exist, by format name, in registry order."""
    found = {name: _import(name) for name in names}
    return {name: module for name, module in found.items() if module is not None}


def load_reader(name: str, names: Sequence[str]) -> ModuleType:
    """The reader of a format forced by the caller.

    Raises:
        UnknownFormatError: the name is not a format, or its reader is missing.
    """
    if name not in names:
        raise UnknownFormatError(None, f"unknown format {name!r}; known: {', '.join(names)}")
    module = _import(name)
    if module is None:
        raise UnknownFormatError(None, f"format {name!r} has no reader installed")
    return module


def detect(head: bytes, name: str, names: Sequence[str]) -> Optional[ModuleType]:
    """The first reader whose `sniff` claims the content, or None.

    Args:
        head: the first `HEAD_SIZE` bytes of the member.
        name: the member's file or entry name (a hint; content decides).
        names: the format names in the order to try.
    """
    for module in available_readers(names).values():
        if module.sniff(head, name):
            return module
    return None
