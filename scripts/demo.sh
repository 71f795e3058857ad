#!/usr/bin/env bash
# Install ptk into a fresh virtual environment and run the main job on the shipped sample corpus:
# parse every record under corpus/ into the store, build the search index, search the
# eligibility criteria, and diff two versions of a trial.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PTK_VENV:-.venv}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e .
ptk="$venv/bin/ptk"
export PTK_STORE="${PTK_STORE:-corpus/ptk.sqlite}" PTK_INDEX="${PTK_INDEX:-indexes}"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

step "$ptk" parse corpus/
step "$ptk" index
step "$ptk" stats
step "$ptk" show NCT06054113
step "$ptk" search 'drug:rituximab' --polarity exclusion
step "$ptk" search '(pregnan* OR breastfeed*) AND contracept*' --polarity exclusion --group-by trial --limit 5
step "$ptk" search --status recruiting --phase 2 --polarity exclusion 'drug:"CAR T"'
step "$ptk" search condition:GvHD --limit 5
criterion="No rituximab or other anti-CD20 therapy within 4 weeks prior to enrollment"
printf '\n\033[1m$ echo "%s" | ptk tag -\033[0m\n' "$criterion" >&2
echo "$criterion" | "$ptk" tag -
step "$ptk" history NCT02007772
step "$ptk" diff NCT02007772 --from 4 --to 5
step "$ptk" changes --summary
step "$ptk" check --all || true  # exit code 1: conflicts were found
step "$ptk" export exports/
