"""The interface every engine implements, and what a search returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from toolkit.index.query import Node

__all__ = ["Engine", "Hit", "best_trials_kept"]


@dataclass(frozen=True)
class Hit:
    """One matching document: its score and stored fields."""

    score: float
    fields: Mapping[str, str]


class Engine:
    """A search index in one directory.

    Documents come from `toolkit.index.documents`; queries are compiled trees
    from `toolkit.index.compile` with their fuzzy words resolved to indexed
    terms (`SearchIndex.resolve`). Implementations translate both to their
    library and nothing else: locking, atomic rebuilds and metadata are done
    once, in `toolkit.index.search_index`.
    """

    name = "base"

    def __init__(self, path: Path):
        self.path = Path(path)

    def exists(self) -> bool:
        """True when an index of this engine is in `path`."""
        raise NotImplementedError

    def create(self) -> None:
        """Make an empty index in `path` (which must be empty or absent)."""
        raise NotImplementedError

    @staticmethod
    def encode(document: dict) -> Any:
        """A document in the form `write` takes (built where documents are built: picklable)."""
        return document

    def write(self, documents: Iterable[Any], *, delete_keys: Iterable[str] = ()) -> int:
        """Delete the documents of the trials `delete_keys`, add encoded `documents`, commit.

        Returns:
            The number of documents added.
        """
        raise NotImplementedError

    def search(self, node: Node, *, limit: Optional[int] = 10) -> List[Hit]:
        """Best hits first; `limit=None` returns every match."""
        raise NotImplementedError

    def best_trial_hits(self, node: Node, trials: int) -> List[Hit]:
        """Every hit of the `trials` trials with the best hits, maybe with more trials' hits.

        A trial ranks by its best hit's score (rounded to 6 places, as
        `toolkit.index.hits` ranks groups); trials tied at the cut are all
        kept, so the caller's exact choice is always among them. This
        default returns every match.
        """
        return self.search(node, limit=None)

    def count(self, node: Node) -> int:
        """How many documents match."""
        raise NotImplementedError

    def tally(self, node: Node, *, by_trial: bool = False) -> Optional[Tuple[int, Dict[str, Dict[str, int]]]]:
        """(matches, {facet: {value: matches}}) counted from columns, or None when this engine cannot.

        With `by_trial`, matches are distinct trials: a trial counts once under each value of its
        status, phases and countries, and under each polarity of its matching criteria.
        """
        return None

    def stored_values(self, node: Node, names: Iterable[str]) -> List[Dict[str, str]]:
        """The stored fields `names` of every match, in no particular order."""
        return [{n: hit.fields.get(n, "") for n in names} for hit in self.search(node, limit=None)]

    def close(self) -> None:
        """Release readers and files."""


def best_trials_kept(scores: Sequence[float], trials: Sequence[int], count: int) -> List[bool]:
    """For each hit (its score and trial number): is its trial among the `count` best?

    A trial ranks by its best score rounded to 6 places; every trial tied
    with the `count`-th is kept (see `Engine.best_trial_hits`).
    """
    best: Dict[int, float] = {}
    for score, trial in zip(scores, trials):
        score = round(score, 6)
        if best.get(trial, -1.0) < score:
            best[trial] = score
    if len(best) <= count:
        return [True] * len(scores)
    cut = sorted(best.values(), reverse=True)[count - 1]
    return [best[trial] >= cut for trial in trials]
