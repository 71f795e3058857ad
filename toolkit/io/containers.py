"""Containers: turn a path (file, folder, archive, compressed file, stdin) into members.

`iter_members(source)` yields one `Member` per readable file it finds, opened
lazily and streamed: a member's stream is only valid until the next member
is asked for, and nothing is extracted to disk. Containers are recognised by
their magic bytes, not their names: zip, tar, gzip, bzip2 and xz, nested up
to `MAX_DEPTH` levels (a `.tar.gz` is gzip around tar).

Problems become `Failure`s naming the path, the entry and the reason, and
the members around them are still yielded: an entry whose name escapes the
archive (`../x`, `/etc/x`, `C:\\x`) or is a link is refused; a truncated
zip is salvaged from its local headers; a truncated tar keeps the entries
read before the break.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import io
import lzma
import os
import re
import shutil
import stat
import struct
import sys
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Tuple, Union

from toolkit.errors import Failure
from toolkit.io.limits import max_record_bytes

__all__ = ["Member", "iter_members", "peek", "prefixed", "as_utf8", "unsafe_entry_name", "failing_after",
           "MAX_DEPTH", "READ_ERRORS"]

MAX_DEPTH = 3
MAGIC_SIZE = 512
SPOOL_IN_MEMORY = 64 * 1024 * 1024
MAX_SALVAGED_ENTRY = 512 * 1024 * 1024
# Tar members up to this size are read whole into memory: one copy instead
# of a chain of small buffered reads (a registry file is a few kilobytes).
READ_WHOLE_MEMBER = 4 * 1024 * 1024

# Errors a damaged archive or compressed stream raises while being read.
READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError,
               lzma.LZMAError, NotImplementedError, RuntimeError, UnicodeDecodeError)

_DECOMPRESSORS = {
    "gzip": lambda stream: gzip.GzipFile(fileobj=stream, mode="rb"),
    "bzip2": lambda stream: bz2.BZ2File(stream, mode="rb"),
    "xz": lambda stream: lzma.LZMAFile(stream, mode="rb"),
}
_COMPRESSED_SUFFIXES = (".gz", ".tgz", ".bz2", ".xz")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Member:
    """One file found in a source, with its content as a binary stream.

    Attributes:
        path: the file given or found in a folder (None for stdin).
        entry: the member name inside an archive (None for a plain file).
        stream: the content, readable once, valid until the next member.
    """

    path: Optional[str]
    entry: Optional[str]
    stream: BinaryIO


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns `head`, then the rest of `inner`.

    A read error of `inner` (truncated gzip ...) is raised one read late:
    `io.BufferedReader` would otherwise drop the bytes it already has.
    """

    def __init__(self, head: bytes, inner: BinaryIO):
        self._head = memoryview(head)
        self._inner = inner
        self._error: Optional[BaseException] = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        try:
            data = self._read(len(buffer))
        except READ_ERRORS as exc:
            # Report the damage on the next read, so the data before it is kept.
            self._error = exc
            return 0
        buffer[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        """One read of `inner`; `read1` where there is one, so a late error keeps earlier bytes."""
        read1 = getattr(self._inner, "read1", None)
        return read1(size) if read1 is not None else self._inner.read(size)


def peek(stream: BinaryIO, size: int) -> Tuple[bytes, BinaryIO]:
    """Read up to `size` bytes without losing them.

    Args:
        stream: any readable binary stream (need not be seekable).
        size: how many bytes to look at.

    Returns:
        (head, stream): the first bytes and a buffered stream that still
        starts at the beginning.
    """
    if type(stream) is io.BytesIO:
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    chunks, missing = [], size
    while missing > 0:
        chunk = stream.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    head = b"".join(chunks)
    return head, io.BufferedReader(_Prefixed(head, stream))


class _Utf16ToUtf8(io.RawIOBase):
    """A raw stream re-encoding UTF-16 text (with its BOM) as UTF-8."""

    def __init__(self, inner: BinaryIO):
        self._text = codecs.getreader("utf-16")(inner, errors="strict")
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            text = self._text.read(16 * 1024)
            if not text:
                return 0
            self._pending = text.encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size], self._pending = self._pending[:size], self._pending[size:]
        return size


def as_utf8(head: bytes, stream: BinaryIO) -> Tuple[bytes, BinaryIO]:
    """Re-encode a stream that starts with a UTF-16 byte order mark as UTF-8.

    Args:
        head: the first bytes of the stream (see `peek`).
        stream: the stream, still at its start.

    Returns:
        (head, stream) unchanged, or re-read as UTF-8 when the head is UTF-16.
    """
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head, stream
    return peek(io.BufferedReader(_Utf16ToUtf8(stream)), len(head))


def unsafe_entry_name(name: str) -> Optional[str]:
    """Why an archive entry name must be refused, or None when it is safe."""
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return "absolute entry path"
    if ".." in norm.split("/"):
        return "entry path escapes the archive (..)"
    return None


def iter_members(source: Union[str, os.PathLike]) -> Iterator[Union[Member, Failure]]:
    """Yield every member of a source, in order.

    Args:
        source: a file, a folder (walked recursively, sorted, dot-files
            and SQLite store files skipped; a link to a file outside the
            folder is refused, a linked folder is not entered), an archive
            or compressed file, or `-` for stdin. A FIFO, device or socket
            is refused (it could block the run forever).

    Yields:
        `Member`s, and a `Failure` for each thing that cannot be opened.
    """
    if str(source) == "-":
        yield from _expand(None, None, sys.stdin.buffer, 0)
        return
    path = Path(source)
    if path.is_dir():
        for file in _walk(path):
            yield from _open_file(file, path)
    elif path.exists():
        yield from _open_file(path)
    else:
        yield Failure(str(path), "no such file or directory")


# A corpus store (and its SQLite journals) often sits beside the dumps it was
# built from, e.g. corpus/ptk.sqlite: a folder walk passes over it.
_STORE_FILE = re.compile(r"\.(sqlite|sqlite3|db)(-wal|-shm|-journal)?$", re.IGNORECASE)


def _walk(folder: Path) -> Iterator[Path]:
    """The files under a folder, sorted; links are not followed into sub-folders."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        links = [Path(top, d) for d in dirs if Path(top, d).is_symlink()]  # listed, never entered
        found.extend(links)
        found.extend(Path(top, name) for name in files
                     if not name.startswith(".") and not _STORE_FILE.search(name))
    return iter(sorted(found))


def _outside(path: Path, folder: Path) -> bool:
    """Whether a link in `folder` resolves to a place outside it."""
    try:
        path.resolve(strict=True).relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def _not_regular(path: Path) -> Optional[str]:
    """Why a path cannot be read as a file (a FIFO, a device, a socket), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot open: {exc.strerror or exc}"
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
        else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    return f"refused: {kind}, not a regular file (pipe its content to '-' to read it as a stream)"


def _open_file(path: Path, folder: Optional[Path] = None) -> Iterator[Union[Member, Failure]]:
    if folder is not None and path.is_symlink() and _outside(path, folder):
        what = "to a place outside the folder given" if path.exists() else "whose target does not exist"
        yield Failure(str(path), f"refused: symbolic link {what}")
        return
    if folder is not None and path.is_dir():  # a link to a folder inside: its files are walked there
        return
    problem = _not_regular(path)
    if problem:
        yield Failure(str(path), problem)
        return
    try:
        handle = open(path, "rb")
    except OSError as exc:
        yield Failure(str(path), f"cannot open: {exc.strerror or exc}")
        return
    with handle:
        yield from _expand(str(path), None, handle, 0)


def _kind(magic: bytes) -> Optional[str]:
    if magic.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if magic.startswith(b"\x1f\x8b"):
        return "gzip"
    if magic.startswith(b"BZh"):
        return "bzip2"
    if magic.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if magic[257:262] == b"ustar":
        return "tar"
    return None


def _expand(path, entry, stream, depth) -> Iterator[Union[Member, Failure]]:
    """Yield the members of one stream: itself, or what its container holds."""
    try:
        magic, stream = _magic(stream)
    except READ_ERRORS as exc:
        yield Failure(path, f"cannot read: {exc}", entry)
        return
    kind = _kind(magic) if depth < MAX_DEPTH else None
    if kind == "zip":
        yield from _zip_members(path, entry, stream, depth)
    elif kind == "tar":
        yield from _tar_members(path, entry, stream, depth)
    elif kind in _DECOMPRESSORS:
        yield from _decompressed(path, entry, stream, kind, depth)
    else:
        yield Member(path, entry, stream)


def _magic(stream: BinaryIO) -> Tuple[bytes, BinaryIO]:
    """The first bytes of a stream, rewinding it when it can seek."""
    if _can_seek(stream):
        magic = stream.read(MAGIC_SIZE)
        stream.seek(0)
        return magic, stream
    return peek(stream, MAGIC_SIZE)


def _can_seek(stream: BinaryIO) -> bool:
    """True for plain files and in-memory buffers that can really seek back."""
    if not isinstance(stream, (io.BufferedReader, io.BytesIO, tempfile.SpooledTemporaryFile)):
        return False
    try:
        return stream.seekable()
    except (AttributeError, ValueError, OSError):
        return False


def _decompressed(path, entry, stream, kind, depth) -> Iterator[Union[Member, Failure]]:
    inner = _DECOMPRESSORS[kind](stream)
    try:
        yield from _expand(path, _strip_suffix(entry), inner, depth + 1)
    except READ_ERRORS as exc:
        yield Failure(path, f"corrupt {kind} data: {exc}", entry)
    finally:
        inner.close()


def _strip_suffix(entry: Optional[str]) -> Optional[str]:
    if entry is None:
        return None
    for suffix in _COMPRESSED_SUFFIXES:
        if entry.endswith(suffix):
            stem = entry[: -len(suffix)]
            return stem + ".tar" if suffix == ".tgz" else stem
    return entry


def _join(outer: Optional[str], name: str) -> str:
    return f"{outer}/{name}" if outer else name


# --- zip ---------------------------------------------------------------------

def _seekable(stream: BinaryIO):
    """The stream, or a seekable copy of it (zip needs its central directory at the end)."""
    if _can_seek(stream):
        return contextlib.nullcontext(stream)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    shutil.copyfileobj(stream, spool, 1024 * 1024)
    spool.seek(0)
    return spool


def _zip_members(path, entry, stream, depth) -> Iterator[Union[Member, Failure]]:
    with _seekable(stream) as spool:
        try:
            archive = zipfile.ZipFile(spool)
        except READ_ERRORS as exc:
            spool.seek(0)
            yield from _salvage_zip(path, entry, spool, exc, depth)
            return
        with archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield from _zip_member(path, entry, archive, info, depth)


def _zip_member(path, entry, archive, info, depth) -> Iterator[Union[Member, Failure]]:
    name = _join(entry, info.filename)
    problem = unsafe_entry_name(info.filename)
    if problem is None and info.flag_bits & 0x1:
        problem = "encrypted entry"
    if problem:
        yield Failure(path, f"refused: {problem}", name)
        return
    try:
        member = archive.open(info)
    except READ_ERRORS as exc:
        yield Failure(path, f"cannot open zip entry: {exc}", name)
        return
    with member:
        yield from _expand(path, name, member, depth + 1)


def _salvage_zip(path, entry, stream, error, depth) -> Iterator[Union[Member, Failure]]:
    """Read a zip without central directory (truncated) from its local headers."""
    count, reason, stopped_at = 0, "no further entry header", None
    while True:
        header = stream.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            break
        name, content, reason = _local_entry(header, stream)
        if content is None:
            stopped_at = _join(entry, name)
            break
        problem = unsafe_entry_name(name)
        if problem:
            yield Failure(path, f"refused: {problem}", _join(entry, name))
            continue
        count += 1
        yield from _expand(path, _join(entry, name), io.BytesIO(content), depth + 1)
    yield Failure(path, f"truncated or corrupt zip ({error}); {count} entries salvaged "
                        f"from local headers, then stopped: {reason}", stopped_at or entry)


def _local_entry(header: bytes, stream: BinaryIO):
    """One entry after a local file header: (name, content or None, reason)."""
    _, _, flags, method, _, _, crc, size, full_size, name_len, extra_len = _LOCAL_HEADER.unpack(header)
    name = stream.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
    stream.read(extra_len)
    if flags & 0x08 or method not in (0, 8) or size == 0xFFFFFFFF:
        return name, None, f"entry {name!r} cannot be read without the central directory"
    if full_size > min(MAX_SALVAGED_ENTRY, max_record_bytes()):
        return name, None, f"entry {name!r} is too large to salvage ({full_size} bytes)"
    data = stream.read(size)
    if len(data) < size:
        return name, None, f"entry {name!r} is cut off"
    try:
        content = zlib.decompressobj(-15).decompress(data, full_size + 1) if method == 8 else data
    except zlib.error as exc:
        return name, None, f"entry {name!r} is corrupt: {exc}"
    if zlib.crc32(content) != crc:
        return name, None, f"entry {name!r} fails its checksum"
    return name, content, ""


# --- tar ---------------------------------------------------------------------

def _tar_members(path, entry, stream, depth) -> Iterator[Union[Member, Failure]]:
    last, cut = None, []
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")
        for info in archive:
            if info.isdir():
                continue
            name = _join(entry, info.name)
            yield from _tar_member(path, name, archive, info, depth, cut)
            last = name
    except READ_ERRORS as exc:
        if cut and cut[-1] == last:
            return  # the entry cut off by the damage was already reported as truncated
        after = f"after entry {last!r}" if last else "before its first entry"
        yield Failure(path, f"truncated or corrupt tar archive {after}: {exc}", entry)


def _tar_member(path, name, archive, info, depth, cut: list) -> Iterator[Union[Member, Failure]]:
    problem = unsafe_entry_name(info.name)
    if problem is None and not info.isfile():
        problem = "link or special file entry" if (info.issym() or info.islnk()) else "not a regular file"
    if problem:
        yield Failure(path, f"refused: {problem}", name)
        return
    member = archive.extractfile(info)
    if info.size <= READ_WHOLE_MEMBER:
        member, error = _read_whole(member, info.size)
        if error is not None:
            cut.append(name)  # read past its bytes, the member raises the error
    yield from _expand(path, name, member, depth + 1)


def _read_whole(member: BinaryIO, size: int) -> Tuple[BinaryIO, Optional[BaseException]]:
    """A small tar member read at once into memory (one copy, no buffer layers).

    A read error (truncated archive) is kept for the first read past the
    bytes that could be read, as `_Prefixed` does, and returned beside the stream.
    """
    data = bytearray(size)
    view = memoryview(data)
    got = 0
    try:
        while got < size:
            count = member.readinto(view[got:])
            if not count:
                break
            got += count
    except READ_ERRORS as exc:
        view.release()
        return failing_after(bytes(data[:got]), exc), exc
    view.release()
    if got < size:
        error = EOFError(f"entry cut off after {got} of its {size} bytes")
        return failing_after(bytes(data[:got]), error), error
    return io.BytesIO(data), None


def prefixed(data: bytes, stream: BinaryIO) -> BinaryIO:
    """A stream of `data` followed by the rest of `stream`."""
    return io.BufferedReader(_Prefixed(data, stream))


def failing_after(data: bytes, error: BaseException) -> BinaryIO:
    """A stream of `data` whose next read past its end raises `error` (a truncated member)."""
    return io.BufferedReader(_Prefixed(data, _Failing(error)))


class _Failing(io.RawIOBase):
    """A stream whose every read raises the error it was given."""

    def __init__(self, error: BaseException):
        self._error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise self._error
