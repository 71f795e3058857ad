#!/usr/bin/env python3
"""Write tests/fixtures/ctgov_classic/full_studies.json: a classic API answer.

The classic ClinicalTrials.gov API (2019-2023) is retired and none of its
answers is in ../shared/data. The fixture holds:
  1. NCT01874691 as the classic API served it in July 2021 (ProtocolSection and
     part of DerivedSection; public-domain registry data, as quoted in a public
     test of uc-cdis/metadata-service), the reference for the classic names;
  2. real API v2 studies of the shipped sample (corpus/ctgov-v2) rewritten in
     the classic shape by the naming rules of that API (UpperCamel modules,
     `XList: {X: [...]}` lists, fields prefixed with their object's name,
     display values such as "Phase 2", "Yes", "June 15, 2023");
  3. one item without a Study, as a damaged answer would hold.

Usage: python scripts/make_classic_fixture.py
"""

from __future__ import annotations

import calendar
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "tests" / "fixtures" / "ctgov_classic" / "full_studies.json"
REFERENCE = REPO / "tests" / "fixtures" / "ctgov_classic" / "NCT01874691_classic_2021.json"
V2_IDS = ("NCT05838625", "NCT04616482", "NCT04770285")

# v2 list name -> classic item name, where the singular is irregular
_ITEMS = {"whoMasked": "DesignWhoMasked", "interventionNames": "InterventionName", "meshes": "Mesh",
          "ancestors": "Ancestor", "browseLeaves": "BrowseLeaf", "browseBranches": "BrowseBranch"}
_ENUM_WORDS = {"NA": "Not Applicable", "EARLY_PHASE1": "Early Phase 1", "ALL": "All"}
_STRUCT = {"startDateStruct": "StartDate", "primaryCompletionDateStruct": "PrimaryCompletionDate",
           "completionDateStruct": "CompletionDate", "studyFirstPostDateStruct": "StudyFirstPostDate",
           "lastUpdatePostDateStruct": "LastUpdatePostDate", "resultsFirstPostDateStruct": "ResultsFirstPostDate",
           "enrollmentInfo": "Enrollment", "orgStudyIdInfo": "OrgStudyId", "designInfo": "Design",
           "maskingInfo": "DesignMasking", "organization": "Org", "leadSponsor": "LeadSponsor",
           "responsibleParty": "ResponsibleParty", "expandedAccessInfo": "ExpandedAccessInfo"}
_OWN = {"date": "", "id": "", "masking": ""}  # a struct's own value: StartDate, OrgStudyId, DesignMasking


def upper(key: str) -> str:
    special = {"nctId": "NCTId", "studyFirstSubmitQcDate": "StudyFirstSubmitQCDate", "pmid": "PMID", "url": "URL", "oversightHasDmc": "OversightHasDMC",
               "ipdSharingStatementModule": "IPDSharingStatementModule"}
    return special.get(key, key[:1].upper() + key[1:])


_ENUM_KEYS = {"allocation", "interventionModel", "primaryPurpose", "masking", "whoMasked", "observationalModel",
              "timePerspective", "type", "class", "role", "status", "overallStatus", "stdAges", "studyType",
              "sex", "phases", "samplingMethod"}


def display(value, key: str = ""):
    """A v2 value as the classic API showed it (enums in words, booleans Yes/No, dates in words)."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        return value
    if value in _ENUM_WORDS:
        return _ENUM_WORDS[value]
    if value.startswith("PHASE") and value[5:].isdigit():
        return f"Phase {value[5:]}"
    if key in _ENUM_KEYS and value.isupper():
        return value.replace("_", " ").title()
    if len(value) in (7, 10) and value[4:5] == "-" and value[:4].isdigit():
        month = calendar.month_name[int(value[5:7])]
        return f"{month} {int(value[8:10])}, {value[:4]}" if len(value) == 10 else f"{month} {value[:4]}"
    return value


def classic(value, prefix: str, key: str = ""):
    if isinstance(value, list):
        return [classic(v, prefix, key) for v in value]
    if not isinstance(value, dict):
        return display(value, key)
    out = {}
    for name, child in value.items():
        if isinstance(child, list):
            item = _ITEMS.get(name) or prefix + upper(name[:-3] + "y" if name.endswith("ies") else name[:-1])
            list_name = ("Design" + item[len("Design"):] if name == "whoMasked" else item) + "List"
            item_prefix = item[:-4] if item.endswith("Info") else item
            out[list_name] = {item: [classic(c, item_prefix, name) for c in child]}
        elif name in _STRUCT:
            struct = _STRUCT[name]
            key_name = {"Org": "Organization", "ExpandedAccessInfo": "ExpandedAccessInfo"}.get(
                struct, struct if name in ("leadSponsor", "responsibleParty")
                else (prefix + upper(name) if prefix else upper(name)))
            out[key_name] = classic(child, struct if struct != "ExpandedAccessInfo" else "", name)
        elif name in _OWN and prefix:
            out[prefix] = display(child, name)
        else:
            out[prefix + upper(name) if prefix else upper(name)] = classic(child, "", name)
    return out


def main() -> int:
    studies = {s["protocolSection"]["identificationModule"]["nctId"]: s
               for s in json.loads((REPO / "corpus" / "ctgov-v2" / "ctg-studies-sample.json").read_text())}
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    items = [{"Rank": 1, "Study": reference}]
    for rank, nct in enumerate(V2_IDS, start=2):
        study = {k: v for k, v in studies[nct].items() if k in ("protocolSection", "derivedSection")}
        items.append({"Rank": rank, "Study": {upper(k): classic(v, "") for k, v in study.items()}})
    items.append({"Rank": len(items) + 1, "Error": "study withheld by the server"})
    answer = {"FullStudiesResponse": {
        "APIVrs": "1.01.05", "DataVrs": "2023:06:20 22:12:28.413", "Expression": "AREA[NCTId] fixture",
        "NStudiesAvail": 460000, "NStudiesFound": len(items), "MinRank": 1, "MaxRank": len(items),
        "NStudiesReturned": len(items), "FullStudies": items}}
    TARGET.write_text(json.dumps(answer, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({len(items)} items)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
