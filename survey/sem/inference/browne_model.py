"""The model-based ("structured") Gamma of Browne's residual tests ``test = "browne.residual.nt.model"`` and
``"browne.residual.adf.model"`` (lavaan 0.6.14 ``lav_test_browne(model.based = TRUE)`` through
``lav_object_gamma``), for the ML and the least-squares routes alike.

With Sigma_g = Sigma(theta_hat) and mu_g = mu(theta_hat) the implied moments of group g:

    nt.model    Gamma_g = bdiag(Sigma_g, 2 D+ (Sigma_g (x) Sigma_g) D+')
                (``lav_samplestats_Gamma_NT`` at the implied moments; Browne 1984, with Sigma for S)
    adf.model   Gamma_g = (1 / N_g) sum_i (z_i - sigma_g)(z_i - sigma_g)',
                z_i = (y_i, vech((y_i - mu)(y_i - mu)')),
                sigma_g = (mu_g, vech Sigma_g): the fourth-order moments about the implied moments, not
                about the sample ones (``lav_samplestats_Gamma`` with ``Mu``, ``Sigma``); without a mean
                structure mu is the sample mean and z_i only its product part.

Under fixed.x lavaan's model-based ADF Gamma of the covariates' projection (``lav_samplestats_Gamma``,
fixed.x branch; :func:`gamma_adf_model_fixed_x`). Everything else (the joint projection, the weights
N_g / N or (N_g - 1) / N, ``stat.group``) is that of the sample-based tests.
"""

from __future__ import annotations

import numpy as np

from survey.sem.model.moments import h1_information, vech_index

MODEL_BASED = ("browne.residual.adf.model", "browne.residual.nt.model")


def model_based(test: str) -> bool:
    """Whether ``test`` is one of lavaan's model-based Browne tests."""
    return str(test).lower().endswith(".model")


def gamma_nt(s: np.ndarray, meanstructure: bool, x_index=()) -> np.ndarray:
    """Normal-theory asymptotic covariance (times N) of (m, vech S) under the saturated model at the
    covariance matrix ``s`` (lavaan ``lav_samplestats_Gamma_NT``; S for the sample-based tests, Sigma for
    ``nt.model``): 2 D+(S (x) S)D+'; with fixed.x covariates Gamma(S) - Gamma(R), R = S - [S_yy.x 0; 0 0],
    and the mean block S_yy.x."""
    p = s.shape[0]
    x = list(x_index)
    gamma = np.linalg.inv(h1_information(s, False))
    mean_block = s
    if x:
        y = [i for i in range(p) if i not in x]
        b = s[np.ix_(y, x)]
        ybarx = np.zeros_like(s)
        ybarx[np.ix_(y, y)] = s[np.ix_(y, y)] - b @ np.linalg.solve(s[np.ix_(x, x)], b.T)
        rmat = s - ybarx
        r, c = vech_index(p)
        g_r = rmat[np.ix_(r, r)] * rmat[np.ix_(c, c)] + rmat[np.ix_(r, c)] * rmat[np.ix_(c, r)]
        gamma = gamma - g_r
        mean_block = ybarx
    if not meanstructure:
        return gamma
    out = np.zeros((p + gamma.shape[0],) * 2)
    out[:p, :p] = mean_block
    out[p:, p:] = gamma
    return out


def gamma_adf_model(raw: np.ndarray, mu: np.ndarray | None, sigma: np.ndarray, meanstructure: bool,
                    x_index=()) -> np.ndarray:
    """The model-based ADF Gamma of the module notes (divisor N_g, lavaan's gamma.n.minus.one = FALSE);
    with fixed.x covariates :func:`gamma_adf_model_fixed_x`."""
    y = np.asarray(raw, float)
    centre = y.mean(axis=0) if mu is None or not meanstructure else np.asarray(mu, float)
    if list(x_index):
        return gamma_adf_model_fixed_x(y, centre, sigma, meanstructure, list(x_index))
    yc = y - centre
    rows, cols = vech_index(y.shape[1])
    products = yc[:, cols] * yc[:, rows]
    target = sigma[rows, cols]
    z = products - target
    if meanstructure:
        z = np.hstack([y - centre, z])
    z = np.nan_to_num(z)  # missing="ml": the sums over the available cases, divisor N (lavaan)
    return z.T @ z / y.shape[0]


def gamma_adf_model_fixed_x(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray, meanstructure: bool,
                            x: list[int]) -> np.ndarray:
    """Model-based ADF Gamma under fixed.x (lavaan 0.6.14 ``lav_samplestats_Gamma``, fixed.x branch with
    ``Sigma``): the moments of y minus those of its regression on the covariates implied by Sigma.

    With B = Sigma_xx^-1 Sigma_xy (the implied slopes), a = ybar_y - B' xbar, yhat_i = a + B' x_i (the
    covariates themselves for the x columns), Yhat's moments (ybar, Sigma with the y block
    Sigma_yy.x-explained, Sigma_yx B), z_i = (y_i, vech((y_i - mu)(y_i - mu)')) -
    (yhat_i, vech((yhat_i - ybar)(yhat_i - ybar)')) centred at (mu, vech Sigma) - (ybar, vech Sigma_hat):
    Gamma = (1 / N) sum_i z_i z_i' (the covariates' own rows are zero)."""
    n, p = y.shape
    yy = [i for i in range(p) if i not in x]
    ybar = y.mean(axis=0)
    s_xx, s_xy = sigma[np.ix_(x, x)], sigma[np.ix_(x, yy)]
    slopes = np.linalg.solve(s_xx, s_xy)
    res_cov = sigma[np.ix_(yy, yy)] - s_xy.T @ slopes
    intercept = ybar[yy] - ybar[x] @ slopes
    yhat = y.copy()
    yhat[:, yy] = intercept + y[:, x] @ slopes
    yhat_cov = sigma.copy()
    yhat_cov[np.ix_(yy, yy)] = sigma[np.ix_(yy, yy)] - res_cov
    rows, cols = vech_index(p)
    yc, hc = y - mu, yhat - ybar
    z = yc[:, cols] * yc[:, rows] - hc[:, cols] * hc[:, rows]
    centre = sigma[rows, cols] - yhat_cov[rows, cols]
    if meanstructure:
        z = np.hstack([y - yhat, z])
        centre = np.concatenate([mu - ybar, centre])
    z = z - centre
    return z.T @ z / n
