"""ptk: a protocol document toolkit for clinical-trial registries.

Parse registry dumps into structured, versioned trial records, search their
eligibility criteria, and diff versions.
"""

__version__ = "0.1.0"


def __getattr__(name):
    """Lazy re-exports: `toolkit.tag_text` loads spaCy only when first used."""
    if name == "tag_text":
        from toolkit.nlp import tag_text

        return tag_text
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
