"""Measure stage: reverse keying, reliability, discriminant validity, EFA, common-method checks.

Statistics are pure functions of data (pandas in, pandas out) and of a fitted CFA's loadings. The
CFA they need is fitted by :func:`fit_cfa` (an exact ML fitter for measurement models, equal to lavaan
to its tolerance), or taken from any lavaan-style estimates table, e.g. ``survey.sem.fit(...).estimates()``,
passed as ``reliability_report(..., estimates=...)``.

>>> from survey.measure import reliability_report
>>> report = reliability_report("F =~ x1 + x2 + x3", data, keys={"x3": -1}, bounds=(1, 7))  # doctest: +SKIP
>>> report.to_frame()  # doctest: +SKIP
"""

from survey.measure.assess import (
    ReliabilityReport,
    latent_correlations,
    loadings_from_estimates,
    reliability_report,
)
from survey.measure.cfa import CFAResult, fit_cfa, sample_covariance
from survey.measure.descriptives import (
    MardiaResult,
    correlation_matrix,
    describe,
    kurtosis,
    mardia,
    scale_correlations,
    skewness,
)
from survey.measure.efa import EFAResult, ParallelResult, efa, parallel_analysis, velicer_map
from survey.measure.keys import instrument_keys, parse_keys, reverse_key
from survey.measure.method import (
    HarmanResult,
    MarkerResult,
    MethodFactorResult,
    common_method_factor,
    harman_single_factor,
    marker_variable,
)
from survey.measure.model import lavaan_syntax, measurement_model, read_measurement_model
from survey.measure.reliability import (
    AlphaResult,
    alpha_ci_feldt,
    alpha_if_deleted,
    average_r,
    average_variance_extracted,
    composite_reliability,
    corrected_item_total,
    cronbach_alpha,
    item_analysis,
    omega,
    pairwise_covariance,
    standardized_alpha,
)
from survey.measure.scoring import min_valid_count, scale_score, scale_scores
from survey.measure.validity import discriminant_flags, fornell_larcker, htmt, item_correlations

__all__ = [
    "AlphaResult",
    "CFAResult",
    "EFAResult",
    "HarmanResult",
    "MardiaResult",
    "MarkerResult",
    "MethodFactorResult",
    "ParallelResult",
    "ReliabilityReport",
    "alpha_ci_feldt",
    "alpha_if_deleted",
    "average_r",
    "average_variance_extracted",
    "common_method_factor",
    "composite_reliability",
    "corrected_item_total",
    "correlation_matrix",
    "cronbach_alpha",
    "describe",
    "discriminant_flags",
    "efa",
    "fit_cfa",
    "fornell_larcker",
    "harman_single_factor",
    "htmt",
    "instrument_keys",
    "item_analysis",
    "item_correlations",
    "kurtosis",
    "latent_correlations",
    "lavaan_syntax",
    "loadings_from_estimates",
    "mardia",
    "marker_variable",
    "measurement_model",
    "omega",
    "pairwise_covariance",
    "parallel_analysis",
    "parse_keys",
    "read_measurement_model",
    "reliability_report",
    "reverse_key",
    "min_valid_count",
    "scale_score",
    "scale_scores",
    "sample_covariance",
    "scale_correlations",
    "skewness",
    "standardized_alpha",
    "velicer_map",
]
