"""Measure criteria parsing speed on the legacy XML set (texts per second, one core).

Usage: python scripts/bench_criteria.py [path/to/ctgov_xml.tar.gz] [--repeat N]

Reads every <criteria><textblock> first (not timed), then times
`parse_criteria` alone over all texts, best of N runs, in CPU time of this
process (time.process_time), so that other loads on the machine count less.
"""

from __future__ import annotations

import argparse
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from toolkit.criteria.tree import parse_criteria

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov-xml" / "ctgov_xml_2023-02.tar.gz"


def load_texts(path: Path) -> list:
    """Every non-empty criteria textblock of a legacy XML archive."""
    texts = []
    with tarfile.open(path) as archive:
        for member in archive:
            if member.name.endswith(".xml"):
                root = ET.parse(archive.extractfile(member)).getroot()
                text = root.findtext("eligibility/criteria/textblock")
                if text:
                    texts.append(text)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = load_texts(args.path)
    parse_criteria(texts[0])  # load the rules outside the timing
    best = float("inf")
    for _ in range(args.repeat):
        began = time.process_time()
        count = sum(len(parse_criteria(text).criteria) for text in texts)
        best = min(best, time.process_time() - began)
    chars = sum(map(len, texts))
    print(f"{len(texts)} texts, {chars / len(texts):.0f} chars each, {count} top-level criteria")
    print(f"best of {args.repeat}: {best:.3f} s = {len(texts) / best:,.0f} texts/s, "
          f"{best / len(texts) * 1000:.3f} ms/text")
    print(f"machine check: a pure-Python loop of 10^7 additions took {calibration():.2f} s CPU "
          "(compare runs by it)")


def calibration() -> float:
    """CPU seconds of a fixed pure-Python loop, to compare runs on busy machines."""
    began = time.process_time()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.process_time() - began


if __name__ == "__main__":
    main()
