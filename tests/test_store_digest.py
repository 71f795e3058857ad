"""The stored bytes of the shipped XML records do not change when the parse path is made faster.

Each case parses shipped sources into a fresh store and compares the store's digest
(`scripts/store_digest.py`: trial, content hash, SHA-1 of the body's JSON, per version)
with the one kept in `tests/fixtures/store_digest/`. A deliberate change of the record
model or a mapper changes the digest too; then rewrite it with
`python scripts/store_digest.py STORE > tests/fixtures/store_digest/NAME.tsv`
after checking the changed bodies.
"""

from __future__ import annotations

import pytest

from conftest import REPO, load_script
from toolkit.ingest import run_parse
from toolkit.store import Store

DIGESTS = REPO / "tests" / "fixtures" / "store_digest"
# Paths relative to the repository, as the bodies keep them (`ptk parse` run from its root).
CASES = {
    "ctgov_xml_corpus": ["corpus/ctgov-xml"],
    "ctgov_xml_tarball_slice": ["tests/fixtures/data/ctgov-xml/ctgov_xml_2023-02.tar.gz"],
    "ictrp_xml_slice": ["tests/fixtures/data/ictrp/ICTRP-Results_18Mar2020.xml"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_stored_bytes_unchanged(name, tmp_path, monkeypatch):
    digest = load_script("store_digest")
    monkeypatch.chdir(REPO)
    with Store(tmp_path, create=True) as store:
        summary = run_parse(CASES[name], store=store)
    assert summary.read and not summary.failed
    expected = (DIGESTS / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
    assert digest.differences(expected, digest.digest(tmp_path)) == []
