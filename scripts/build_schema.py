#!/usr/bin/env python3
"""Write toolkit/schema/record.schema.json from the dataclasses in toolkit/records.py.

Usage:
    python scripts/build_schema.py           # rewrite the shipped schema
    python scripts/build_schema.py --check   # exit 1 when the shipped schema is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toolkit.schema.build import build_record_schema, dump_schema

TARGET = Path(__file__).resolve().parents[1] / "toolkit" / "schema" / "record.schema.json"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 when they differ")
    args = parser.parse_args(argv)
    fresh = dump_schema(build_record_schema())
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != fresh:
            print(f"{TARGET} is stale: run python scripts/build_schema.py", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date")
        return 0
    TARGET.write_text(fresh, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
