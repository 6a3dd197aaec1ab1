"""The covariates' block of the independence (baseline) model under fixed.x = FALSE with missing data.

With fixed.x = FALSE lavaan's baseline (lav_partable_independence, fitted by ML like any model) keeps the
(co)variances and means of the exogenous covariates free and every other variable unrelated to them. The
likelihood then factors into the covariates' joint part and one univariate part per other variable, so the
ML estimate of the covariates' part is the unrestricted (EM) estimate on the covariates' columns alone
(Little & Rubin 2002, sec. 8.2). With complete data it is their sample moments; with holes it is not the
joint model's EM moments (tests/fixtures/heldout2: hs_fiml_mlr_fx).
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.missing import em_saturated, missing_patterns


def free_x_moments(raw: np.ndarray, cols: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
    """EM mean and covariance of ``raw[:, cols]`` when those columns have holes (None without holes)."""
    x = np.asarray(raw, dtype=float)[:, cols]
    if len(cols) < 2 or np.isfinite(x).all():
        return None
    mean, cov, _ = em_saturated(missing_patterns(x))
    return mean, cov
