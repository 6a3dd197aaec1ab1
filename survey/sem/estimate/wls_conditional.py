"""The least-squares estimators with conditional.x = TRUE (lavaan 0.6.14 ``estimator = "ULS" | "DWLS" |
"WLS"``, continuous items): F = (s - sigma(theta))' W (s - sigma(theta)) on the statistics of y given x,
s = (vec [a; B'] per y, vech R) of the regression of the endogenous y on the exogenous x (lavaan's WLS.obs:
res.int, res.slopes, res.cov; :mod:`survey.sem.data.conditional`), from the moments of divisor N - 1 as the
other continuous least-squares fits (:mod:`survey.sem.estimate.wls`); sigma(theta) the same map of the
implied moments (x at its sample moments), Delta its Jacobian. W: ULS the identity, DWLS diag(Gamma)^-1,
WLS Gamma^-1, Gamma the ADF covariance of s from the OLS residuals (lavaan's NACOV with conditional.x,
divisor N). The baseline model (y ~ x free, free residual variances) is linear in its parameters: every
intercept and slope and the diagonal of R free, so its residuals are the off-diagonal elements of R after
the W-projection. Checked against lavaan 0.6.14 (tests/fixtures/conditional_x_mlm)."""

from __future__ import annotations

import numpy as np

from survey.sem.data.conditional import conditional_delta, conditional_gamma, conditional_stats
from survey.sem.model.moments import vech_index


def conditional_moments(block, cov: np.ndarray) -> np.ndarray:
    """s of a block from its covariance matrix ``cov`` (divisor N - 1) and means."""
    return conditional_stats(cov, np.asarray(block.mean), list(block.x_index))


def conditional_ls_weight(estimator: str, block) -> np.ndarray:
    """W of ULS / DWLS / WLS for the statistics of y given x (module notes)."""
    gamma = conditional_gamma(block.raw, list(block.x_index))
    if estimator == "ULS":
        return np.eye(gamma.shape[0])
    return np.diag(1.0 / np.diag(gamma)) if estimator == "DWLS" else np.linalg.inv(gamma)


def conditional_residual(block, s: np.ndarray, sigma: np.ndarray, mu: np.ndarray,
                         delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s - sigma(theta), Delta_c) at the implied moments, ``delta`` the joint Jacobian (means first)."""
    xi = list(block.x_index)
    xbar = np.asarray(block.mean)[xi]
    return s - conditional_stats(sigma, mu, xi), conditional_delta(sigma, xbar, xi, delta)


def conditional_baseline_free(block) -> np.ndarray:
    """Mask of the statistics free in the baseline model: intercepts, slopes, residual variances."""
    q = len(block.x_index)
    p_y = block.raw.shape[1] - q
    rows, cols = vech_index(p_y)
    return np.concatenate([np.ones(p_y * (q + 1), bool), rows == cols])
