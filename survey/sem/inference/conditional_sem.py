"""Inference of a conditional.x = TRUE fit in the space of y given x (lavaan's ``res.int``, ``res.slopes``,
``res.cov``): the robust.sem vcov, the Satorra-Bentler family of tests and Browne's residual tests.

lavaan (lav_samplestats, lav_model_vcov, lav_test_satorra_bentler, lav_test_browne) builds them on the
statistics of the multivariate regression of the endogenous y (p_y) on the exogenous x (q) per block,
ordered per y_j as (a_j, B_j1 .. B_jq), then vech(R) (R the residual covariance, divisor N):

    s_c      = (vec [a; B'], vech R)  sample (OLS on the block's moments) or implied (the same map of
               Sigma(theta), mu(theta); x at its sample moments under fixed.x)
    Delta_c  = d s_c / d theta':  dB = dS_yx S_xx^-1, da = dmu_y - dB xbar,
               dR = dS_yy - dS_yx S_xx^-1 S_xy - S_yx S_xx^-1 dS_xy  (chain rule from the joint Delta)
    W_c      = bdiag(R^-1 (x) M, 1/2 D'(R^-1 (x) R^-1) D),  M = [[1, xbar'], [xbar, S_xx + xbar xbar']]
               (lavaan's lav_mvreg_information_expected at the implied R)
    Gamma_c  = 1/N sum_i z_i z_i' (centred), z_i = (vec(e_i xi_i'), vech(e_i e_i')), e_i the OLS residuals,
               xi_i = N (X'X)^-1 (1, x_i')' (lavaan's lav_samplestats_Gamma with conditional.x)
    Gamma_nt = W_c(R_sample)^-1  (lavaan's normal-theory Gamma of y given x)

The ML estimates and the expected information of y given x are those of the fixed.x fit
(Delta_c' W_c Delta_c = Delta' W Delta); the sandwich and the traces are not.
"""

from __future__ import annotations

import numpy as np

from survey.sem.conditional_x import ols
from survey.sem.data.conditional import (
    conditional_delta,
    conditional_gamma,
    conditional_stats,
    conditional_weight,
)


def is_conditional(block) -> bool:
    """Whether a block belongs to a conditional.x fit (flagged by :func:`survey.sem.engine.fit_blocks`)."""
    return bool(getattr(block, "conditional_x", False))


def block_parts(block, sigma: np.ndarray, mu: np.ndarray, delta: np.ndarray) -> dict[str, np.ndarray]:
    """Delta_c, W_c (implied R), Gamma_c (ADF), Gamma_nt (sample R) and the residuals s_c - sigma_c of
    one block at the implied moments (sigma, mu) with the joint Delta ``delta``."""
    xi = list(block.x_index)
    xbar, s_xx = block.mean[xi], block.cov[np.ix_(xi, xi)]
    _, _, r_m = ols(sigma, mu, xi)
    _, _, r_s = ols(block.cov, block.mean, xi)
    return {"delta": conditional_delta(sigma, xbar, xi, delta),
            "weight": conditional_weight(r_m, xbar, s_xx),
            "gamma": conditional_gamma(block.raw, xi),
            "gamma_nt": np.linalg.inv(conditional_weight(r_s, xbar, s_xx)),
            "residual": conditional_stats(block.cov, block.mean, xi) - conditional_stats(sigma, mu, xi)}
