"""Ingestion: readers for raw exports (Qualtrics, plain CSV, SPSS .sav, Kobo/ODK, Excel), validation
against the instrument, personal-data removal, harmonisation across instrument versions, and the
pipeline that screens responses into an analytic data set."""

from survey.ingest.harmonise import harmonise
from survey.ingest.missing import MissingReport, little_mcar, missing_report
from survey.ingest.pii import remove_pii
from survey.ingest.pipeline import IngestResult, ingest
from survey.ingest.readers import RawTable, read_raw
from survey.ingest.validate import Problem

__all__ = [
    "IngestResult",
    "MissingReport",
    "Problem",
    "RawTable",
    "harmonise",
    "ingest",
    "little_mcar",
    "missing_report",
    "read_raw",
    "remove_pii",
]
