"""Trial page: the Eligibility Criteria block and the Study Population section.

The criteria text is kept as written; the block ends with four lines
(minimum age, maximum age, sex, healthy volunteers) or labelled lines, as
documented in `toolkit.formats.ctgov_page.map`.
"""

from __future__ import annotations

from typing import List, Tuple

from toolkit.normalize.ages import parse_age
from toolkit.formats.ctgov_page.layout import AGE, MISSING, VALUES, free_text, labelled, trim, values
from toolkit.records import Eligibility

__all__ = ["eligibility", "population"]


ELIGIBILITY_LABELS = {"minimum age": "min_age", "maximum age": "max_age", "sex": "sex",
                      "healthy volunteers": "healthy_volunteers"}


def _tail_shapes(line: str) -> Tuple[bool, bool, bool]:
    """Whether a line can be an age, a sex, a healthy-volunteers line."""
    bare = line.strip()
    return (bool(AGE.match(bare)) or bare == MISSING, bare in VALUES["sex"] or bare == MISSING,
            bare in VALUES["healthy_volunteers"] or bare == MISSING)


TAIL = ("min_age", "max_age", "sex", "healthy_volunteers")


def _split_tail(lines: List[str]) -> Tuple[List[str], dict]:
    """Split the eligibility block into criteria lines and the age/sex/volunteer tail."""
    body = trim(list(lines))
    filled = [i for i, line in enumerate(body) if line.strip()][-4:]
    tail = [body[i] for i in filled]
    if len(tail) == 4 and _tail_shapes(tail[0])[0] and _tail_shapes(tail[1])[0] \
            and _tail_shapes(tail[2])[1] and _tail_shapes(tail[3])[2]:
        found = dict(zip(TAIL, (t.strip() for t in tail)))
        return trim(body[: filled[0]]), {k: v for k, v in found.items() if v != MISSING}
    return _split_partial_tail(body)


def _split_partial_tail(body: List[str]) -> Tuple[List[str], dict]:
    """Tail of a page that leaves some lines out: labelled lines, else bare by shape.

    A single bare age is read as the minimum age.
    """
    found: dict = {}
    while body and labelled(body[-1].strip(), ELIGIBILITY_LABELS):
        key, value = labelled(body[-1].strip(), ELIGIBILITY_LABELS)
        found[key] = value
        body = trim(body[:-1])
    if found:
        return body, found
    for name, shape in (("healthy_volunteers", 2), ("sex", 1)):
        if body and body[-1].strip() != MISSING and _tail_shapes(body[-1])[shape]:
            found[name] = body[-1].strip()
            body = trim(body[:-1])
    ages: List[str] = []
    while found and body and len(ages) < 2 and AGE.match(body[-1].strip()):
        ages.insert(0, body[-1].strip())
        body = trim(body[:-1])
    found.update(zip(("min_age", "max_age"), ages))
    return body, found


def eligibility(lines, context) -> dict:
    """The Eligibility Criteria block: criteria text and the age/sex/volunteer tail."""
    body, tail = _split_tail(list(lines))
    volunteers = VALUES["healthy_volunteers"].get(tail.get("healthy_volunteers", ""))
    eligibility = Eligibility(
        text=free_text(body), min_age=parse_age(tail.get("min_age")),
        max_age=parse_age(tail.get("max_age")),
        sex=tail.get("sex"), healthy_volunteers=volunteers,
    )
    return {"eligibility": eligibility}


POPULATION_LABELS = {"sampling method": "sampling_method", "standard ages": "std_ages",
                     "gender based": "gender_based", "gender description": "gender_description",
                     "description": "study_population"}


def population(lines, context) -> dict:
    """Study Population: labelled eligibility details (`Sampling Method: ...`)."""
    found: dict = {}
    for line in values(lines):
        pair = labelled(line, POPULATION_LABELS)
        if pair:
            found[pair[0]] = pair[1]
    if "std_ages" in found:
        found["std_ages"] = tuple(v.strip() for v in found["std_ages"].split(","))
    if "gender_based" in found:
        found["gender_based"] = VALUES["healthy_volunteers"].get(found["gender_based"])
    return {"population": found}
