"""Trial page sections about parties and places: sponsors, investigators, sites, links, ids.

Each handler takes the lines of its section (caption dropped) and returns
record fields; the layout rules are documented in `toolkit.formats.ctgov_page.map`.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from toolkit.formats.ctgov_page.layout import MISSING, URL, VALUES, labelled, missing_to_none, values
from toolkit.records import Identifier, Investigator, Link, Location, Sponsor

__all__ = ["LINK_LABELS", "looks_like_degree", "sponsors", "investigators", "locations", "links", "identifiers"]


SPONSOR_CLASSES = set(VALUES["sponsor_class"]) | {MISSING}


def sponsors(lines, context) -> dict:
    """Name and class pairs, each optionally followed by a `Role:` line; without
    one, the first sponsor is the lead and the others collaborators."""
    items = values(lines)
    found, i = [], 0
    while i < len(items):
        has_class = i + 1 < len(items) and items[i + 1] in SPONSOR_CLASSES
        sponsor = {"name": items[i], "class_": missing_to_none(items[i + 1]) if has_class else None,
                   "role": "collaborator" if found else "lead"}
        i += 2 if has_class else 1
        if i < len(items) and items[i].startswith("Role: "):
            sponsor["role"] = missing_to_none(items[i][len("Role: "):])
            i += 1
        found.append(Sponsor(**sponsor))
    return {"sponsors": tuple(found)}


DEGREE = re.compile(r"^[A-Z][A-Za-z.]{0,9}(?:,\s*[A-Z][A-Za-z.]{0,9})*$")
CONTACT_LABELS = {"email": "email", "phone": "phone"}


def looks_like_degree(text: str) -> bool:
    """Whether a line reads as academic degrees (`MD`, `MD, PhD`, `M.D.`)."""
    tokens = [t.strip() for t in text.split(",")]
    return bool(DEGREE.match(text)) and all(sum(c.isupper() for c in t) >= 2 for t in tokens)


def _name_degree(pending: List[str]) -> Tuple[Optional[str], Optional[str]]:
    if not pending:
        return None, None
    if len(pending) == 1:
        only = missing_to_none(pending[0])
        return (None, only) if only and looks_like_degree(only) else (only, None)
    return missing_to_none(" ".join(pending[:-1])), missing_to_none(pending[-1])


def investigators(lines, context) -> dict:
    """People: [name], [degree], `Role: ROLE`, [affiliation], [`Email:` / `Phone:`].

    The lines between two `Role:` lines hold the affiliation of the one person
    and the name and degree of the next (`_split_between`); a page written the
    site's way leaves out whatever is missing, so their split goes by shape.
    """
    items = values(lines)
    roles = [i for i, line in enumerate(items) if line.startswith("Role:")]
    bounds = roles + [len(items)]
    name, degree = _name_degree(items[:bounds[0]])
    people: List[dict] = []
    for n, at in enumerate(roles):
        person = {"name": name, "degree": degree, "role": missing_to_none(items[at][5:].strip())}
        segment = items[at + 1:bounds[n + 1]]
        last = n + 1 == len(roles)
        affiliation, contacts, following = _split_between(segment, last=last, role=person["role"],
                                                          context=context)
        person.update(contacts, affiliation=missing_to_none(affiliation))
        people.append(person)
        name, degree = _name_degree(following)
        if last and following:
            people.append({"name": name, "degree": degree})
    if not roles and items:
        people.append({"name": name, "degree": degree})
    return {"investigators": tuple(Investigator(**p) for p in people)}


# Roles the registry gives no affiliation (ctgov central contacts).
UNAFFILIATED_ROLES = {"CENTRAL_CONTACT"}
ORGANISATION = re.compile(r"\b(universit|hospital|cent(er|re)|institut|clinic|college|inc\b|ltd|llc|gmbh|"
                          r"foundation|pharma|therapeutics|research|health|medical|school|department|"
                          r"corporation|company|group|council|ministry|agency|trust)", re.IGNORECASE)


def _looks_like_organisation(line: str, context) -> bool:
    sponsors = {s.name for s in context.get("sponsors", ())}
    return line in sponsors or bool(ORGANISATION.search(line))


def _split_between(segment: List[str], *, last: bool, role: Optional[str],
                   context) -> Tuple[Optional[str], dict, List[str]]:
    """(affiliation, contacts, lines of the next person) of the lines after a `Role:` line."""
    labels = [i for i, line in enumerate(segment) if labelled(line, CONTACT_LABELS)]
    if labels:
        contacts = dict(labelled(segment[i], CONTACT_LABELS) for i in labels)
        head = segment[:labels[0]]
        return ("\n".join(head) or None), contacts, segment[labels[-1] + 1:]
    if last:
        return (segment[0] if segment else None), {}, segment[1:]
    if role in UNAFFILIATED_ROLES and len(segment) == 1:
        return None, {}, segment
    return _affiliation_and_next(segment, context)


def _affiliation_and_next(segment: List[str], context) -> Tuple[Optional[str], dict, List[str]]:
    """Split lines between two people: of three or more, the first is the
    affiliation and the rest the next person's name and degree; of two, the
    next person takes a trailing degree and the name before it, or one name
    line; a single line that reads as an organisation is an affiliation."""
    if not segment:
        return None, {}, []
    if len(segment) == 1:
        only = segment[0]
        organisation = _looks_like_organisation(only, context) and not looks_like_degree(only)
        return (only, {}, []) if organisation else (None, {}, [only])
    if len(segment) > 2:
        return segment[0], {}, segment[1:]
    degree = looks_like_degree(segment[-1]) and not _looks_like_organisation(segment[-2], context)
    tail = 2 if degree else 1
    head = segment[:-tail]
    return ("\n".join(head) or None), {}, segment[-tail:]


SITE_STATUSES = set(VALUES["status"])
COMMA_COUNTRIES = set(VALUES["comma_countries"])


def _place(line: str) -> dict:
    """`city, [state], [zip], country` -> Location fields; `-` parts are missing."""
    parts = [p.strip() for p in line.split(", ")]
    if len(parts) > 2 and ", ".join(parts[-2:]) in COMMA_COUNTRIES:
        parts[-2:] = [", ".join(parts[-2:])]
    if len(parts) == 1:
        return {"country": missing_to_none(parts[0])}
    place = {"city": missing_to_none(parts[0]), "country": missing_to_none(parts[-1])}
    middle = parts[1:-1]
    if middle and re.search(r"\d", middle[-1]):
        place["zip"] = middle.pop()
    if middle:
        place["state"] = ", ".join(middle)
    return place


PLACE_LABELS = {"city": "city", "state": "state", "zip": "zip", "country": "country"}


def locations(lines, context) -> dict:
    items = values(lines)
    found, i = [], 0
    while i < len(items):
        site = {"facility": missing_to_none(items[i])}
        i += 1
        if i < len(items) and not labelled(items[i], PLACE_LABELS):
            site.update(_place(items[i]))
            i += 1
        while i < len(items) and labelled(items[i], PLACE_LABELS):
            key, value = labelled(items[i], PLACE_LABELS)
            site[key] = value
            i += 1
        if i < len(items) and items[i] in SITE_STATUSES:
            site["status"] = items[i]
            i += 1
        found.append(Location(**site))
    return {"locations": tuple(found)}


LINK_LABELS = {"label": "label", "pmid": "pmid", "type": "kind", "url": "url"}


def links(lines, context) -> dict:
    """Links: a label line (or `Label:` when it looks like a URL), then URL, PMID, Type."""
    found: List[dict] = []
    for line in values(lines):
        pair = ("url", line) if URL.match(line) else labelled(line, LINK_LABELS)
        if pair is None or pair[0] == "label":
            found.append({"label": missing_to_none(pair[1] if pair else line)})
        elif found and pair[0] not in found[-1]:
            found[-1][pair[0]] = pair[1]
        else:
            found.append({pair[0]: pair[1]})
    return {"links": tuple(Link(**link) for link in found)}


IDENTIFIER_LABELS = {"identifier type": "type", "identifier source": "source"}


# The site writes the sponsor's own study id with this source and no type.
ORG_STUDY_SOURCE = "org_study_id"


def identifiers(lines, context) -> dict:
    """Id lines, each followed by `Identifier Type:` / `Identifier Source:` lines;
    the site's `org_study_id` source with no type is the sponsor's own id."""
    found: List[dict] = []
    for line in values(lines):
        pair = labelled(line, IDENTIFIER_LABELS)
        if pair and found:
            found[-1][pair[0]] = missing_to_none(pair[1])
        else:
            found.append({"id": line})
    for item in found:
        if item.get("source") == ORG_STUDY_SOURCE and item.get("type") is None:
            item.update(type="ORG_STUDY_ID", source=None)
    return {"secondary_ids": tuple(Identifier(**item) for item in found)}
