"""Read the Chia corpus (brat standoff) and split it into train and held-out parts.

Chia: Kury et al. 2020, Sci Data 7:281, doi:10.1038/s41597-020-00620-0,
CC BY 4.0. Its `.txt` files mostly use CRLF and the `.ann` offsets count the
`\\r`, so texts are read with `newline=""`. Spans may be discontinuous
(`start end;start end`); only entity (`T`) lines of an `.ann` are read, other
record types and continuation lines are skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Tuple

from toolkit.errors import InputError

# Chia entity type -> toolkit tag label (Temporal maps to both time labels)
LABELS = {"Drug": "drug", "Condition": "condition", "Temporal": "temporal", "Value": "value"}
HELD_OUT_SHARE = 5  # one trial in five is held out


@dataclass(frozen=True)
class Entity:
    """One annotated span: Chia type, fragments (start, end) and text."""

    type: str
    fragments: Tuple[Tuple[int, int], ...]
    text: str

    @property
    def start(self) -> int:
        """Start of the first fragment."""
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        """End of the last fragment."""
        return self.fragments[-1][1]


@dataclass(frozen=True)
class Document:
    """A Chia file: its text and entities (offsets into `text`)."""

    name: str
    text: str
    entities: Tuple[Entity, ...]

    @property
    def trial_id(self) -> str:
        """The NCT id the file belongs to."""
        return self.name.split("_")[0]


def is_held_out(trial_id: str) -> bool:
    """Whether a trial belongs to the fixed held-out split (never trained on)."""
    digest = hashlib.sha1(trial_id.encode("ascii")).digest()
    return digest[0] % HELD_OUT_SHARE == 0


def iter_documents(folder: Path, *, split: str = "all") -> Iterator[Document]:
    """Yield the Chia documents of a folder, sorted by name.

    Args:
        folder: a folder of `NCT..._inc.txt/.ann` pairs.
        split: "train", "heldout" or "all".

    Raises:
        InputError: a file cannot be read.
    """
    for txt in sorted(Path(folder).glob("*.txt")):
        doc_name = txt.stem
        held = is_held_out(doc_name.split("_")[0])
        if split == "all" or (split == "heldout") == held:
            yield read_document(txt)


def read_document(txt: Path) -> Document:
    """Read one `.txt` and its `.ann`.

    Raises:
        InputError: a file cannot be read or an entity line is malformed.
    """
    try:
        with open(txt, encoding="utf-8", newline="") as handle:
            text = handle.read()
        ann = txt.with_suffix(".ann")
        lines = ann.read_text(encoding="utf-8").splitlines() if ann.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(txt), f"cannot read: {exc}") from None
    entities = tuple(e for e in (_parse_entity(line, txt) for line in lines) if e)
    return Document(txt.stem, text, entities)


def _parse_entity(line: str, path: Path):
    if not line.startswith("T"):
        return None
    parts = line.split("\t")
    if len(parts) < 3 or " " not in parts[1]:
        return None
    kind, _, spans = parts[1].partition(" ")
    try:
        fragments = tuple(
            (int(a), int(b)) for a, b in (frag.split() for frag in spans.split(";"))
        )
    except ValueError:
        raise InputError(str(path), f"malformed span {spans!r}", parts[0]) from None
    return Entity(kind, fragments, parts[2])


