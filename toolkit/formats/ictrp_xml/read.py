"""Reader of WHO ICTRP XML exports (`<Trials_downloaded_from_ICTRP>`).

One export holds many `<Trial>` elements. They are cut out and parsed one at
a time (`toolkit.io.xml_records`) and each becomes a raw record whose payload
is the `<Trial>` element. A malformed trial becomes a `Failure` naming its
position and line, and reading resumes at the next `<Trial>`; a file that
breaks off yields the trials read so far, then one `Failure`.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.safe_xml import XMLReadError, root_tag
from toolkit.io.xml_records import XMLProblem, iter_xml_records

__all__ = ["FORMAT", "ROOT", "TRIAL", "sniff", "read"]

FORMAT = "ictrp_xml"
ROOT = "Trials_downloaded_from_ICTRP"
TRIAL = "Trial"


def sniff(head: bytes, name: str) -> bool:
    """Whether a file is a WHO ICTRP export (root element).

    Args:
        head: the first bytes of the file.
        name: the file or entry name (unused: the content decides).

    Returns:
        True when the root element is `<Trials_downloaded_from_ICTRP>`.
    """
    return root_tag(head) == ROOT


def read(
    stream: BinaryIO, *, path: Optional[str] = None, entry: Optional[str] = None
) -> Iterator[Union[RawRecord, Failure]]:
    """Stream the trials of one export file.

    Args:
        stream: a binary stream of one ICTRP XML file.
        path: the file (or archive) it came from, for messages.
        entry: the member name inside an archive or folder.

    Yields:
        A `RawRecord` per `<Trial>` (payload: the element); a `Failure` for
        each malformed trial and any other element under the root, and one
        naming file, position and reason if the file cannot be read to its end.
    """
    try:
        for found in iter_xml_records(stream, root=ROOT, record=TRIAL, label="trials"):
            if isinstance(found, XMLProblem):
                yield Failure(path, found.reason, _where(entry, found.index, found.line))
            else:
                yield RawRecord(FORMAT, found.element, path=path, entry=entry, index=found.index)
    except XMLReadError as exc:
        yield Failure(path, str(exc), entry)


def _where(entry: Optional[str], index: Optional[int], line: int) -> str:
    place = f"#{index} (line {line})" if index is not None else f"line {line}"
    return f"{entry}{place}" if entry else place
