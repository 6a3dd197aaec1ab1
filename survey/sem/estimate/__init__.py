"""Objectives summed over group blocks and the optimiser (:mod:`survey.sem.estimate.optimizer`);
:mod:`survey.sem.estimate.ml` holds the single-block ML discrepancy, gradient and expected Hessian."""

from survey.sem.estimate.ml import (
    Estimation,
    estimate_ml,
    gradient,
    gradient_and_information,
    objective,
    observed_hessian,
)

__all__ = [
    "Estimation", "estimate_ml", "gradient", "gradient_and_information", "objective", "observed_hessian",
]
