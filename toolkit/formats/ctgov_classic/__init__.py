"""The classic ClinicalTrials.gov API JSON (2019-2023): `{"FullStudiesResponse": {"FullStudies": [...]}}`."""
