"""Reader of legacy ClinicalTrials.gov XML (`<clinical_study>`, one per file).

The AllPublicXML bulk layout holds one study per file. The file is parsed
safely (no DTD, see `toolkit.io.safe_xml`) into one element, which is the
payload of the raw record. Posted results (`<clinical_results>`) are out of
scope and are often larger than the protocol itself: they are cut out before
parsing and replaced by an empty `<clinical_results omitted_bytes="N"/>`
marker, which the mapper records in `extra`. A file larger than the
per-record limit (`toolkit.io.limits`) is refused after reading only that
many bytes of it.
"""

from __future__ import annotations

from typing import BinaryIO, Iterator, Optional, Union

from toolkit.errors import Failure
from toolkit.formats.raw import RawRecord
from toolkit.io.limits import RecordTooLarge, read_capped
from toolkit.io.safe_xml import XMLReadError, parse_bytes, root_tag

__all__ = ["FORMAT", "ROOT", "sniff", "read", "cut_results"]

FORMAT = "ctgov_xml"
ROOT = "clinical_study"

_RESULTS_OPEN = b"<clinical_results>"
_RESULTS_CLOSE = b"</clinical_results>"


def sniff(head: bytes, name: str) -> bool:
    """Whether a file is a legacy ClinicalTrials.gov study (root element).

    Args:
        head: the first bytes of the file.
        name: the file or entry name (unused: the content decides).

    Returns:
        True when the root element is `<clinical_study>`.
    """
    return root_tag(head) == ROOT


def read(
    stream: BinaryIO, *, path: Optional[str] = None, entry: Optional[str] = None
) -> Iterator[Union[RawRecord, Failure]]:
    """Read the one study of a file.

    Args:
        stream: a binary stream of one XML file.
        path: the file (or archive) it came from, for messages.
        entry: the member name inside an archive or folder.

    Yields:
        One `RawRecord` whose payload is the `<clinical_study>` element, or
        one `Failure` naming file, entry and reason.
    """
    where = entry or path
    try:
        root = parse_bytes(cut_results(read_capped(stream)))
    except (XMLReadError, RecordTooLarge) as exc:
        yield Failure(path, str(exc), where)
        return
    if root.tag != ROOT:
        yield Failure(path, f"root element is <{root.tag}>, expected <{ROOT}>", where)
        return
    yield RawRecord(FORMAT, root, path=path, entry=entry, index=0)


def cut_results(data: bytes) -> bytes:
    """Replace the `<clinical_results>` block by an empty marker element.

    Args:
        data: the bytes of one study file.

    Returns:
        The bytes with the results block cut out (unchanged when absent).
    """
    start = data.find(_RESULTS_OPEN)
    if start < 0:
        return data
    end = data.find(_RESULTS_CLOSE, start)
    if end < 0:
        return data  # truncated: let the parser report it
    end += len(_RESULTS_CLOSE)
    marker = b'<clinical_results omitted_bytes="%d"/>' % (end - start)
    return data[:start] + marker + data[end:]
