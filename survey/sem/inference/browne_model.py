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
fixed.x branch) is not reproduced: refused in one line. Everything else (the joint projection, the weights
N_g / N or (N_g - 1) / N, ``stat.group``) is that of the sample-based tests.
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
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
    """The model-based ADF Gamma of the module notes (divisor N_g, lavaan's gamma.n.minus.one = FALSE)."""
    if list(x_index):
        raise SurveyInputError("test='browne.residual.adf.model' with fixed.x covariates is not available "
                               "yet (available: browne.residual.nt.model, browne.residual.adf, or "
                               "fixed.x=False)", field="test", value="browne.residual.adf.model")
    y = np.asarray(raw, float)
    centre = y.mean(axis=0) if mu is None or not meanstructure else np.asarray(mu, float)
    yc = y - centre
    rows, cols = vech_index(y.shape[1])
    products = yc[:, cols] * yc[:, rows]
    target = sigma[rows, cols]
    z = products - target
    if meanstructure:
        z = np.hstack([y - centre, z])
    return z.T @ z / y.shape[0]
