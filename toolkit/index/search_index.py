"""One search index on disk: where it lives, locking, building, keeping current.

Layout: `<root>/<engine>/` holds the engine's files plus `ptk-index.json`
(schema version, counts), `vocabulary.txt` (words for suggestions) and
`terms/` (each text field's terms, for fuzzy words and prefixes:
`toolkit.index.term_lists`) and `concepts.sqlite` (what a query word also
finds: `toolkit.index.concepts`). Opening an index for search checks that
every part is there: a missing part is an error naming `ptk index --rebuild`,
never silently fewer hits.
Every write holds `<root>/.<engine>.lock`; a second writer waits up to
`lock_timeout` seconds and then fails with `SearchIndexError`. A rebuild
writes a fresh directory (`<root>/.<engine>-XXXX`) and swaps it in, so an
interrupted rebuild leaves the old index as it was; the staging directories
a killed rebuild leaves behind are removed by the next writer.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, Optional, Tuple

from toolkit.errors import SearchIndexError
from toolkit.index.concepts import CONCEPTS_FILE, ConceptStore, ConceptTable, load_concepts
from toolkit.index.schema import SCHEMA_VERSION, trial_key
from toolkit.index.engines import DEFAULT_ENGINE, ENGINES, Engine, open_engine
from toolkit.index.query import Node, Word
from toolkit.index.term_lists import TEXT_FIELDS, TermLists, resolve_terms, term_list_files

__all__ = ["DEFAULT_INDEX_DIR", "IndexStatus", "SearchIndex", "resolve_index_dir", "resolve_engine"]

DEFAULT_INDEX_DIR = Path("indexes")
META_FILE = "ptk-index.json"
VOCABULARY_FILE = "vocabulary.txt"
LOCK_TIMEOUT_S = 30.0
BATCH_TRIALS = 2000
BUILD_HINT = "run `ptk index` to build it from the store"
REBUILD_HINT = "run `ptk index --rebuild`"


def resolve_index_dir(path=None) -> Path:
    """The index root: the argument, else `$PTK_INDEX`, else `indexes/`."""
    return Path(path or os.environ.get("PTK_INDEX") or DEFAULT_INDEX_DIR)


def resolve_engine(name: Optional[str], root: Path) -> str:
    """The engine asked for, else `$PTK_ENGINE`, else the one built in `root` (whoosh first)."""
    name = name or os.environ.get("PTK_ENGINE")
    if name:
        return name
    for candidate in ENGINES:
        if (root / candidate / META_FILE).is_file():
            return candidate
    return DEFAULT_ENGINE


@dataclass(frozen=True)
class IndexStatus:
    """How the index compares with the store's latest versions."""

    missing: Tuple[str, ...]
    changed: Tuple[str, ...]
    removed: Tuple[str, ...]

    @property
    def current(self) -> bool:
        return not (self.missing or self.changed or self.removed)

    def describe(self) -> str:
        """One line: what is out of date."""
        return (f"{len(self.missing)} trial(s) not indexed, {len(self.changed)} with a newer version, "
                f"{len(self.removed)} no longer in the store")


class SearchIndex:
    """The search index of one engine under one root directory.

    Args:
        root: index root (see `resolve_index_dir`).
        engine: engine name (see `resolve_engine`).
        lock_timeout: seconds a writer waits for another writer.
    """

    def __init__(self, root=None, *, engine: Optional[str] = None, lock_timeout: float = LOCK_TIMEOUT_S):
        self.root = resolve_index_dir(root)
        self.engine_name = resolve_engine(engine, self.root)
        self.path = self.root / self.engine_name
        self.lock_timeout = lock_timeout
        self._engine: Optional[Engine] = None
        self._terms: Optional[TermLists] = None
        self._concepts: Optional[ConceptStore] = None

    # --- state ---------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.engine_name, self.path)
        return self._engine

    def exists(self) -> bool:
        """True when a complete index of this engine is at `path`."""
        return (self.path / META_FILE).is_file()

    def meta(self) -> dict:
        """The index's metadata (schema version, counts, last update)."""
        try:
            return json.loads((self.path / META_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def check_usable(self) -> None:
        """Raise `SearchIndexError` naming the command to run when the index cannot be searched."""
        if not self.exists():
            raise SearchIndexError(f"no {self.engine_name} search index at {self.path}: {BUILD_HINT}")
        version = self.meta().get("schema_version")
        if version != SCHEMA_VERSION:
            raise SearchIndexError(
                f"the search index at {self.path} has schema version {version}, this ptk needs "
                f"{SCHEMA_VERSION}: {REBUILD_HINT}")
        missing = self.missing_parts()
        if missing:
            raise SearchIndexError(
                f"the search index at {self.path} is incomplete (missing {', '.join(missing)}): {REBUILD_HINT}")

    def missing_parts(self) -> list:
        """The files of a complete index that are not in `path` (empty when it is whole)."""
        if not self.engine.exists():
            return ["the engine's index files"]
        parts = [VOCABULARY_FILE, CONCEPTS_FILE] + term_list_files()
        return [part for part in parts if not (self.path / part).is_file()]

    def concepts(self) -> ConceptStore:
        """What a query word also finds, as this index was built with it."""
        if self._concepts is None:
            self._concepts = ConceptStore(self.path / CONCEPTS_FILE)
        return self._concepts

    def resolve(self, node: Node) -> Node:
        """A compiled tree as the engines run it: fuzzy words resolved to indexed terms."""
        if self._terms is None:
            self._terms = TermLists(self.path)
        return resolve_terms(node, self._terms)

    def trial_hashes(self) -> Dict[str, str]:
        """{trial_key: content_hash} of every indexed trial."""
        with engine_errors(self.path):
            return _trial_hashes(self.engine)

    def status(self, store) -> IndexStatus:
        """Compare the indexed trials with the store's latest versions."""
        wanted = _store_hashes(store)
        have = self.trial_hashes() if self.exists() else {}
        return IndexStatus(
            missing=tuple(sorted(k for k in wanted if k not in have)),
            changed=tuple(sorted(k for k in wanted if k in have and have[k] != wanted[k])),
            removed=tuple(sorted(k for k in have if k not in wanted)),
        )

    def close(self) -> None:
        self._terms = None
        if self._concepts is not None:
            self._concepts.close()
            self._concepts = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    # --- writing -------------------------------------------------------------

    def rebuild(self, records: Iterable, *, source: Optional[str] = None,
                progress: Optional[Callable[[int], None]] = None, jobs: int = 1) -> dict:
        """Index `records` into a fresh index and swap it in atomically.

        Args:
            records: the latest version of every trial, as records or as the
                store's undecoded rows (`Store.iter_latest_bodies`).
            source: the store the records come from (kept in the metadata).
            progress: called with the number of records done after each batch.
            jobs: processes building documents (worth it for stored bodies).

        Returns:
            The new index's metadata.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self.close()
            import tempfile  # the write path only (kept off a search's start-up)

            staging = Path(tempfile.mkdtemp(prefix=f".{self.engine_name}-", dir=self.root))
            try:
                fresh = open_engine(self.engine_name, staging / "index")
                fresh.create()
                vocabulary: set = set()
                terms: Dict[str, set] = {}
                compounds: Dict[str, set] = {}
                counts = _write_batches(fresh, records, vocabulary=vocabulary, terms=terms, replace=False,
                                        progress=progress, jobs=jobs, compounds=compounds)
                TermLists(fresh.path).write(terms)
                write_concepts(fresh.path, compounds)
                meta = self._write_meta(fresh, counts, vocabulary, source=source)
                fresh.close()
                self._swap_in(fresh.path)
            finally:
                _remove_tree(staging)
        return meta

    def update(self, records: Iterable, *, remove: Iterable[str] = (), source: Optional[str] = None,
               progress: Optional[Callable[[int], None]] = None, jobs: int = 1) -> dict:
        """Replace the documents of `records`' trials and drop the trials `remove`.

        A record's trial loses every document of its previous version first, so
        nothing is indexed twice. Creates the index when there is none.
        """
        if not self.exists():
            return self.rebuild(records, source=source, progress=progress, jobs=jobs)
        with self._locked():
            vocabulary = self._read_vocabulary()
            terms: Dict[str, set] = {}
            with engine_errors(self.path):
                counts = _write_batches(self.engine, records, vocabulary=vocabulary, terms=terms, replace=True,
                                        progress=progress, remove=tuple(remove), jobs=jobs)
            lists = TermLists(self.path)
            lists.write({field: terms.get(field, set()) | lists.read(field) for field in TEXT_FIELDS})
            self._terms = None
            if not (self.path / CONCEPTS_FILE).is_file():
                write_concepts(self.path, {})
            return self._write_meta(self.engine, counts, vocabulary, source=source or self.meta().get("store"),
                                    whole=False)

    def refresh(self, store, *, progress: Optional[Callable[[int], None]] = None, jobs: int = 1) -> IndexStatus:
        """Bring the index level with the store (only what changed).

        Returns:
            The status before the refresh (what was done).
        """
        generation = store.generation()  # read first: a write during the refresh leaves the index stale
        if self.exists() and (self.meta().get("schema_version") != SCHEMA_VERSION or self.missing_parts()):
            self.rebuild(store.iter_latest_bodies(), source=_store_path(store), progress=progress, jobs=jobs)
            self.note_store_generation(generation)
            return IndexStatus(missing=(), changed=tuple(sorted(self.trial_hashes())), removed=())
        before = self._changes_since_noted(store) or self.status(store)
        if not (before.current and self.exists()):
            keys = set(before.missing) | set(before.changed)
            self.update(_records_for(store, keys), remove=before.removed, source=_store_path(store),
                        progress=progress, jobs=jobs)
        self.note_store_generation(generation)
        return before

    def _changes_since_noted(self, store) -> Optional[IndexStatus]:
        """What changed in the store since the generation this index noted, asked of the store alone.

        None when that cannot be told so (no index, no generation noted,
        another store, a store that did not track it then): `status` compares
        every trial instead. A store never drops a trial, so nothing is removed.
        """
        noted = self._noted_generation(store) if self.exists() else None
        if noted is None:
            return None
        changed = store.changed_since(noted)
        if changed is None:
            return None
        keys = {trial_key(registry, trial_id): new for (registry, trial_id), new in changed.items()}
        return IndexStatus(missing=tuple(sorted(k for k, new in keys.items() if new)),
                           changed=tuple(sorted(k for k, new in keys.items() if not new)), removed=())

    def built_from(self, store) -> bool:
        """True when this index was built from `store` (same file)."""
        return self.meta().get("store") == _store_path(store)

    def is_stale(self, store) -> bool:
        """True when the store's latest versions differ from what is indexed.

        The store's generation noted when the index was last brought level
        answers at once, whatever the store's size; an index without one (or
        one that differs) is compared by the hashes of every latest version.
        """
        noted = self._noted_generation(store)
        if noted is not None and noted == store.generation():
            return False
        meta = self.meta()
        if meta.get("fingerprint") is None:  # an update does not fingerprint the whole index
            return not self.status(store).current
        return meta.get("fingerprint") != fingerprint(_store_hashes(store))

    def _noted_generation(self, store) -> Optional[int]:
        """The generation of `store` this index was last level with (None: none noted, or another store)."""
        meta = self.meta()
        return meta.get("store_generation") if meta.get("store") == _store_path(store) else None

    def note_store_generation(self, generation: int) -> None:
        """Record the store generation this index is level with (read before the build began)."""
        if self.exists():
            meta = dict(self.meta(), store_generation=generation)
            _atomic_write(self.path / META_FILE, json.dumps(meta, indent=1) + "\n")

    # --- helpers -------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{self.engine_name}.lock", "a+") as handle:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SearchIndexError(
                            f"the search index at {self.path} is being written by another process; "
                            f"waited {self.lock_timeout:g}s, try again when it has finished") from None
                    time.sleep(0.1)
            try:
                remove_stale_staging(self.root, self.engine_name)
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _swap_in(self, fresh: Path) -> None:
        old = None
        if self.path.exists():
            old = self.root / f".{self.engine_name}-old-{os.getpid()}"
            os.replace(self.path, old)
        os.replace(fresh, self.path)
        if old is not None:
            _remove_tree(old)

    def _read_vocabulary(self) -> set:
        try:
            return set((self.path / VOCABULARY_FILE).read_text("utf-8").split())
        except OSError:
            return set()

    def vocabulary(self) -> list:
        """Words seen in indexed criteria (for "did you mean" suggestions)."""
        return sorted(self._read_vocabulary())

    def _write_meta(self, engine: Engine, counts: dict, vocabulary: set, *, source: Optional[str],
                    whole: bool = True) -> dict:
        """Write the metadata and vocabulary of the index `engine` holds (ours, or a fresh one).

        `whole`: the index was just built whole, so its fingerprint (which reads
        every trial) is worth taking; an update leaves it out (see `is_stale`).
        """
        old = self.meta() if engine.path == self.path else {}
        meta = {
            "schema_version": SCHEMA_VERSION,
            "engine": self.engine_name,
            "trials": engine.count(Word("kind", "trial")),
            "criteria": engine.count(Word("kind", "criterion")),
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "built": old.get("built") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "last_batch": counts,
            "store": source,
            "fingerprint": fingerprint(_trial_hashes(engine)) if whole else None,
        }
        _atomic_write(engine.path / VOCABULARY_FILE, "\n".join(sorted(vocabulary)) + "\n")
        _atomic_write(engine.path / META_FILE, json.dumps(meta, indent=1) + "\n")
        return meta


def _trial_hashes(engine: Engine) -> Dict[str, str]:
    """{trial_key: content_hash} of every trial document in an engine."""
    rows = engine.stored_values(Word("kind", "trial"), ("trial_key", "content_hash"))
    return {row["trial_key"]: row["content_hash"] for row in rows}


def _store_hashes(store) -> Dict[str, str]:
    """{trial_key: content_hash} of the store's latest versions."""
    return {trial_key(r, t): h for (r, t), h in store.latest_hashes().items()}


def write_concepts(path: Path, compounds: Dict[str, set]) -> None:
    """Write the index's concept table: the shipped concepts and the corpus's hyphen joins."""
    table = ConceptTable(load_concepts())
    table.add_compounds(compounds)
    table.save(Path(path) / CONCEPTS_FILE)


def remove_stale_staging(root: Path, engine_name: str) -> list:
    """Remove what killed writers left in `root` (staging and swapped-out directories of one engine).

    Call it holding the engine's lock: no other writer is then using them.

    Returns:
        The directories removed.
    """
    removed = []
    for path in Path(root).glob(f".{engine_name}-*"):
        if path.is_dir() and not path.is_symlink():
            _remove_tree(path)
            removed.append(path)
    return removed


def _write_batches(engine: Engine, items: Iterable, *, vocabulary: set, terms: Dict[str, set], replace: bool,
                   progress=None, remove: Tuple[str, ...] = (), jobs: int = 1,
                   compounds: Optional[Dict[str, set]] = None) -> dict:
    """Write records (or stored bodies) in commits of `BATCH_TRIALS` trials.

    Documents are built by `toolkit.index.batches`, over `jobs` processes;
    a trial met twice keeps its last version.
    """
    counts = {"trials": 0, "documents": 0, "removed": len(remove), "failed": []}
    batch: Dict[str, list] = {}
    pending_remove = list(remove)
    written: set = set()

    def flush() -> None:
        """Write the batch, first deleting removed trials and earlier documents of its trials."""
        again = [key for key in batch if replace or key in written]
        documents = (doc for docs in batch.values() for doc in docs)
        counts["documents"] += engine.write(documents, delete_keys=pending_remove + again)
        counts["trials"] += len(batch)
        if progress is not None:
            progress(counts["trials"])
        written.update(batch)
        batch.clear()
        pending_remove.clear()

    from toolkit.index.batches import encoded_units  # the write path only: records, documents, pools

    for unit in encoded_units(engine.name, items, jobs=jobs):
        counts["failed"].extend(unit.failed)
        vocabulary.update(unit.vocabulary)
        for field, values in unit.terms.items():
            terms.setdefault(field, set()).update(values)
        if compounds is not None:
            for joined, parts in unit.compounds.items():
                compounds.setdefault(joined, set()).update(parts)
        for key, documents in unit.trials:
            batch.pop(key, None)  # last version wins, in input order
            batch[key] = documents
        if len(batch) >= BATCH_TRIALS:
            flush()
    if batch or pending_remove:
        flush()
    return counts


def _records_for(store, keys: set) -> Iterator:
    """The latest stored version of each trial key, undecoded: looked up one by one, or a full scan when
    they are a large share of the store."""
    if not keys:
        return
    if len(keys) > 200 and len(keys) * 4 > store.count_versions(latest_only=True):
        for body in store.iter_latest_bodies():
            if trial_key(body.registry, body.trial_id) in keys:
                yield body
        return
    yield from store.latest_bodies(tuple(key.split(":", 1)) for key in sorted(keys))


@contextmanager
def engine_errors(path: Path) -> Iterator[None]:
    """Turn an engine library's own exception into a `SearchIndexError`."""
    try:
        yield
    except SearchIndexError:
        raise
    except Exception as exc:  # whoosh and tantivy raise their own types
        raise SearchIndexError(
            f"the search index at {path} cannot be used ({type(exc).__name__}: {exc}): "
            "run `ptk index --rebuild`") from exc


def fingerprint(hashes: Dict[str, str]) -> str:
    """One hash of {trial_key: content_hash}: equal iff the same versions."""
    import hashlib  # writes, and a staleness check without a store generation: kept off a search's start-up

    blob = "\n".join(f"{key}={value}" for key, value in sorted(hashes.items()))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _store_path(store) -> Optional[str]:
    path = getattr(store, "path", None)
    return str(Path(path).resolve()) if path is not None else None


def _remove_tree(path: Path) -> None:
    import shutil  # the write path only (shutil imports the archive modules)

    shutil.rmtree(path, ignore_errors=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
