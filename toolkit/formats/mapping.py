"""From raw records to trial records: field mapping, then the criteria tree.

Each format's `map.py` (`to_record(raw) -> TrialRecord`) maps fields and
sections and fills `Eligibility.text`; the criteria tree is then built from
that text by `toolkit.criteria.attach_criteria`, the same way for every format.
Status, phases, study type, sex and countries are put in the one vocabulary
of `toolkit.normalize.vocabulary` (the registry's spelling kept in `raw_values`).
"""

from __future__ import annotations

from toolkit.criteria import attach_criteria
from toolkit.errors import InputError
from toolkit.formats.raw import RawRecord
from toolkit.formats.table import PACKAGES, mapper_module
from toolkit.canonical import with_hash
from toolkit.normalize.registries import trial_id_problem
from toolkit.normalize.vocabulary import normalize_record
from toolkit.records import TrialRecord

__all__ = ["parse_record"]


def parse_record(raw: RawRecord) -> TrialRecord:
    """Map a raw record to a `TrialRecord` with its criteria tree and hash.

    Raises:
        InputError: the record cannot be mapped (no id, an id that does not
            fit its registry's pattern, wrong shape ...).
    """
    if raw.format not in PACKAGES:
        raise InputError(raw.path, f"no mapper for format {raw.format!r}", raw.where())
    record = normalize_record(mapper_module(raw.format).to_record(raw))
    problem = trial_id_problem(record.registry, record.trial_id)
    if problem:
        raise InputError(raw.path, problem, raw.where())
    return with_hash(attach_criteria(record))
