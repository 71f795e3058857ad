#!/usr/bin/env python3
"""A digest of a store's versions, to check that a change to the parse path kept every byte.

One line per stored version: registry, trial id, content hash, and the SHA-1 of its
body's JSON (decompressed, so the digest does not depend on how it is packed). Two
stores built from the same input by two versions of the code must give the same digest.

Usage:
    python scripts/store_digest.py STORE                 # print the digest
    python scripts/store_digest.py STORE OTHER_STORE     # compare two stores; exit 1 on a difference
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from typing import List

from toolkit.store import body_json, resolve_store_path


def digest(store) -> List[str]:
    """The digest lines of a store (a path as `ptk --store` takes it), sorted."""
    path = resolve_store_path(store)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT registry, trial_id, content_hash, codec, body FROM versions")
        lines = [f"{registry}\t{trial}\t{chash}\t{hashlib.sha1(body_json(codec, body)).hexdigest()}"
                 for registry, trial, chash, codec, body in rows]
    return sorted(lines)


def differences(first: List[str], second: List[str]) -> List[str]:
    """The lines of either digest missing from the other, marked `-` (first) or `+` (second)."""
    a, b = set(first), set(second)
    return sorted([f"- {line}" for line in a - b] + [f"+ {line}" for line in b - a],
                  key=lambda line: line[2:])


def main(argv: List[str]) -> int:
    if len(argv) == 1:
        print("\n".join(digest(argv[0])))
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    first, second = digest(argv[0]), digest(argv[1])
    diff = differences(first, second)
    print("\n".join(diff[:20]))
    print(f"{len(first)} and {len(second)} versions; {len(diff)} lines differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
