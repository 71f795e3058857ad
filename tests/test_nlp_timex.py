"""Time windows and temporal cues: the checked table of real examples, and odd cases."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from toolkit.nlp.timex import find_temporal, find_time_windows

TABLE = Path(__file__).parent / "fixtures" / "time_windows.tsv"


def _rows():
    with open(TABLE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [pytest.param(row, id=f"{i}-{row['span'][:30]}") for i, row in enumerate(rows)]


def _days(tag):
    if tag.days is not None:
        return f"{tag.days:g}"
    return f"{tag.low_days:g}-{tag.high_days:g}"


@pytest.mark.parametrize("row", _rows())
def test_nlp_timex_normalises_checked_real_window(row):
    found = {t.text: t for t in find_time_windows(row["context"])}
    tag = found[row["span"]]
    assert (tag.relation or "", f"{tag.amount:g}", tag.unit, _days(tag), tag.direction or "", tag.anchor or "") == (
        row["relation"], row["amount"], row["unit"], row["days"], row["direction"], row["anchor"])
    assert row["context"][tag.start:tag.end] == tag.text


def test_nlp_timex_table_is_large_enough_to_measure():
    assert len(_rows()) >= 40


@pytest.mark.parametrize("text", [
    "Pediatric participants aged > 1 month and < 18 years at the time of informed consent",
    "Karnofsky performance status ≥ 50% for participants ≥ 16 years",
    "Men and women 18 years of age or older",
    "Children 6 years old",
    "older than 18 years (of both sexes)",
    "Age greater than or equal to 18 years",
    "Age >= 65 years, < 90 years;",
])
def test_nlp_timex_leaves_ages_to_values(text):
    assert find_time_windows(text) == []


@pytest.mark.parametrize("text,expected", [
    ("Subjects with a history of brain metastases must have a head CT", [("history of", "history")]),
    ("Ongoing treatment with systemic corticosteroids", [("Ongoing", "current")]),
    ("positive pregnancy test assessed at Screening by a highly sensitive urine test", [("at Screening", "at screening")]),
    ("A previous adequate trial of topiramate", [("previous", "prior")]),
    ("Hemoglobin below 10 g/dL at the screening visit", [("at the screening visit", "at screening")]),
    ("Sputum culture on day 15", [("on day 15", "study day")]),
    ("newly diagnosed glioblastoma", [("newly diagnosed", "newly diagnosed")]),
])
def test_nlp_timex_finds_temporal_cue(text, expected):
    assert [(t.text, t.norm) for t in find_temporal(text)] == expected


@pytest.mark.parametrize("text", [
    "Active malignancy other than ALL.",  # Chia: 'active' is mostly a qualifier (train precision .24)
    "Patients who have been previously treated with epothilone",  # .28
    "Family history of sudden death",  # .00: a relative's history is not a time
])
def test_nlp_timex_leaves_cues_chia_rarely_calls_temporal(text):
    assert find_temporal(text) == []


def test_nlp_timex_skips_temporal_cue_inside_window():
    text = "AlloHSCT within 12 weeks prior to start of protocol-specified therapy."
    windows = find_time_windows(text)
    assert find_temporal(text, [(t.start, t.end) for t in windows]) == []


@pytest.mark.parametrize("text", [
    "Vitamin D 1000 IU daily", "grade 3 neuropathy", "BMI 18 to 30 kg/m2",
    "Has a 6-minute walk distance that is ≥150 m",  # a test named by its duration
    "infants born between 28 0/7 and 34 0/7 weeks gestation",  # gestational age, not a window
])
def test_nlp_timex_ignores_numbers_without_time_unit(text):
    assert find_time_windows(text) == []


# Samples of 100 windows (fixed seed), each from records no rule had been read from, each
# window read by hand: `window` no = the span is not a time window; other columns are the right
# reading. Floors: the share fully right as measured, per sample.
# - legacy ClinicalTrials.gov XML: 0.84 when read, before any rule was read from it; 0.92 after
#   'or longer', 'afterwards', 'approximately', 'application' and bare 'study' anchors were added
#   from its misses (no longer a fresh figure);
# - API v2 JSON (the urology download): 0.81 when read; frequencies ("twice a week", "every 4
#   weeks") and age ranges ("between 40 and 70 years") taken for windows, and anchors missed
#   ("prior to dosing", "signing consent", "the date of screening"). After rules for those:
#   0.93 (no longer fresh either). The goal is 0.95 on fresh windows.
# - API v2 JSON arrays (dgg32, scampbe3, UserZetsu downloads; ids in no fixture): drawn by
#   `scripts/sample_time_windows.py ../shared/data/ctgov-v2/{UserZetsu,dgg32,scampbe3}*ctg-studies*.json
#   --seed 10 --count 400 --ignore time_windows_fresh_ctgov_v2_downloads.tsv`; each drawn criterion gives
#   its first window by reading (or the first span tagged as one), ages and rates skipped, until 100.
#   0.73 when read, before any rule was read from it. Misses: a window sharing the anchor of the next
#   one ('X within 14 days or Y within 7 days prior to Z'), 'the past year' with no number, 'six (6)
#   months', anchors cut short ('the first study drug dose', 'implantation surgery', 'C1D1',
#   'post-treatment'), 'in the next 6 months', rates and ages read as windows. After rules for those:
#   0.94 (tuned, no longer fresh); the legacy XML sample rose to 0.93 and the urology one to 0.94 with them.
# - WHO ICTRP XML (ChiCTR and ClinicalTrials.gov COVID-19 records, 2020), drawn the same way
#   (`ICTRP-Results_18Mar2020.xml --seed 10 --count 400 --ignore time_windows_fresh_ictrp.tsv`) after the
#   rules above: 0.76 when read, the fresh figure after them. Misses: 'the interval between onset and
#   enrollment is within 8 days', 'in recent 6 months', 'the last oral medication', 'illness onset',
#   'morbidity', 'being selected', 'exceeds 4 days', 'after treatment', '(the) study' read as its start
#   in 'after the study', and garbled ages ('80 years = age = 14years'). After rules for those: 0.93
#   (tuned; two span labels widened to the whole window once its anchor was read: 'the onset of the
#   disease', '..., whichever is longer, before the first vaccine administration').
# - other registers (ctrdata versions: CTGOV, EUCTR, ISRCTN, CTIS; cthist DRKS versions), drawn the same way
#   (`ctrdata_versions.jsonl.gz drks_versions_2022-03.csv.gz --seed 10 --count 400 --ignore
#   time_windows_fresh_registers.tsv`; a second version of a criterion already read was skipped): 0.62
#   when read, the fresh figure after every rule above. Many neonatal trials: gestational and
#   postnatal ages ('≤ 33 weeks', 'Less than 72 hours old') and Apgar timings ('5 min Apgar') read as
#   windows make 22 of the 38 misses; birth anchors ('of life', 'after birth') most of the rest. After
#   rules for gestational ages, Apgar timings, '(i.e., > 547 days)' after an age, 'of life', 'max.',
#   'in first', 'at least for': 0.85 (tuned); the other samples keep their figures.
# - ICTRP COVID-19 versions (weekly ICTRP exports Mar-Jul 2020 merged into versions: ClinicalTrials.gov, EU CTR,
#   ChiCTR, IRCT, CTRI, ISRCTN, ANZCTR and others; trials in no fixture), drawn the same way
#   (`ictrp_covid19_versions.jsonl.gz --seed 10 --count 400 --ignore time_windows_fresh_ictrp_versions.tsv`): 0.81
#   when read, the fresh figure after every rule above. Misses: ages read as windows ('> 18 year-old',
#   'Adults (> 18 years)', '..., under 18 years', a garbled '=18 years'), anchors not read ('receiving the last
#   immunization', 'the administration of the IMP', 'consenting', 'the planned start of study'), '14 days back',
#   'approx.', 'between 4 and 8 weeks', 'Days from symptom onset >21 days'. After rules for those (and the like
#   from the rest of the draw: 'ICF', 'not after', 'life<1 week', '7 days or more since', 'N days between X and Y'):
#   0.98 (tuned); the other registers sample rose to 0.86 with them.
# - cthist ClinicalTrials.gov version histories (2022-03; trials in no fixture), drawn the same way after the rules
#   above (`ctgov_versions_2022-03.csv.gz --seed 10 --count 400 --ignore time_windows_fresh_cthist.tsv`; a second
#   version of a criterion already read was skipped): 0.75 when read, the fresh figure after every rule above (the
#   rules before them read 0.74 of it). Misses: anchors ('the index procedure', 'ablation', 'last dosing', 'starting
#   the study', 'the study began', 'start of this trial', 'each admission'), a noun between the amount and its
#   direction ('the 24-week period after', 'the 4 preceding weeks of'), 'within the period of', 'at least the previous'.
#   After rules for those ('the procedure' is surgery, 'index procedure' stays none as the legacy XML sample reads it)
#   and for '5 cigarettes a day', 'half a year', '2-week drug-free period', '4 weeks off from': 0.90 (tuned); the
#   API v2 downloads sample rose to 0.95 with them.
# - legacy ClinicalTrials.gov XML again, records in no fixture (`ctgov_xml_2023-02.tar.gz --seed 10 --count 400
#   --ignore time_windows_fresh_ctgov_xml_unused.tsv`), drawn after every rule above: 0.90 when read, the fresh
#   figure (the source was tuned on before, these records never were; the rules before this round read 0.90 of it
#   too). Misses: a word between the amount and its unit ('21 consecutive days', '3 or more months'),
#   'immediately prior to', '2-week placebo run-in period', 'by 6 hours of age', 'by 72 hr prior to', rates and
#   years of education. After rules for the first three: 0.95 (tuned); the other samples keep their figures.
FIXTURES = Path(__file__).parent / "fixtures"
FRESH_FLOORS = {
    "time_windows_fresh_ctgov_xml_unused.tsv": 0.95,
    "time_windows_fresh_cthist.tsv": 0.90,
    "time_windows_fresh_ictrp_versions.tsv": 0.98,
    "time_windows_fresh_registers.tsv": 0.86,
    "time_windows_fresh.tsv": 0.93,
    "time_windows_fresh_ctgov_v2.tsv": 0.94,
    "time_windows_fresh_ctgov_v2_downloads.tsv": 0.95,
    "time_windows_fresh_ictrp.tsv": 0.93,
}


def _fresh_rows(name):
    with open(FIXTURES / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _fresh_right(row) -> bool:
    found = {t.text: t for t in find_time_windows(row["context"])}
    if row["window"] == "no":
        return row["span"] not in found
    tag = found.get(row["span"])
    return tag is not None and (tag.relation or "", f"{tag.amount:g}", tag.unit, _days(tag), tag.direction or "",
                                tag.anchor or "") == (row["relation"], row["amount"], row["unit"], row["days"],
                                                      row["direction"], row["anchor"])


@pytest.mark.parametrize("name", sorted(FRESH_FLOORS))
def test_nlp_timex_fresh_sample_is_a_hundred_real_windows(name):
    rows = _fresh_rows(name)
    assert len(rows) == 100 and len({r["context"] for r in rows}) == 100
    assert all(r["span"] in r["context"] for r in rows)


@pytest.mark.parametrize("name", sorted(FRESH_FLOORS))
def test_nlp_timex_fresh_sample_share_fully_right(name):
    rows = _fresh_rows(name)
    right = sum(_fresh_right(row) for row in rows) / len(rows)
    assert right >= FRESH_FLOORS[name], right


@pytest.mark.parametrize("text", [
    "The patient and his partner must have sexual intercourse twice a week for the duration of the study,",
    "Agree to attempt sexual intercourse at least 4 times every 4 weeks, for the duration of the study",
    "Men with steady partner and who agree to attempt sex once a week.",
    "Signed informed consent Male Between 18-60 year",
    "Adult male patients ranging from 25 to 70 years.",
    "Male patients between 40 and 70 years",
    "employed (minimum of 20h/week)",
    "Karnofsky performance status of 80-100% for 16 years and older or Lansky Play Score of 80-100",
    "Children between 1 year (≥ 12 months) and 18 years of age at the time of first diagnosis",
    # gestational ages, Apgar timings and 2D imaging are no windows either (Chia and register criteria)
    "Preterm neonates ≤ 33 weeks gestational age.",
    "Born prior to 34 weeks",
    "Inborn or out born infants of either gender or any race with best obstetrical estimate of gestation <28 weeks",
    "5 mins Apgar of less than 7",
    "Apgar score at 5 minutes >7",
    "ejection fraction < 40 % as assessed by 2D echocardiography",
    "Age > 18 months (i.e., > 547 days) with unfavorable pathology, regardless of MYCN status",
    # ages after a person noun and a bracket or a garbled '≥', or compared alone in a clause (ICTRP versions)
    "Adult patients (=18 years) admitted because of COVID-19 confirmed by PCR",
    "Male or female adult (= 60 years)",
    "=16 years and < 70yrs",
    "18 years and above",
    "Patients who are > 21 year-old",
    "For cigarette smokers: Smokes at least 5 cigarettes a day.",  # a bare 'a day' is a rate
])
def test_nlp_timex_frequencies_and_age_ranges_are_not_windows(text):
    assert find_time_windows(text) == []


@pytest.mark.parametrize("text,expected", [
    # a unit without a number is one of it; a bracketed amount restates the window, a rate is none
    ("Opioid overdose within the past year (12 months)", [("within the past year", "within", 1, "year", "before", None)]),
    ("Individuals who have actually slept less than an average of 5 hours per night over the past month",
     [("over the past month", "within", 1, "month", "before", None)]),
    # coordinated windows share the last one's direction and anchor
    ("Myocardial infarction within 6 months, or stroke within 6 months, or intracranial bleeding within 6 months "
     "prior to start of study drugs", [("within 6 months", "within", 6, "month", "before", "start of study treatment")] * 2
     + [("within 6 months prior to start of study drugs", "within", 6, "month", "before", "start of study treatment")]),
    ("COVID-19 diagnosis within thirty (30) days prior to randomization.",
     [("within thirty (30) days prior to randomization", "within", 30, "day", "before", "randomisation")]),
    ("use highly effective methods of contraception for a minimum of 24 months post-treatment.",
     [("for a minimum of 24 months post-treatment", "at_least", 24, "month", "after", "end of study treatment")]),
    ("The time interval between the onset of symptoms and random enrollment is within 8 days",
     [("within 8 days", "within", 8, "day", "after", "symptom onset")]),
    ("Women who received chemotherapy for other disease entity in recent 1 year.",
     [("in recent 1 year.", "within", 1, "year", "before", None)]),
    ("the length of stay in ICU exceeds 4 days;", [("exceeds 4 days", "more_than", 4, "day", None, None)]),
    ("anticipation of a required drug test in the 4 weeks following the study.",
     [("in the 4 weeks following the study", "within", 4, "week", "after", "end of study")]),
    ("Willing to take contraception during the study and within 7 days after treatment;",
     [("within 7 days after treatment", "within", 7, "day", "after", "end of study treatment")]),
    ("Menopause, menopause at least 1 year;", [("at least 1 year", "at_least", 1, "year", None, None)]),
    ("Within first 48 hrs of post natal life", [("Within first 48 hrs of post natal life", "within", 48, "hour",
                                                 "after", "delivery")]),
    ("Age at inclusion: max. 120 hours after birth", [("max. 120 hours after birth", "at_most", 120, "hour", "after",
                                                       "delivery")]),
    # the time from an event, named before the amount or after it, counts after that event
    ("More than 7 days between the onset of symptoms (fever, dysnea, and/or cough) and treatment administration day.",
     [("More than 7 days", "more_than", 7, "day", "after", "symptom onset")]),
    ("7 days or more since the onset of COVID-19, as diagnosed by fever, pneumonia or other relevant findings",
     [("7 days or more since the onset of COVID-19", "at_least", 7, "day", "after", "symptom onset")]),
    ("Signed consent to participate in this trial must be given not after 14 days from the first day of symptoms",
     [("not after 14 days from the first day of symptoms", "at_most", 14, "day", "after", "symptom onset")]),
    ("Call into office within the first 7 days of illness",
     [("within the first 7 days of illness", "within", 7, "day", "after", "symptom onset")]),
    ("Patient in other therapeutic clinical trial within 30 days before ICF",
     [("within 30 days before ICF", "within", 30, "day", "before", "informed consent")]),
    ("the medication dose must have been stable for at least 12 weeks preceding vaccination and expected to remain stable",
     [("for at least 12 weeks preceding vaccination", "at_least", 12, "week", "before", "first dose")]),
    # a comparator sign glued to the word before it
    ("Expected life<1 week;", [("<1 week", "less_than", 1, "week", None, None)]),
    # a period noun between the amount and its direction; anchors of the cthist version histories
    ("Patients expected to undergo surgery within the 24-week period after randomisation.",
     [("within the 24-week period after randomisation", "within", 24, "week", "after", "randomisation")]),
    ("elective surgery is planned within the first 9 months after the procedure that will require discontinuing",
     [("within the first 9 months after the procedure", "within", 9, "month", "after", "surgery")]),
    ("Participation in another clinical trial during the last 4 weeks before start of this trial",
     [("during the last 4 weeks before start of this trial", "within", 4, "week", "before", "study start")]),
    ("an active intake of at least 35 weekly doses of alcohol in the last 90 days before starting the study;",
     [("in the last 90 days before starting the study", "within", 90, "day", "before", "study start")]),
    ("unless stability has been documented over at least the previous 3 months.",
     [("over at least the previous 3 months.", "at_least", 3, "month", "before", None)]),
    ("A score of at least 20 on the 24-item HRSD at screening and, after a 2-week drug-free period, at baseline",
     [("2-week", None, 2, "week", None, None)]),
    ("had no pregnancy, sperm donor, egg donor for nearly half a year, and were willing to take contraception",
     [("for nearly half a year", "during", 0.5, "year", None, None)]),
    # a word between the amount and its unit, 'immediately' before the direction (legacy XML)
    ("Patients who received zidovudine for 3 consecutive months immediately prior to study entry may receive",
     [("for 3 consecutive months immediately prior to study entry", "during", 3, "month", "before", "enrollment")]),
    ("Presence of lymphadenopathy in two or more extrainguinal sites, at least 1 cm in diameter for 3 or more months",
     [("for 3 or more months", "at_least", 3, "month", None, None)]),
    ("Patients will be enrolled into the 2-week placebo run-in period if they meet all the following criteria:",
     [("2-week", None, 2, "week", None, None)]),
])

def test_nlp_timex_reads_real_window(text, expected):
    assert [(t.text, t.relation, t.amount, t.unit, t.direction, t.anchor) for t in find_time_windows(text)] == expected


def test_nlp_timex_reads_a_range_written_high_first_low_to_high():
    [tag] = find_time_windows("a negative pregnancy test (evaluated between 2 and 1 days prior to administration of "
                              "the study medication)")
    assert (tag.text, tag.amount, tag.low_days, tag.high_days, tag.anchor) == (
        "between 2 and 1 days prior to administration of the study medication", 1, 1, 2, "first dose")


def test_nlp_timex_a_disease_duration_range_stays_a_window():
    [tag] = find_time_windows("type 2 diabetes for 1 to 10 years")
    assert (tag.relation, tag.low_days, tag.high_days) == ("during", 365, 3650)
