"""From raw records to trial records: field mapping, sections, criteria tree.

`parse_record(raw)` is the one entry point. Each source format has a mapper
module here (`toolkit.parse.<module>.to_record(raw) -> TrialRecord`) that maps
fields and sections and fills `Eligibility.text`; the criteria tree is then
built from that text by `toolkit.parse.criteria.parse_criteria`, the same way
for every format.
"""

from __future__ import annotations

import importlib

from toolkit.errors import InputError
from toolkit.readers.base import RawRecord
from toolkit.records import TrialRecord, replace_fields, with_hash

# format name -> mapper module under toolkit.parse
MAPPERS = {
    "page": "page",
    "ctgov_json": "ctgov_json",
    "ctgov_xml": "ctgov_xml",
    "ictrp_xml": "ictrp_xml",
    "cthist_csv": "cthist_csv",
    "ictrp_versions": "ictrp_versions",
    "ctrdata": "ctrdata",
}


def parse_record(raw: RawRecord) -> TrialRecord:
    """Map a raw record to a `TrialRecord` with its criteria tree and hash.

    Raises:
        InputError: the record cannot be mapped (no id, wrong shape ...).
    """
    mapper = _mapper(raw)
    record = mapper.to_record(raw)
    return with_hash(attach_criteria(record))


def attach_criteria(record: TrialRecord) -> TrialRecord:
    """Fill the criteria tree of a record from its eligibility text."""
    from toolkit.parse.criteria import parse_criteria

    eligibility = record.eligibility
    if eligibility is None or not eligibility.text.strip():
        return record
    result = parse_criteria(eligibility.text)
    eligibility = replace_fields(
        eligibility, criteria=result.criteria, headings=result.headings, notes=result.notes
    )
    return replace_fields(record, eligibility=eligibility)


def _mapper(raw: RawRecord):
    name = MAPPERS.get(raw.format)
    if name is None:
        raise InputError(raw.path, f"no mapper for format {raw.format!r}", raw.where())
    return importlib.import_module(f"toolkit.parse.{name}")
