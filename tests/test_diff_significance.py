"""Significance: the rules as a case table, and how renderers and `ptk diff` use it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import CORPUS
from toolkit.cli import main
from toolkit.diff import diff_records
from toolkit.diff.render_html import render_html
from toolkit.diff.render_text import render_text
from toolkit.diff.significance import (
    measure_significance, text_significance, time_frame_significance, value_significance,
)

SAMPLE = CORPUS / "history" / "NCT02007772_cthist.csv"


@pytest.mark.parametrize("old,new,expected", [
    ("Overall survival", "Overall Survival", "cosmetic"),                                  # case
    ("In-stent Late Loss(LL)", "In-stent Late Loss (LL)", "cosmetic"),                    # spacing
    ("Disease Free Survival", "Disease Free Survival (DFS)", "cosmetic"),                 # abbreviation spelled out
    ("age 18 to 65 years; BMI below 30", "BMI below 30; age 18 to 65 years", "cosmetic"),  # reordered
    ("Post Graduate Institute", "Postgraduate Institute", "cosmetic"),
    ("no chemotherapy within 6 months", "no chemotherapy within 3 months", "substantive"),
    ("patients with diabetes", "patients without diabetes", "substantive"),
])
def test_significance_text(old, new, expected):
    assert text_significance(old, new) == expected


@pytest.mark.parametrize("old,new,context,expected", [
    # registry boilerplate around the same measure (rated "no meaningful change")
    ("The primary efficacy endpoint is the proportion of subjects achieving and maintaining confirmed "
     "HIV-1 RNA < 50 copies/mL through Week 48.",
     "Percentage of Participants Achieving and Maintaining Confirmed HIV-1 RNA < 50 Copies/mL at Week 48",
     ("48 weeks",), "cosmetic"),
    ("Infarct size (percentage of total LV mass)", "Infarct Size as a Percentage of Total Left Ventricular (LV) Mass",
     (), "cosmetic"),
    # a new content word: "complete" response, "free survival"
    ("Cytogenetics response rate", "Percentage of Participants With Complete Cytogenetic Response (CCyR) at Year 1",
     ("One year",), "substantive"),
    ("Time to either disease progression or death", "Progression-Free Survival (PFS)", (), "substantive"),
    # an abbreviation whose letters are not all initials: ALanine aminoTransferase (ALT)
    ("Percentage of subjects with Grade 3 and Grade 4 ALT abnormalities.",
     "Percentage of Participants With Grade 3 and Grade 4 Alanine Aminotransferase (ALT) Abnormalities at Week 48",
     ("48 weeks",), "cosmetic"),
    # "per year": an aggregation, not a time point
    ("Rate of total kidney volume change(%)",
     "Percentage Change Per Year in Total Kidney Volume From Baseline to Month 36", ("36 months",), "substantive"),
    # one of two objectives left out
    ("To evaluate the proportion of subjects who require resumption of ART between the interruption of ART at "
     "week 28 and end of study at week 52. To evaluate the % change in CD4 between week 28 and the last CD4 made "
     "prior to resumption of ART or week 52.",
     "Proportion of Subjects Who Require Resumption of ART Between the Interruption of ART at Week 28 and End of "
     "Study at Week 52.", ("Week 52",), "substantive"),
])
def test_significance_outcome_measure(old, new, context, expected):
    assert measure_significance(old, new, old_context=context) == expected


@pytest.mark.parametrize("old,new,expected", [
    ("48 weeks", "Week 48", "cosmetic"),
    ("12 months.", "12 months", "cosmetic"),
    ("Baseline to 18 Months", "Month 18", "cosmetic"),
    ("18-32 months", "36 months", "substantive"),
    ("30 days", "7 days from randomization", "substantive"),
    ("24 hours", "24 hours after the end of surgery", "substantive"),  # a new anchor
])
def test_significance_time_frame(old, new, expected):
    assert time_frame_significance(old, new) == expected


@pytest.mark.parametrize("old,new,expected", [
    (["Novartis | collaborator"], ["NOVARTIS | Collaborator"], "cosmetic"),
    (["Novartis | collaborator"], ["Novartis Pharmaceuticals | collaborator"], "substantive"),
    ({"count": 85}, {"count": 100}, "substantive"),
])
def test_significance_values(old, new, expected):
    assert value_significance(old, new) == expected


@pytest.fixture(scope="module")
def v4_v5(history_versions):
    versions = history_versions(str(SAMPLE))["NCT02007772"]
    return diff_records(versions[3], versions[4])


def test_significance_on_every_change(v4_v5):
    changes = [*v4_v5.events, *v4_v5.fields, *v4_v5.texts, *v4_v5.changed_criteria, *v4_v5.changed_outcomes]
    assert changes and all(c.significance in ("cosmetic", "substantive") for c in changes)
    assert v4_v5.significance == "substantive"
    # the outcome's new description is cosmetic, the enrollment raise is not
    assert {o.significance for o in v4_v5.changed_outcomes} == {"cosmetic"}


def test_significance_text_renderer_folds_cosmetic(v4_v5):
    text = render_text(v4_v5)
    assert "(1 cosmetic: difference in capillary CO2" in text
    assert text.index("enrollment target raised") < text.index("cosmetic")
    assert "(1 cosmetic" not in render_text(v4_v5, show_cosmetic=True)


def test_significance_html_renderer_folds_cosmetic(v4_v5):
    page = render_html(v4_v5)
    assert page.count("<details class=\"cosmetic\">") == 1
    folded = page.split("<details class=\"cosmetic\">", 1)[1]
    assert "difference in capillary CO2" in folded.split("</details>", 1)[0]


def test_significance_cli_filter():
    runner = CliRunner()
    args = ["diff", "NCT02007772", "-i", str(SAMPLE), "--no-tag", "--from", "v4", "--to", "v5", "--json"]
    substantive = json.loads(runner.invoke(main, args + ["--significance", "substantive"]).output)
    cosmetic = json.loads(runner.invoke(main, args + ["--significance", "cosmetic"]).output)
    assert substantive["events"] and not substantive.get("outcomes")
    assert not cosmetic.get("events") and [o["significance"] for o in cosmetic["outcomes"]] == ["cosmetic"]
    # v6 -> v7 differ by their dates only: nothing substantive, so --exit-code says "same"
    result = runner.invoke(main, ["diff", "NCT02007772", "-i", str(SAMPLE), "--no-tag", "--from", "v6", "--to", "v7",
                                  "--significance", "substantive", "--exit-code"])
    assert result.exit_code == 0
