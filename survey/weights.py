"""``survey.weights``: raking weights, as the issue and DESIGN.md name them (``survey.weights.rake``).

Weights are computed before measurement, so the code lives in the quality stage
(:mod:`survey.quality.weights`, :mod:`survey.quality.margins`); this module re-exports it for users.
Stages import :mod:`survey.quality.weights` directly (tests/test_stage_order.py).
"""

from survey.quality.margins import MISSING, category_label, load_margins, parse_margins
from survey.quality.weights import RakingResult, rake, rake_file, trim_weights

__all__ = ["MISSING", "RakingResult", "category_label", "load_margins", "parse_margins", "rake", "rake_file",
           "trim_weights"]
