"""The parse pipeline: dump -> raw records -> trial records -> corpus store.

`run_parse` streams `toolkit.formats.iter_records`, maps each raw record with
`toolkit.formats.mapping.parse_record`, optionally tags it, and writes batches to the
store, one transaction per batch. A record that cannot be read, parsed or
tagged becomes a `Failure` naming file, record and reason; the run goes on
(unless `strict`). With `jobs > 1` this process walks files and archives and
writes the store; worker processes read each file or archive entry, parse
and tag it; results keep source order.
"""

from __future__ import annotations

import gc
import pickle
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

from toolkit.errors import Failure, InputError, ToolkitError
from toolkit.formats.raw import RawRecord
from toolkit.records import TrialRecord

__all__ = ["DEFAULT_BATCH_SIZE", "Outcome", "ParseSummary", "default_tagger", "parse_one",
           "iter_parsed", "run_parse"]

DEFAULT_BATCH_SIZE = 500
CHUNK_SIZE = 64  # work items sent to a worker at a time
TAG_GROUP = 64  # records tagged in one model pass (the entity model's cost is per call)
CHUNKS_IN_FLIGHT = 3  # per worker: bounds memory whatever the dump size

Tagger = Callable[[TrialRecord], TrialRecord]


@dataclass(frozen=True)
class Outcome:
    """What became of one source record: a record, a failure, or both
    (a record stored untagged because tagging failed)."""

    record: Optional[TrialRecord] = None
    failure: Optional[Failure] = None


@dataclass
class ParseSummary:
    """Counts of one `run_parse`.

    Attributes:
        read: source records read (including those that failed).
        new_trials / new_versions / unchanged / refreshed: see `store.PutSummary`.
        failed: one `Failure` per record that could not be read, parsed or tagged.
        stopped: a strict run stopped at its first failure.
    """

    read: int = 0
    new_trials: int = 0
    new_versions: int = 0
    unchanged: int = 0
    refreshed: int = 0
    failed: List[Failure] = field(default_factory=list)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """True when every record went through."""
        return not self.failed

    def to_dict(self) -> dict:
        """The JSON form, failures as {path, record, reason}."""
        data = dict(self.__dict__)
        data["failed"] = [f.__dict__ for f in self.failed]
        return data


class BatchTagger:
    """The toolkit's tagger: one record (`tagger(record)`) or many in one model pass (`.many`).

    The entity model has a fixed cost per call, so the pipeline tags the records
    of a chunk together. spaCy is imported on first use, in whichever process
    tags (picklable: workers and cluster nodes get it by reference).
    """

    def __call__(self, record: TrialRecord) -> TrialRecord:
        from toolkit.nlp import tag_record

        return tag_record(record)

    def many(self, records: Sequence[TrialRecord]) -> List[TrialRecord]:
        from toolkit.nlp import tag_records

        return tag_records(records)


def default_tagger() -> Tagger:
    """The toolkit's tagger (`BatchTagger`); spaCy loads only when it first tags."""
    return BatchTagger()


# --- one record --------------------------------------------------------------

def _failure_for(raw: RawRecord, exc: BaseException, *, stage: str = "") -> Failure:
    """A Failure naming file, record and reason for an exception on `raw`."""
    if isinstance(exc, InputError):
        return Failure(exc.path or raw.path, stage + exc.reason, exc.record or raw.where() or None)
    if isinstance(exc, RecursionError):
        reason = "record nested too deeply to map"
    else:
        reason = str(exc) if isinstance(exc, ToolkitError) else f"{type(exc).__name__}: {exc}"
    return Failure(raw.path, stage + reason, raw.where() or None)


def parse_one(item: Union[RawRecord, Failure], tagger: Optional[Tagger] = None) -> Outcome:
    """Parse (and tag) one raw record; never raises for a bad record.

    Returns:
        Outcome: the record, or the failure, or both when only tagging failed.
    """
    from toolkit.formats import parse_record

    if isinstance(item, Failure):
        return Outcome(failure=item)
    try:
        record = parse_record(item)
    except Exception as exc:  # one bad record must not stop the run
        return Outcome(failure=_failure_for(item, exc))
    if tagger is None:
        return Outcome(record=record)
    return _tag_one(record, tagger, item)


def tag_outcomes(outcomes: List[Outcome], tagger: Optional[Tagger]) -> List[Outcome]:
    """Tag the records of parsed outcomes: in one batch where the tagger can, else one by one.

    A batch that raises is tagged again record by record, so a record the
    tagger cannot handle is stored untagged with its failure named, and
    costs nothing to the others.
    """
    if tagger is None:
        return outcomes
    todo = [i for i, o in enumerate(outcomes) if o.record is not None and o.failure is None]
    many = getattr(tagger, "many", None)
    if many is not None and len(todo) > 1:
        try:
            tagged = many([outcomes[i].record for i in todo])
        except Exception:  # noqa: BLE001 - find the record at fault below, one by one
            pass
        else:
            out = list(outcomes)
            for i, record in zip(todo, tagged):
                out[i] = _tagged(record)
            return out
    out = list(outcomes)
    for i in todo:
        out[i] = _tag_one(outcomes[i].record, tagger)
    return out


def _tag_one(record: TrialRecord, tagger: Tagger, raw: Optional[RawRecord] = None) -> Outcome:
    """Tag one record; a tagger fault keeps the record untagged, with a failure naming it.

    Args:
        raw: the raw record it came from, to name it (else its `Source` does).
    """
    try:
        return _tagged(tagger(record), raw)
    except Exception as exc:  # keep the good record, report the tagger's fault
        return Outcome(record=record, failure=_failure_for(raw or _raw_of(record), exc,
                                                          stage="tagging failed (stored untagged): "))


def _tagged(record: TrialRecord, raw: Optional[RawRecord] = None) -> Outcome:
    """A tagged record; one with criteria past the tagging limit is also named, with how many."""
    from toolkit.nlp import MAX_TAGGED_CHARS, MAX_TAGGED_CRITERIA, untagged_count

    untagged = untagged_count(record)
    if not untagged:
        return Outcome(record=record)
    reason = (f"{untagged:,} criteria stored untagged (tagging takes a record's first {MAX_TAGGED_CRITERIA:,}"
              f" criteria, none longer than {MAX_TAGGED_CHARS:,} characters)")
    raw = raw or _raw_of(record)
    return Outcome(record=record, failure=Failure(raw.path, reason, raw.where() or None))


def _raw_of(record: TrialRecord) -> RawRecord:
    """A stand-in raw record naming where `record` was read from (its `Source`)."""
    source = record.source
    if source is None:
        return RawRecord("", None)
    return RawRecord(source.format, None, path=source.path, entry=source.entry, index=source.index)


def _parsed_in_groups(items: Iterable, tagger: Optional[Tagger]) -> Iterator[Outcome]:
    """`parse_one` of each item, tagged a group of `TAG_GROUP` records at a time, in order."""
    if tagger is None:
        yield from (parse_one(item) for item in items)
        return
    group: List[Outcome] = []
    for item in items:
        group.append(parse_one(item))
        if len(group) >= TAG_GROUP:
            yield from tag_outcomes(group, tagger)
            group = []
    yield from tag_outcomes(group, tagger)


# --- streams -----------------------------------------------------------------

def _read(paths: Sequence, *, format: Optional[str]) -> Iterator[Union[RawRecord, Failure]]:
    """Raw records of every path; a reader that breaks down costs only its path."""
    from toolkit.formats import iter_records

    for path in paths:
        try:
            yield from iter_records([path], format=format)
        except Exception as exc:  # a reader breaks down or has a bug: go on with the next path
            yield _path_failure(path, exc)


def _path_failure(path, exc: Exception) -> Failure:
    """The Failure of a path whose reading stopped on `exc`."""
    if isinstance(exc, InputError):
        return Failure(exc.path or str(path), exc.reason, exc.record)
    return Failure(str(path), f"{type(exc).__name__}: {exc}")


def iter_parsed(paths: Sequence, *, format: Optional[str] = None, tagger: Optional[Tagger] = None,
                jobs: int = 1, cluster: Any = None) -> Iterator[Outcome]:
    """Yield one `Outcome` per source record, in source order.

    Args:
        paths: files, folders, archives, or "-" for stdin.
        format: a reader format name; detected per file when None.
        tagger: applied to every parsed record (e.g. `toolkit.nlp.tag_record`).
        jobs: worker processes for parsing (1 = in this process).
        cluster: a Dask scheduler address (or client): the workers of that
            cluster read, parse and tag; this process walks the inputs.

    Raises:
        UnknownFormatError: `format` names no installed reader.
        ClusterUnavailable: `cluster` is given but cannot be reached.
    """
    from toolkit.formats import FORMATS, detect

    if format:
        detect.load_reader(format, FORMATS)
    paths = _as_list(paths)
    if cluster is not None:
        return _parse_on_cluster(_tasks(paths, format=format), tagger=tagger, format=format, address=cluster)
    if jobs <= 1:
        return _parsed_in_groups(_read(paths, format=format), tagger)
    return _parse_in_workers(_tasks(paths, format=format), tagger=tagger, format=format, jobs=jobs)


def _as_list(paths) -> list:
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Iterable):
        return [paths]
    return list(paths)


# --- worker processes ----------------------------------------------------------
#
# The parent only walks containers (decompressing a tarball is sequential) and
# hands each small file or archive entry to a worker as bytes: XML parsing,
# mapping, the criteria tree and tagging all happen in the workers. A member
# bigger than MEMBER_BYTES (a JSON array of 1,000 studies) is read here and
# its raw records are sent instead.

MEMBER_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024

_WORKER = {"tagger": None, "format": None}


def _tasks(paths: Sequence, *, format: Optional[str]) -> Iterator[tuple]:
    """Work items in source order: ("member", path, entry, bytes) or ("item", raw|failure)."""
    from toolkit.io import containers

    for path in paths:
        try:
            for member in containers.iter_members(path):
                if isinstance(member, Failure):
                    yield ("item", member)
                else:
                    yield from _member_tasks(member, format)
        except Exception as exc:  # a reader breaks down or has a bug: go on with the next path
            yield ("item", _path_failure(path, exc))


def _member_tasks(member, format: Optional[str]) -> Iterator[tuple]:
    """A small member whole, or the raw records of a big one."""
    from toolkit.io import containers

    try:
        data, stream = containers.peek(member.stream, MEMBER_BYTES + 1)
    except containers.READ_ERRORS as exc:
        yield ("item", Failure(member.path, f"truncated or damaged data: {exc}", member.entry))
        return
    if len(data) <= MEMBER_BYTES:
        yield ("member", member.path, member.entry, data, _pending_error(stream))
        return
    big = containers.Member(member.path, member.entry, stream)
    for item in _read_member(big, format):
        yield ("item", item)


def _pending_error(stream) -> Optional[str]:
    """The read error held back past the end of a member's bytes (a truncated entry), if any."""
    from toolkit.io import containers

    try:
        for _ in range(containers.MAX_DEPTH + 2):
            if stream.read(1):
                return None
    except containers.READ_ERRORS as exc:
        return str(exc) or type(exc).__name__
    return None


def _read_member(member, format: Optional[str]) -> Iterator[Union[RawRecord, Failure]]:
    """Raw records of one member, the way `iter_records` reads them."""
    from toolkit.formats import read_member

    return read_member(member, format=format)


def _run_task(task: tuple, tagger: Optional[Tagger], format: Optional[str]) -> List[Outcome]:
    """Outcomes of one work item (read if needed, then parse and tag)."""
    if task[0] == "item":
        return [parse_one(task[1], tagger)]
    import io

    from toolkit.io import containers

    _, path, entry, data, error = task
    stream = io.BytesIO(data) if error is None else containers.failing_after(data, EOFError(error))
    member = containers.Member(path, entry, stream)
    return [parse_one(item, tagger) for item in _read_member(member, format)]


def _init_worker(tagger: Optional[Tagger], format: Optional[str]) -> None:
    _WORKER["tagger"] = tagger
    _WORKER["format"] = format


def _run_chunk(chunk: list) -> bytes:
    """A chunk's outcomes, pickled here so the parent unpickles them itself (see `_collect`)."""
    outcomes = _chunk_outcomes(chunk, _WORKER["tagger"], _WORKER["format"])
    return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)


def _chunk_outcomes(chunk: list, tagger: Optional[Tagger], format: Optional[str]) -> List[Outcome]:
    """The outcomes of a chunk of tasks, its records tagged in one batch."""
    return tag_outcomes([o for task in chunk for o in _run_task(task, None, format)], tagger)


def _task_bytes(task: tuple) -> int:
    return len(task[3]) if task[0] == "member" else 4096


def _chunks(tasks: Iterator[tuple]) -> Iterator[list]:
    """Groups of tasks of about CHUNK_BYTES, at most CHUNK_SIZE tasks each."""
    chunk, size = [], 0
    for task in tasks:
        chunk.append(task)
        size += _task_bytes(task)
        if len(chunk) >= CHUNK_SIZE or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _parse_in_workers(tasks: Iterator[tuple], *, tagger: Optional[Tagger], format: Optional[str],
                      jobs: int) -> Iterator[Outcome]:
    """Run chunks in the toolkit's process pool (`toolkit.workers.in_processes`), in order."""
    from toolkit.workers import in_processes

    def here(chunk: list, _error: BaseException) -> List[Outcome]:
        """A chunk that could not go through a worker (unpicklable, a worker that died) runs here."""
        return _chunk_outcomes(chunk, tagger, format)

    for result in in_processes(_run_chunk, _chunks(tasks), jobs=jobs, ahead=CHUNKS_IN_FLIGHT,
                               initializer=_init_worker, initargs=(tagger, format), fallback=here):
        yield from _unpickle(result) if isinstance(result, bytes) else result


def _run_chunk_with(unit: tuple) -> bytes:
    """A cluster work unit: (chunk, tagger, format) -> the chunk's pickled outcomes."""
    chunk, tagger, format = unit
    outcomes = _chunk_outcomes(chunk, tagger, format)
    return pickle.dumps(outcomes, protocol=pickle.HIGHEST_PROTOCOL)


def _parse_on_cluster(tasks: Iterator[tuple], *, tagger: Optional[Tagger], format: Optional[str],
                      address: Any) -> Iterator[Outcome]:
    """Run chunks on a Dask cluster (`toolkit.workers.on_cluster`), results in source order."""
    from toolkit.workers import on_cluster

    units = ((chunk, tagger, format) for chunk in _chunks(tasks))
    for blob in on_cluster(_run_chunk_with, units, address=address):
        yield from _unpickle(blob)


def _unpickle(blob: bytes) -> List[Outcome]:
    """Outcomes from a worker, with the cyclic garbage collector paused.

    Unpickling a chunk creates tens of thousands of small objects, none of
    them garbage; every 700 of them would otherwise start a collection,
    which doubles the cost of this step in the parent (the one sequential
    process). Measured: 0.26 -> 0.13 ms per record.
    """
    if not gc.isenabled():
        return pickle.loads(blob)
    gc.disable()
    try:
        return pickle.loads(blob)
    finally:
        gc.enable()


# --- the run -----------------------------------------------------------------

class _Batcher:
    """Collects records into batches for the store and counts the run."""

    def __init__(self, store, *, batch_size: int, strict: bool,
                 on_record: Optional[Callable], on_failure: Optional[Callable]):
        self.store = store
        self.batch_size = batch_size
        self.strict = strict
        self.on_record = on_record
        self.on_failure = on_failure
        self.batch: List[TrialRecord] = []
        self.summary = ParseSummary()

    def take(self, outcome: Outcome) -> bool:
        """Account for one outcome; False when a strict run must stop."""
        self.summary.read += 1
        if outcome.failure is not None:
            self.summary.failed.append(outcome.failure)
            if self.on_failure:
                self.on_failure(outcome.failure)
            if self.strict:
                self.summary.stopped = True
                return False
        if outcome.record is not None:
            self.batch.append(outcome.record)
            if self.on_record:
                self.on_record(outcome.record)
            if len(self.batch) >= self.batch_size:
                self.flush()
        return True

    def flush(self) -> None:
        """Write the current batch in one transaction."""
        if self.batch and self.store is not None:
            put = self.store.put_many(self.batch)
            self.summary.new_trials += put.new_trials
            self.summary.new_versions += put.new_versions
            self.summary.unchanged += put.unchanged
            self.summary.refreshed += put.refreshed
        self.batch = []


def run_parse(paths, *, store, format: Optional[str] = None, strict: bool = False,
              tagger: Optional[Tagger] = None, jobs: int = 1, cluster: Any = None,
              batch_size: int = DEFAULT_BATCH_SIZE,
              on_record: Optional[Callable[[TrialRecord], None]] = None,
              on_failure: Optional[Callable[[Failure], None]] = None) -> ParseSummary:
    """Parse dumps into the store.

    Args:
        paths: files, folders, archives, or "-" for stdin.
        store: an open `toolkit.store.Store` (None: parse without storing).
        format: a reader format name; detected per file when None.
        strict: stop at the first failure; the batch in progress is not written.
        tagger: applied to every record (e.g. `toolkit.nlp.tag_record`).
        jobs: worker processes for parsing.
        cluster: a Dask scheduler address: parse and tag on its workers (see `iter_parsed`).
        batch_size: records per store transaction.
        on_record: called with each parsed record, in source order.
        on_failure: called with each failure as it happens.

    Returns:
        ParseSummary: read, new trials, new versions, unchanged, failures.

    Raises:
        StoreError: the store is locked or broken (batches written so far stay).
    """
    batcher = _Batcher(store, batch_size=max(1, batch_size), strict=strict,
                       on_record=on_record, on_failure=on_failure)
    outcomes = iter_parsed(paths, format=format, tagger=tagger, jobs=jobs, cluster=cluster)
    try:
        for outcome in outcomes:
            if not batcher.take(outcome):
                break
        else:
            batcher.flush()
    finally:
        close = getattr(outcomes, "close", None)
        if close:
            close()
    return batcher.summary
