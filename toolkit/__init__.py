"""ptk: a protocol document toolkit for clinical-trial registries.

Parse registry dumps into structured, versioned trial records, search their
eligibility criteria, and diff versions.
"""

__version__ = "0.1.0"
