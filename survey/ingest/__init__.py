"""Ingestion: readers for raw exports (Qualtrics, SurveyMonkey, LimeSurvey, plain CSV, SPSS .sav and
.por, Kobo/ODK/Ona, Excel), validation against the instrument, personal-data removal, platform
columns (:mod:`survey.ingest.platform`), safe outputs (:mod:`survey.ingest.safe`), the analysis
commands' input (:mod:`survey.ingest.analysis`) and harmonisation across instrument versions.

:func:`read_sources` turns raw files into an :class:`Ingested` (every raw record, coded and pooled);
screening it into the analytic sample is the next stage's job (:func:`survey.quality.screen`, or
:func:`survey.quality.prepare` for both steps in one call).
"""

from survey.ingest.harmonise import harmonise
from survey.ingest.missing import MissingReport, little_mcar, missing_report, sample_missing_report
from survey.ingest.pii import remove_pii
from survey.ingest.pipeline import Ingested, Source, read_source, read_sources
from survey.ingest.readers import RawTable, read_raw
from survey.ingest.validate import Problem

__all__ = [
    "Ingested",
    "MissingReport",
    "Problem",
    "RawTable",
    "Source",
    "harmonise",
    "little_mcar",
    "missing_report",
    "read_raw",
    "read_source",
    "read_sources",
    "remove_pii",
    "sample_missing_report",
]
