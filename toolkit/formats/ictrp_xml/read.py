"""Reader of WHO ICTRP XML exports (`<Trials_downloaded_from_ICTRP>`).

One export holds many `<Trial>` elements. They are streamed one at a time
(`toolkit.io.safe_xml.iter_children`) and each becomes a raw record whose
payload is the `<Trial>` element. A file that breaks off or is malformed
yields the trials read so far, then one `Failure` for the rest.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.safe_xml import XMLReadError, iter_children, root_tag

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
        any other element under the root, and one naming file, position and
        reason if the file cannot be read to its end.
    """
    index = -1
    try:
        for child in iter_children(stream, root=ROOT):
            if child.tag != TRIAL:
                yield Failure(path, f"unexpected <{child.tag}> in the export, not read",
                              f"{entry or ''}#{index + 1}")
                continue
            index += 1
            yield RawRecord(FORMAT, child, path=path, entry=entry, index=index)
    except XMLReadError as exc:
        where = f"{entry or ''}#{index + 1}" if index >= 0 else entry
        yield Failure(path, f"{exc} (after {index + 1} trials)", where)
