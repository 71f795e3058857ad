"""Map an ICTRP weekly-export version line to a `TrialRecord`.

`version` is the snapshot date the version was first seen in (its version
date); `extra.version_index` its number. The export's columns map to the
model; the rest (results flags, bridging, address) go to `extra`. Export
bookkeeping (`Export date`, snapshots seen in) goes to `extra` too, under
names the diff leaves out (see `toolkit.diff.fields.BOOKKEEPING`).
ICTRP's converter debris (`_x000D_`, `<br>`) becomes line breaks.
"""

from __future__ import annotations

import html
import re
from typing import Any, List, Optional, Tuple

from toolkit.errors import InputError
from toolkit.normalize.ages import in_years, parse_age
from toolkit.normalize.fields import as_int, iso_date, phase_list, sex_enum, status_enum
from toolkit.formats.raw import RawRecord
from toolkit.records import (
    Design, Eligibility, Enrollment, Intervention, Investigator, Link, Location, Outcome,
    Section, Sponsor, TrialRecord,
)

__all__ = ["to_record", "REGISTRIES", "clean"]

REGISTRIES = {
    "clinicaltrials.gov": "ctgov", "chictr": "chictr", "eu clinical trials register": "euctr",
    "german clinical trials register": "drks", "irct": "irct", "netherlands trial register": "ntr",
    "ctri": "ctri", "isrctn": "isrctn", "anzctr": "anzctr", "jprn": "jprn", "rebec": "rebec",
    "tctr": "tctr", "rpcec": "rpcec", "pactr": "pactr", "cris": "cris", "lbctr": "lbctr", "repec": "repec",
}
_MAPPED = {
    "TrialID", "Last Refreshed on", "Public title", "Scientific title", "Acronym", "Primary sponsor",
    "Date registration", "Source Register", "web address", "Recruitment Status", "Inclusion agemin",
    "Inclusion agemax", "Inclusion gender", "Date enrollement", "Target size", "Study type",
    "Study design", "Phase", "Countries", "Contact Firstname", "Contact Lastname", "Contact Email",
    "Contact Tel", "Contact Affiliation", "Inclusion Criteria", "Exclusion Criteria", "Condition",
    "Intervention", "Primary outcome", "Export date",
}
_DEBRIS = re.compile(r"_x000[dD]_\s*<br\s*/?>|<br\s*/?>|_x000[dD]_", re.I)
_EU_LABELS = ("Main Objective", "Secondary Objective", "Primary end point(s)",
              "Timepoint(s) of evaluation of this end point", "Secondary end point(s)")
_EU_SEGMENT = re.compile("(?:^|;)\\s*(" + "|".join(re.escape(x) for x in _EU_LABELS) + "):")
_EU_PHASE = re.compile(r"\(Phase (I{1,3}V?|IV)\):\s*yes", re.I)


def clean(value: Any) -> Optional[str]:
    """Text without ICTRP debris: `_x000D_`/`<br>` become line breaks, entities decoded."""
    if value is None:
        return None
    text = html.unescape(_DEBRIS.sub("\n", str(value)))
    lines = [line.rstrip() for line in text.splitlines()]
    text = "\n".join(lines).strip("\n")
    return text if text.strip() else None


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one version line.

    Raises:
        InputError: the line has no trial id.
    """
    line = raw.payload
    rec = line.get("record") if isinstance(line, dict) else None
    trial_id = clean((rec or {}).get("TrialID")) or clean(line.get("TrialID") if isinstance(line, dict) else None)
    if not isinstance(rec, dict) or not trial_id:
        raise InputError(raw.path, "ICTRP version line without TrialID", raw.where())
    outcomes, sections = _outcomes(rec.get("Primary outcome"))
    return TrialRecord(
        registry=_registry(rec.get("Source Register"), trial_id), trial_id=trial_id.strip(),
        version=clean(line.get("first_seen_snapshot")), title=clean(rec.get("Public title")),
        official_title=clean(rec.get("Scientific title")), acronym=clean(rec.get("Acronym")),
        status=status_enum(clean(rec.get("Recruitment Status"))), phases=_phases(rec.get("Phase")),
        study_type=clean(rec.get("Study type")), enrollment=_enrollment(rec.get("Target size")),
        start_date=iso_date(clean(rec.get("Date enrollement"))),
        first_posted=iso_date(clean(rec.get("Date registration"))),
        last_updated=iso_date(clean(rec.get("Last Refreshed on"))),
        design=Design(description=design) if (design := clean(rec.get("Study design"))) else None,
        conditions=_split(rec.get("Condition")), interventions=_interventions(rec.get("Intervention")),
        outcomes=outcomes, sections=sections,
        sponsors=tuple(Sponsor(s, "lead") for s in _split(rec.get("Primary sponsor"))),
        investigators=_contact(rec), locations=tuple(Location(country=c) for c in _split(rec.get("Countries"))),
        links=(Link(url=url, kind="registry"),) if (url := clean(rec.get("web address"))) else (),
        eligibility=_eligibility(rec), extra=_extra(line, rec),
        raw_values=_raw_values(rec), source=raw.source(),
    )


def _raw_values(rec: dict) -> dict:
    """The registry's spellings, kept beside the vocabulary values (`toolkit.normalize.vocabulary`)."""
    found = {"status": rec.get("Recruitment Status"), "phases": rec.get("Phase"),
             "study_type": rec.get("Study type"), "sex": rec.get("Inclusion gender")}
    return {key: clean(value) for key, value in found.items() if clean(value)}


def _registry(source: Any, trial_id: str) -> str:
    name = (clean(source) or "").lower()
    if name in REGISTRIES:
        return REGISTRIES[name]
    if trial_id.upper().startswith("NCT"):
        return "ctgov"
    return re.sub(r"[^a-z0-9]+", "", name) or "ictrp"


def _phases(value: Any) -> Tuple[str, ...]:
    text = clean(value)
    if text is None or text in ("0", "None"):
        return ()
    eu = _EU_PHASE.findall(text)
    if eu or "(Phase" in text:
        return phase_list([f"Phase {p}" for p in eu])
    return phase_list(text)


def _enrollment(value: Any) -> Optional[Enrollment]:
    text = clean(value)
    if text is None:
        return None
    count = as_int(text)
    if count is None:
        numbers = re.findall(r"\d+", text)
        count = sum(int(n) for n in numbers) if numbers else None
    return Enrollment(count=count)


def _split(value: Any) -> Tuple[str, ...]:
    text = clean(value)
    if text is None:
        return ()
    parts = re.split(r"[;\n]", text)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _interventions(value: Any) -> Tuple[Intervention, ...]:
    out = []
    for part in _split(value):
        kind, sep, name = part.partition(":")
        if sep and name.strip() and len(kind) < 40:
            out.append(Intervention(name=name.strip(), type=kind.strip()))
        else:
            out.append(Intervention(name=part))
    return tuple(out)


def _outcomes(value: Any) -> Tuple[Tuple[Outcome, ...], Tuple[Section, ...]]:
    """Primary outcomes; EU CTR's labelled segments (objectives, end points,
    time points, in any order) become an outcome with its time frame plus
    sections for the objectives."""
    text = clean(value)
    segments = _eu_segments(text) if text else {}
    if not segments:
        return tuple(Outcome("primary", m) for m in _outcome_lines(text)), ()
    frame = segments.get("Timepoint(s) of evaluation of this end point")
    outcomes = [Outcome("primary", segments["Primary end point(s)"], frame)] if "Primary end point(s)" in segments else []
    if "Secondary end point(s)" in segments:
        outcomes.append(Outcome("secondary", segments["Secondary end point(s)"]))
    used = {"Timepoint(s) of evaluation of this end point", "Primary end point(s)", "Secondary end point(s)"}
    sections = tuple(Section(label, body) for label, body in segments.items() if label not in used)
    return tuple(outcomes), sections


def _eu_segments(text: str) -> dict:
    marks = list(_EU_SEGMENT.finditer(text))
    if not marks:
        return {}
    out = {}
    preamble = text[:marks[0].start()].strip().strip(";").strip()
    if preamble:
        out["Primary outcome"] = preamble
    for mark, following in zip(marks, marks[1:] + [None]):
        end = following.start() if following is not None else len(text)
        body = text[mark.end():end].strip().strip(";").strip()
        if body:
            out[mark.group(1)] = body
    return out


def _outcome_lines(text: Optional[str]) -> List[str]:
    if text is None:
        return []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and ";" in text:
        parts = [p.strip() for p in text.split(";") if p.strip()]
        if all(len(p) < 120 for p in parts):
            return parts
    return lines


def _contact(rec: dict) -> Tuple[Investigator, ...]:
    name = " ".join(p for p in (clean(rec.get("Contact Firstname")), clean(rec.get("Contact Lastname"))) if p)
    fields = dict(name=name or None, role="contact", affiliation=clean(rec.get("Contact Affiliation")),
                  email=clean(rec.get("Contact Email")), phone=clean(rec.get("Contact Tel")))
    if not any(v for k, v in fields.items() if k != "role"):
        return ()
    return (Investigator(**fields),)


def _eligibility(rec: dict) -> Eligibility:
    return Eligibility(
        text=_criteria_text(clean(rec.get("Inclusion Criteria")), clean(rec.get("Exclusion Criteria"))),
        min_age=parse_age(_age(rec.get("Inclusion agemin"))), max_age=parse_age(_age(rec.get("Inclusion agemax"))),
        sex=_sex(clean(rec.get("Inclusion gender"))),
    )


def _age(value: Any) -> Optional[str]:
    text = clean(value)
    if text is None or text in ("None", "N/A"):
        return None
    return in_years(text)


def _sex(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    lowered = text.lower()
    flags = dict(re.findall(r"\b(female|male):\s*(yes|no)", lowered))
    if flags:
        female, male = flags.get("female") == "yes", flags.get("male") == "yes"
        return "ALL" if female and male else ("FEMALE" if female else ("MALE" if male else None))
    if lowered.startswith("both"):
        return "ALL"
    return sex_enum(text.strip())


def _criteria_text(inclusion: Optional[str], exclusion: Optional[str]) -> str:
    blocks = []
    for text, heading in ((inclusion, "Inclusion Criteria"), (exclusion, "Exclusion Criteria")):
        if not text:
            continue
        has_heading = heading.split()[0].lower() in text[:200].lower()
        blocks.append(text.strip() if has_heading else f"{heading}:\n{text.strip()}")
    return "\n\n".join(blocks)


def _extra(line: dict, rec: dict) -> dict:
    extra = {k: v for k, v in rec.items() if k not in _MAPPED and clean(v) is not None}
    extra["version_index"] = line.get("version_index")
    extra["export_date"] = rec.get("Export date")
    extra["seen_in"] = line.get("seen_in")
    extra["content_md5"] = line.get("content_md5")
    return {k: v for k, v in extra.items() if v not in (None, "", [])}
