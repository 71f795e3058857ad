"""Rewrite the expected outlines of the criteria golden cases after review.

Usage: python scripts/update_criteria_golden.py [--check] [case files ...]

Each case of tests/fixtures/criteria/*.txt is parsed again and its
`expected` block replaced by the current outline. Review the diff
(`git diff tests/fixtures/criteria`) before committing: every changed line is
a change of parser behaviour. `--check` only lists the cases that differ and
exits 1 when any does.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))  # the golden-case helpers live beside the tests that read them

from golden import dump_cases, load_cases, render_outline  # noqa: E402
from toolkit.criteria import parse_criteria  # noqa: E402

FIXTURES = TESTS / "fixtures" / "criteria"


def update(path: Path, *, check: bool) -> int:
    """Refresh one case file; return how many cases changed."""
    cases = load_cases(path)
    fresh = [dataclasses.replace(c, expected=render_outline(parse_criteria(c.text))) for c in cases]
    changed = [new.name for old, new in zip(cases, fresh) if old.expected != new.expected]
    for name in changed:
        print(f"{path.name}: {name} changed", file=sys.stderr)
    if changed and not check:
        path.write_text(dump_cases(fresh), encoding="utf-8")
    return len(changed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="only report differences")
    args = parser.parse_args()
    files = args.files or sorted(FIXTURES.glob("*.txt"))
    changed = sum(update(path, check=args.check) for path in files)
    print(f"{changed} case(s) {'differ' if args.check else 'rewritten'}", file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
