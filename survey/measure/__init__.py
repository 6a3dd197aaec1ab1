"""Measure stage: reverse keying, reliability, discriminant validity, EFA, common-method checks.

Statistics are pure functions of data (pandas in, pandas out) and of a fitted CFA's estimates. The
measure stage holds no estimator (it comes before the SEM stage): the caller supplies the CFA, as a
``fit(syntax, data) -> result`` function such as ``survey.sem.fit``, or as a lavaan-style estimates
table (or fitted result), e.g. ``survey.sem.fit(...).estimates()``; see :mod:`survey.measure.cfa`.

>>> from survey.measure import reliability_report
>>> from survey.sem import fit
>>> report = reliability_report("F =~ x1 + x2 + x3", data, keys={"x3": -1}, fit=fit)  # doctest: +SKIP
>>> report.to_frame()  # doctest: +SKIP
"""

from survey.measure.assess import ReliabilityReport, reliability_report
from survey.measure.cfa import (
    FitFunction,
    as_estimates,
    cfa_syntax,
    check_cfa_data,
    factor_variances,
    latent_correlations,
    loading_matrix,
    loadings_from_estimates,
    residual_variances,
    sample_covariance,
)
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
    method_factor_syntax,
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
    "EFAResult",
    "FitFunction",
    "HarmanResult",
    "MardiaResult",
    "MarkerResult",
    "MethodFactorResult",
    "ParallelResult",
    "ReliabilityReport",
    "alpha_ci_feldt",
    "as_estimates",
    "alpha_if_deleted",
    "average_r",
    "average_variance_extracted",
    "cfa_syntax",
    "check_cfa_data",
    "common_method_factor",
    "composite_reliability",
    "corrected_item_total",
    "correlation_matrix",
    "cronbach_alpha",
    "describe",
    "discriminant_flags",
    "efa",
    "factor_variances",
    "fornell_larcker",
    "harman_single_factor",
    "htmt",
    "instrument_keys",
    "item_analysis",
    "item_correlations",
    "kurtosis",
    "latent_correlations",
    "lavaan_syntax",
    "loading_matrix",
    "loadings_from_estimates",
    "mardia",
    "marker_variable",
    "measurement_model",
    "method_factor_syntax",
    "omega",
    "pairwise_covariance",
    "parallel_analysis",
    "parse_keys",
    "read_measurement_model",
    "reliability_report",
    "residual_variances",
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
