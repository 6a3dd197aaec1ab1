"""Ingestion: readers for raw exports (Qualtrics, SurveyMonkey, LimeSurvey, plain CSV, SPSS .sav and
.por, Kobo/ODK/Ona, Excel), validation against the instrument, personal-data removal, platform
columns (:mod:`survey.ingest.platform`), safe outputs (:mod:`survey.ingest.safe`), the analysis
commands' input (:mod:`survey.ingest.analysis`) and harmonisation across instrument versions.

:func:`read_sources` turns raw files into an :class:`Ingested` (every raw record, coded and pooled);
screening it into the analytic sample is the next stage's job (:func:`survey.quality.screen`, or
:func:`survey.quality.prepare` for both steps in one call).
"""

from __future__ import annotations

import importlib
from typing import Any

# eager: the function shadows its module's name (a lazy attribute would be the module once imported)
from survey.ingest.harmonise import harmonise

# the rest on first use (PEP 562): ``survey fit`` reads its data with survey.ingest.readers alone,
# without the instrument stage (pydantic models) or the validation the pipeline brings
_LAZY = {
    "MissingReport": "missing", "little_mcar": "missing", "missing_report": "missing",
    "sample_missing_report": "missing", "remove_pii": "pii", "Ingested": "pipeline", "Source": "pipeline",
    "read_source": "pipeline", "read_sources": "pipeline", "RawTable": "readers", "read_raw": "readers",
    "Problem": "validate",
}

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"survey.ingest.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'survey.ingest' has no attribute {name!r}")
