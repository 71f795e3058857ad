"""Map one EU CTR full-details block (its fields) to a `TrialRecord`.

One record per trial and member state, as the register keeps them: the
trial id is the EudraCT number with the member state's code
(`2022-002568-62-ES`, the spelling of ctrdata and, behind `EUCTR`, of ICTRP),
so the member states of one trial are linked as aliases. English fields
are mapped; every field, translations included, is kept as a section
(`<code> <label>`), so nothing of the block is lost.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from toolkit.errors import InputError
from toolkit.formats.raw import RawRecord
from toolkit.normalize.fields import as_int, iso_date, yes_no
from toolkit.records import (
    Eligibility, Enrollment, Identifier, Intervention, Link, Location, Outcome, Section, Sponsor,
    TrialRecord,
)

__all__ = ["to_record"]

REGISTRY = "euctr"
_PHASES = (("E.7.1", "PHASE1"), ("E.7.2", "PHASE2"), ("E.7.3", "PHASE3"), ("E.7.4", "PHASE4"))
_IDS = {"A.4.1": "org_study_id", "A.5.1": "ISRCTN", "A.5.2": "NCT", "A.5.4": "other"}
_STATE_CODE = re.compile(r"/trial/\d{4}-\d{6}-\d{2}/([A-Z0-9]+)/?$")
_TRANSLATED = re.compile(r"\([a-z]{2}\)$")


def to_record(raw: RawRecord) -> TrialRecord:
    """Map one block.

    Raises:
        InputError: the block has no EudraCT number.
    """
    fields: List[Tuple[str, str, str]] = raw.payload.get("fields") or []
    english = _english(fields)
    eudract = english.get(("Summary", "EudraCT Number")) or english.get(("A.2", "EudraCT number"))
    if not eudract:
        raise InputError(raw.path, "EU CTR block without an EudraCT number", raw.where())
    by_code = {code: value for (code, _), value in english.items()}
    state = _state_code(english)
    status = english.get(("P.", "End of Trial Status")) or english.get(("Summary", "Trial Status"))
    return TrialRecord(
        registry=REGISTRY, trial_id=f"{eudract}-{state}" if state else eudract,
        secondary_ids=_ids(by_code), title=by_code.get("A.3.1"), official_title=by_code.get("A.3"),
        acronym=by_code.get("A.3.2"), status=status,
        phases=tuple(p for code, p in _PHASES if yes_no(by_code.get(code))),
        study_type="INTERVENTIONAL", enrollment=_enrollment(by_code),
        first_posted=iso_date(english.get(("Summary", "Date on which this record was first entered in the"
                                           " EudraCT database"))),
        conditions=tuple(v for v in (by_code.get("E.1.1"),) if v), brief_summary=by_code.get("E.2.1"),
        interventions=_interventions(fields), outcomes=_outcomes(by_code), sponsors=_sponsors(fields),
        locations=_locations(by_code), links=_links(english),
        sections=tuple(Section(f"{code} {label}".strip(), value) for code, label, value in fields if value),
        eligibility=_eligibility(by_code),
        raw_values={k: v for k, v in (("status", status), ("study_type", english.get(
            ("Summary", "Clinical Trial Type")))) if v},
        source=raw.source(),
    )


def _english(fields) -> Dict[Tuple[str, str], str]:
    """(code, label) -> value of the untranslated fields (first occurrence)."""
    found: Dict[Tuple[str, str], str] = {}
    for code, label, value in fields:
        if value and not _TRANSLATED.search(label):
            found.setdefault((code, label), value)
    return found


def _state_code(english) -> Optional[str]:
    """The member state's code in the record's link (.../trial/2022-002568-62/ES/)."""
    link = english.get(("Summary", "Link")) or ""
    match = _STATE_CODE.search(link)
    return match.group(1) if match else None


def _ids(by_code) -> Tuple[Identifier, ...]:
    return tuple(Identifier(by_code[code], kind) for code, kind in _IDS.items() if by_code.get(code))


def _enrollment(by_code) -> Optional[Enrollment]:
    count = as_int(by_code.get("F.4.2.2")) or as_int(by_code.get("F.4.1"))
    return Enrollment(count=count, type="ESTIMATED") if count is not None else None


def _eligibility(by_code) -> Eligibility:
    blocks = [f"{heading}:\n{by_code[code]}" for code, heading in
              (("E.3", "Inclusion Criteria"), ("E.4", "Exclusion Criteria")) if by_code.get(code)]
    female, male = yes_no(by_code.get("F.2.1")), yes_no(by_code.get("F.2.2"))
    sex = "ALL" if female and male else ("FEMALE" if female else ("MALE" if male else None))
    return Eligibility(text="\n\n".join(blocks), sex=sex, healthy_volunteers=yes_no(by_code.get("F.3.1")))


def _outcomes(by_code) -> Tuple[Outcome, ...]:
    return tuple(Outcome(kind, by_code[code], time_frame=by_code.get(f"{code}.1"))
                 for code, kind in (("E.5.1", "primary"), ("E.5.2", "secondary")) if by_code.get(code))


def _groups(fields, marker: str) -> List[Dict[str, str]]:
    """The fields of each repeated group ("Sponsor 1", "D.IMP: 1"), by code."""
    groups: List[Dict[str, str]] = []
    for code, label, value in fields:
        if not code and label.startswith(marker):
            groups.append({})
        elif not code:
            continue
        elif groups and value and not _TRANSLATED.search(label):
            groups[-1].setdefault(code, value)
    return groups


def _sponsors(fields) -> Tuple[Sponsor, ...]:
    groups = [g for g in _groups(fields, "Sponsor ") if g.get("B.1.1")]
    return tuple(Sponsor(g["B.1.1"], "lead" if i == 0 else "collaborator", g.get("B.3.1 and B.3.2"))
                 for i, g in enumerate(groups))


def _interventions(fields) -> Tuple[Intervention, ...]:
    out = []
    for group in _groups(fields, "D.IMP"):
        name = group.get("D.3.1") or group.get("D.3.8") or group.get("D.3.2")
        if name:
            other = tuple(dict.fromkeys(v for v in (group.get("D.3.8"), group.get("D.3.2")) if v and v != name))
            out.append(Intervention(name, "DRUG", description=group.get("D.3.4"), other_names=other))
    return tuple(out)


def _locations(by_code) -> Tuple[Location, ...]:
    state = by_code.get("A.1")
    return (Location(country=state.split(" - ")[0].strip()),) if state else ()


def _links(english) -> Tuple[Link, ...]:
    url = english.get(("Summary", "Link"))
    return (Link(url=url, kind="registry"),) if url else ()
