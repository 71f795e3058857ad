"""Country names to ISO 3166 through `pycountry` (the maintained ISO tables).

`country(text)` returns the ISO 3166 short name ("Russia" and "Russian
Federation" both give "Russian Federation") and `country_code(text)` its
alpha-2 code. Names pycountry cannot look up are read through the small
alias table `countries.json`; anything else (a region, a city, "??") gives
None: the caller keeps the raw text and counts it as unmapped.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Optional

__all__ = ["country", "country_code"]

# ISO 3166 names that read oddly in a registry table: the common name instead
_KNOWN_AS = {"XK": "Kosovo"}


@functools.lru_cache(maxsize=1)
def _aliases() -> dict:
    text = resources.files("toolkit.normalize").joinpath("countries.json").read_text("utf-8")
    return json.loads(text)["aliases"]


@functools.lru_cache(maxsize=4096)
def country_code(text: Optional[str]) -> Optional[str]:
    """The ISO 3166-1 alpha-2 code of a country name or code; None when unknown."""
    if not text or not text.strip():
        return None
    key = " ".join(text.strip().split())
    alias = _aliases().get(key.lower())
    if alias:
        return alias
    try:
        import pycountry
    except ImportError:  # pragma: no cover - pycountry is a dependency
        return None
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return None


def country(text: Optional[str]) -> Optional[str]:
    """The ISO 3166 short name of a country name; None when it names no country."""
    code = country_code(text)
    if code is None:
        return None
    if code in _KNOWN_AS:
        return _KNOWN_AS[code]
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return found.name if found is not None else None
