"""Value helpers shared by the XML mappers (`ctgov_xml`, `ictrp_xml`).

Registry values become the record model's spelling here: API v2 enums
(`enum_value`, irregular spellings in `ctgov_xml_enums.json`), ISO dates
(`iso_date`), hard-wrapped text blocks (`block_text`), age limits
(`age_limit`), and whole elements kept as JSON in `extra` (`as_json`).
They run for every value of every record, so they avoid per-line Python
work, and the pure lookups are cached.
"""

from __future__ import annotations

import functools
import json
import xml.etree.ElementTree as ET
from importlib import resources
from typing import Any, Dict, Optional, Tuple

from toolkit.normalize import fields
from toolkit.normalize.fields import iso_date
from toolkit.normalize.ages import parse_age
from toolkit.records import Age, Design

__all__ = ["ENUMS", "iso_date", "enum_value", "block_text", "age_limit", "as_json", "masking_of", "design_from"]

ENUMS: Dict[str, Dict[str, Any]] = json.loads(
    resources.files("toolkit.formats").joinpath("xml_enums.json").read_text("utf-8")
)


@functools.lru_cache(maxsize=4096)
def enum_value(text: Optional[str], table: Optional[str] = None) -> Optional[str]:
    """Spell a value as an API v2 enum: "Active, not recruiting" -> ACTIVE_NOT_RECRUITING.

    Args:
        text: the value as written.
        table: a table of `ctgov_xml_enums.json` with irregular spellings.

    Returns:
        The enum spelling, or None for a blank value.
    """
    text = fields.clean_text(text)
    if text is None:
        return None
    special = ENUMS.get(table, {}).get(text) if table else None
    return special if special is not None else fields.enum_token(text)


def block_text(text: Optional[str]) -> str:
    """Normalise a hard-wrapped text block: line ends to `\\n`, indent removed.

    The indent of the first line (the block's margin in the XML) is removed
    from every line that has it; deeper indents keep the rest, so nesting
    shows. Lines are not re-wrapped; blank lines at both ends are removed.
    Only whole-string operations: this runs for every text of every record.

    Args:
        text: the text of a `<textblock>` (CR characters allowed).

    Returns:
        The normalised text ("" for None).
    """
    if not text:
        return ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = text.lstrip("\n")
    margin = len(body) - len(body.lstrip(" "))
    if margin:
        body = body[margin:].replace("\n" + " " * margin, "\n")
    return body.rstrip()


@functools.lru_cache(maxsize=1024)
def age_limit(text: Optional[str]) -> Optional[Age]:
    """An age limit as written plus its parsed value (via `toolkit.normalize.ages`).

    Args:
        text: the limit as written ("18 Years", "N/A" ...).

    Returns:
        An `Age`, or None when the text is blank.
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    return parse_age(text) or Age(text=text)


def masking_of(text: Optional[str]) -> Tuple[Optional[str], Tuple[str, ...]]:
    """Masking and who is masked: "Double (Participant, Investigator)" -> DOUBLE, (PARTICIPANT, INVESTIGATOR).

    Args:
        text: the masking as written.

    Returns:
        (masking enum or None, roles as enums).
    """
    if not text or text.strip() in ENUMS["masking"]:
        return enum_value(text, "masking"), ()
    kind, _, roles = text.partition("(")
    who = tuple(enum_value(r, "who_masked") for r in roles.rstrip(") ").split(",") if r.strip())
    return enum_value(kind, "masking"), who


def design_from(values: Dict[str, Optional[str]]) -> Design:
    """A `Design` from study design values named as in the legacy XML.

    Args:
        values: `allocation`, `intervention_model`, `primary_purpose`, `masking`,
            `observational_model`, `time_perspective`, `intervention_model_description`
            -> text. The keys used are removed; the caller keeps the rest.

    Returns:
        The design, values spelled as API v2 enums.
    """
    masking, who = masking_of(values.pop("masking", None))
    return Design(
        allocation=enum_value(values.pop("allocation", None), "allocation"),
        intervention_model=enum_value(values.pop("intervention_model", None), "intervention_model"),
        primary_purpose=enum_value(values.pop("primary_purpose", None), "primary_purpose"),
        masking=masking, who_masked=who,
        observational_model=enum_value(values.pop("observational_model", None)),
        time_perspective=enum_value(values.pop("time_perspective", None)),
        description=values.pop("intervention_model_description", None),
    )


def as_json(elem: ET.Element) -> Any:
    """An element as plain JSON: text for a leaf, a dict of children otherwise."""
    if len(elem) == 0:
        text = (elem.text or "").strip()
        if not elem.attrib:
            return block_text(text) if "\n" in text else text
        return dict(elem.attrib, **({"text": text} if text else {}))
    out: Dict[str, Any] = dict(elem.attrib)
    for child in elem:
        value = as_json(child)
        if child.tag in out:
            old = out[child.tag]
            out[child.tag] = old + [value] if isinstance(old, list) else [old, value]
        else:
            out[child.tag] = value
    return out
