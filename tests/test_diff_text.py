"""Text normalisation: what counts as "unchanged"."""

from __future__ import annotations

import pytest

from toolkit.diff.text import comparison_key, normalize, word_ops


@pytest.mark.parametrize("old,new", [
    ("1. Aged >=18 years; _x000D_<br>", "Aged >=18 years"),          # ICTRP debris, numbering
    ("-Current immunosuppressive therapy", "* Current immunosuppressive therapy"),  # re-bulleting
    ("a) Patients with HIV", "(1) Patients with HIV"),               # renumbering
    ("Known severe allergic reactions to TCZ or other\n   monoclonal antibodies",
     "Known severe allergic reactions to TCZ or other monoclonal antibodies"),  # re-wrapping
    ("Age \\> 18 years", "Age > 18 years"),                           # markdown escape
    ("≥35 years old and < 75 years old", "≥ 35 years old and < 75 years old"),  # NCT01097967 v3->v4
    ("acute onset of PVD symptoms", "Acute onset of PVD symptoms"),  # NCT00163267 v3->v4: case only
    ("Inclusion criteria: Non-infected with COVID-19", "Non-infected with COVID-19"),  # inline heading
    ("SPO2 &lt;/=93%", "SPO2 </=93%"),                                # HTML entity
    ("Informed consent.", "Informed consent"),                        # trailing punctuation
    # ChiCTR2000029939: the same quotes as UTF-8 read as cp1252, then as Mac Roman
    ("the â€œDiagnosis and Treatment Scheme of COVID-19â€\x9d", "the ‚ÄúDiagnosis and Treatment Scheme of COVID-19‚Äù"),
    ("White blood cells = 3,500/¬µl", "White blood cells = 3,500/µl"),
])
def test_diff_text_reformatting_is_unchanged(old, new):
    assert comparison_key(old) == comparison_key(new)


@pytest.mark.parametrize("old,new", [
    ("exacerbation of type I or II in the last 6 weeks", "exacerbation of type I or II in the last 4 weeks"),
    ("Age 18-65", "Age 18-75"),
    ("> 18 years of age", "18 years of age"),                         # a leading comparator is content
    ("Creatinine < 1.5 mg/dL", "Creatinine < 1.5 mg/L"),
])
def test_diff_text_content_edits_are_changes(old, new):
    assert comparison_key(old) != comparison_key(new)


def test_diff_text_word_ops_mark_replacements():
    ops = word_ops("exacerbation of type I or II in the last 6 weeks", "exacerbation of type I or II in the last 4 weeks")
    assert [(o.op, o.text) for o in ops] == [
        ("equal", "exacerbation of type I or II in the last"), ("delete", "6"), ("insert", "4"), ("equal", "weeks")]


def test_diff_text_normalize_keeps_case_for_display():
    assert normalize("  * Known HIV infection;") == "Known HIV infection"
