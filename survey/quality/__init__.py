"""Data quality: careless-responding indices, screens (previews, incomplete, duplicates, speeders,
attention checks) and the CONSORT-style exclusion flow.

:func:`screen` turns the ingest stage's :class:`survey.ingest.Ingested` into the analytic sample
(:class:`ScreenedData`); :func:`prepare` reads and screens raw exports in one call.
"""

from survey.quality.analytic import ScreenedData, prepare, screen, screen_config
from survey.quality.careless import evenodd, irv, longstring, mahad, psychsyn
from survey.quality.config import ScreenConfig
from survey.quality.design import ScreenDesign, design_from_instrument, design_from_items
from survey.quality.flow import ExclusionFlow, exclusion_flow
from survey.quality.report import QualityReport, quality_report
from survey.quality.screens import STEPS, ScreenResult, run_screens

__all__ = [
    "STEPS",
    "ExclusionFlow",
    "QualityReport",
    "ScreenConfig",
    "ScreenDesign",
    "ScreenResult",
    "ScreenedData",
    "design_from_instrument",
    "design_from_items",
    "evenodd",
    "exclusion_flow",
    "irv",
    "longstring",
    "mahad",
    "prepare",
    "psychsyn",
    "quality_report",
    "run_screens",
    "screen",
    "screen_config",
]
