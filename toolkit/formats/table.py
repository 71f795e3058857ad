"""The one table of input formats: name -> the package that reads and maps it.

Each package `toolkit.formats.<package>` holds `read.py` (`FORMAT`,
`sniff(head, name)`, `read(stream, *, path, entry)`: bytes to raw records)
beside `map.py` (`to_record(raw) -> TrialRecord`). Adding a format is one
row here and one package.

Detection order: cheap exact sniffs first (ctgov_json refuses the JSON Lines
history formats that wrap a study: `TrialID`/`version_index`, `ctrname`);
`page` (plain text) is last because it is the most permissive.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["FORMATS", "PACKAGES", "reader_module", "mapper_module"]

# format name (as stored in `Source.format` and given to `--format`) -> package
PACKAGES = {
    "ctgov_json": "ctgov_json",
    "ctgov_classic": "ctgov_classic",
    "ictrp_versions": "ictrp_versions",
    "ctrdata": "ctrdata",
    "ctgov_xml": "ctgov_xml",
    "ictrp_xml": "ictrp_xml",
    "cthist_csv": "cthist_csv",
    "euctr_text": "euctr_text",
    "page": "ctgov_page",
}
FORMATS = tuple(PACKAGES)


def reader_module(name: str) -> ModuleType:
    """The reading half of a format (raises ImportError or KeyError)."""
    return importlib.import_module(f"toolkit.formats.{PACKAGES[name]}.read")


def mapper_module(name: str) -> ModuleType:
    """The mapping half of a format (raises ImportError or KeyError)."""
    return importlib.import_module(f"toolkit.formats.{PACKAGES[name]}.map")
