"""The eligibility tree: from eligibility text to nested, typed criteria.

`parse_criteria(text)` reads the text (bullets, line cues, heading rules in
`heading_rules.json`) into criteria with polarity, category and offsets;
`attach_criteria(record)` fills a record's tree from its eligibility text.
"""

from __future__ import annotations

from toolkit.criteria.tree import parse_criteria
from toolkit.records import TrialRecord, replace_fields

__all__ = ["parse_criteria", "attach_criteria"]


def attach_criteria(record: TrialRecord) -> TrialRecord:
    """Fill the criteria tree of a record from its eligibility text."""
    eligibility = record.eligibility
    if eligibility is None or not eligibility.text.strip():
        return record
    result = parse_criteria(eligibility.text)
    eligibility = replace_fields(
        eligibility, criteria=result.criteria, headings=result.headings, notes=result.notes
    )
    return replace_fields(record, eligibility=eligibility)
