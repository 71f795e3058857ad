"""One trial under several registries' ids: alias reading, store links, show and stats."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from toolkit.canonical import with_hash
from toolkit.cli import main
from toolkit.normalize.aliases import alias_keys, alias_of
from toolkit.records import Identifier
from toolkit.store import Store


@pytest.mark.parametrize("text,expected", [
    ("NCT04315948", ("ctgov", "NCT04315948")),
    ("EUCTR2020-000890-25-FR", ("euctr", "2020-000890-25")),   # ICTRP's member-state record id
    ("2014-002606-20-3RD", ("euctr", "2014-002606-20")),      # ctrdata: third-country record
    ("EudraCT 2020-000890-25", ("euctr", "2020-000890-25")),
    ("ISRCTN 48721236", ("isrctn", "ISRCTN48721236")),
    ("ChiCTR2000029953", ("chictr", "ChiCTR2000029953")),
    ("ChiCTR-IOR-17013456", ("chictr", "ChiCTR-IOR-17013456")),
    ("DRKS00021234", ("drks", "DRKS00021234")),
    ("NCT00000000", None),                                    # an EU CTR form's empty answer
    ("ISRCTN00000000", None),
    ("K-877-ER-04", None),                                    # sponsor protocol number
    ("Nil known", None),
])
def test_normalize_alias_of_ids(text, expected):
    assert alias_of(text) == expected


def test_normalize_alias_keys_own_id_first():
    assert alias_keys("euctr", "EUCTR2020-000890-25-FR", ["NCT04315948", "x"]) == (
        "euctr:2020-000890-25", "ctgov:NCT04315948")
    assert alias_keys("irct", "IRCT20200310046736N1", []) == ("irct:IRCT20200310046736N1",)


@pytest.fixture()
def linked_store(tmp_path, sample_records):
    """The sample, plus the seed trial's record renamed as if registered in EU CTR and ISRCTN."""
    seed = next(r for r in sample_records if r.trial_id == "NCT06054113")
    eu = with_hash(dataclasses.replace(seed, registry="euctr", trial_id="EUCTR2023-000001-11-DE",
                                       secondary_ids=(Identifier("NCT06054113", "NCT"),)))
    eu_fr = with_hash(dataclasses.replace(eu, trial_id="EUCTR2023-000001-11-FR", secondary_ids=()))
    isrctn = with_hash(dataclasses.replace(seed, registry="isrctn", trial_id="ISRCTN12345678",
                                           secondary_ids=(Identifier("2023-000001-11", "EudraCT"),)))
    with Store(tmp_path / "store", create=True) as store:
        store.put_many(list(sample_records) + [eu, eu_fr, isrctn])
    return tmp_path / "store"


def test_normalize_store_links_trials_across_registries(linked_store, sample_records):
    with Store(linked_store) as store:
        linked = store.linked_trials("NCT06054113")
        assert linked == [("ctgov", "NCT06054113"), ("euctr", "EUCTR2023-000001-11-DE"),
                          ("euctr", "EUCTR2023-000001-11-FR"), ("isrctn", "ISRCTN12345678")]
        groups = store.trial_groups()
        assert len({groups[key] for key in linked}) == 1
        stats = store.stats()
        assert stats.trials == len({r.key for r in sample_records}) + 3
        assert stats.unique_trials == stats.trials - 3
        assert stats.linked == {"4": 1}
        aliases = store.aliases("NCT06054113")
        assert aliases[0].key == "ctgov:NCT06054113"
        assert aliases[0].stored == (("euctr", "EUCTR2023-000001-11-DE"),)


def test_normalize_show_lists_aliases_and_stats_counts_unique_trials(linked_store):
    runner = CliRunner()
    shown = runner.invoke(main, ["show", "ISRCTN12345678", "--store", str(linked_store)])
    assert shown.exit_code == 0, shown.output
    block = shown.output.split("Aliases", 1)[1]
    assert "euctr   2023-000001-11" in block and "EUCTR2023-000001-11-FR" in block
    stats = runner.invoke(main, ["stats", "--store", str(linked_store)])
    assert stats.exit_code == 0 and "unique trials" in stats.output


def test_normalize_v1_store_gets_its_aliases_on_open(tmp_path, sample_records):
    import sqlite3

    with Store(tmp_path / "s", create=True) as store:
        store.put_many(sample_records)
    db = sqlite3.connect(tmp_path / "s" / "ptk.sqlite")
    db.execute("DROP TABLE aliases")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Store(tmp_path / "s") as store:
        assert store.stats().unique_trials == len({r.key for r in sample_records})
        assert store.aliases("NCT06054113")[0].key == "ctgov:NCT06054113"
