"""Robust standard errors and scaled tests of a continuous least-squares fit (lavaan 0.6.14's ``se =
"robust.sem"`` with ULS / DWLS / WLS, ``information = "observed"`` with GLS, and ``test =
"satorra.bentler" | "scaled.shifted" | "mean.var.adjusted"`` with ULS / DWLS on continuous data: its
ULSM / ULSMV / DWLSM-style fits), one group, complete data, no mean structure.

With Delta = d vech(Sigma) / d theta at the estimate, W the estimator's weight and Gamma the ADF covariance
of vech(S) (divisor N; Browne 1984):

    vcov (robust.sem) = A^-1 Delta' W Gamma W Delta A^-1 / (N - 1),   A = Delta' W Delta   (Browne 1984)
    U = W - W Delta A^-1 Delta' W;   c = tr(U Gamma) / df,   T_SB = T / c      (Satorra & Bentler 1994)
    scaled.shifted: a = sqrt(df / tr((U Gamma)^2)),  T_SS = a T + df - a tr(U Gamma)   (Asparouhov &
    Muthen 2010), lavaan's scaling factor 1 / a and shift df - a tr(U Gamma)
    mean.var.adjusted: df* = tr(U Gamma)^2 / tr((U Gamma)^2), T_MV = T df* / tr(U Gamma)  (Satterthwaite;
    Satorra & Bentler 1994)

information = "observed" (GLS; lavaan sets "expected" for ULS / DWLS / WLS, with a warning): vcov =
(H (N - 1) / N)^-1 / (N - 1), H the Hessian of F / 2 at the estimate (central differences of its analytic
gradient -Delta' W (s - sigma)); H (N - 1) / N is lavaan's Hessian of its fmin = chisq / (2 N),

and the baseline (independence) test scaled by the same formulas with Delta the selection of its free
variances (checked against tests/fixtures/engine/ls_more.json: lavaan divides the sandwich by N - 1, the
sample size of these estimators' statistics).
"""

from __future__ import annotations

import numpy as np

from survey.sem.estimate.wls import sample_moments, weight_matrix
from survey.sem.inference.tests import ScaledTest
from survey.sem.model.moments import gamma_adf, moments_jacobian, vech_index

ROBUST_TESTS = ("satorra.bentler", "scaled.shifted", "mean.var.adjusted")


def _delta(mg, theta: np.ndarray) -> np.ndarray:
    return moments_jacobian(mg.models[0], mg.local(mg.k @ theta, 0), False) @ mg.k[mg.index[0], :]


def robust_vcov(mg, block, estimator: str, theta: np.ndarray) -> np.ndarray:
    """The sandwich vcov of the module notes."""
    d, w, gamma = _delta(mg, theta), weight_matrix(estimator, block), gamma_adf(block.raw, False)
    a_inv = np.linalg.inv(d.T @ w @ d)
    v = a_inv @ d.T @ w @ gamma @ w @ d @ a_inv / (block.n - 1)
    return (v + v.T) / 2


def _scaled(method: str, stat: float, df: float, u: np.ndarray, gamma: np.ndarray) -> ScaledTest:
    ug = u @ gamma
    tr, tr2 = float(np.trace(ug)), float(np.trace(ug @ ug))
    if method == "scaled.shifted":
        a = np.sqrt(df / tr2)
        return ScaledTest(method, stat, df, tr, 1.0 / a, shift=float(df - a * tr), trace2=tr2)
    if method == "mean.var.adjusted":
        df_s = tr * tr / tr2
        return ScaledTest(method, stat, df, tr, tr / df_s, df_scaled=df_s, trace2=tr2)
    return ScaledTest(method, stat, df, tr, tr / df, trace2=tr2)


def _residual_weight(w: np.ndarray, d: np.ndarray) -> np.ndarray:
    wd = w @ d
    return w - wd @ np.linalg.solve(d.T @ wd, wd.T)


def scaled_tests(mg, block, estimator: str, theta: np.ndarray, method: str, chisq: float, df: float,
                 baseline_chisq: float, baseline_df: float) -> tuple[ScaledTest, ScaledTest]:
    """The model's and the baseline's scaled tests (module notes)."""
    w, gamma = weight_matrix(estimator, block), gamma_adf(block.raw, False)
    test = _scaled(method, chisq, df, _residual_weight(w, _delta(mg, theta)), gamma)
    p = len(mg.ov)
    rows, cols = vech_index(p)
    xs = [mg.ov.index(v) for v in mg.models[0].names.ov_x]
    keep = (rows == cols) | (np.isin(rows, xs) & np.isin(cols, xs))
    a = np.eye(len(sample_moments(block, False)))[:, keep]
    base = _scaled(method, baseline_chisq, baseline_df, _residual_weight(w, a), gamma)
    return test, base


def observed_vcov(mg, block, estimator: str, theta: np.ndarray) -> np.ndarray:
    """The vcov of information="observed" (module notes)."""
    from survey.sem.standardize import numerical_jacobian

    w, s = weight_matrix(estimator, block), sample_moments(block, False)
    rows, cols = vech_index(len(mg.ov))

    def gradient(t: np.ndarray) -> np.ndarray:
        sigma = mg.models[0].implied(mg.local(mg.k @ t, 0)).sigma[rows, cols]
        return -_delta(mg, t).T @ w @ (s - sigma)

    h = numerical_jacobian(gradient, np.asarray(theta, float))
    n = block.n
    v = np.linalg.inv((h + h.T) / 2 * (n - 1) / n) / (n - 1)
    return (v + v.T) / 2
