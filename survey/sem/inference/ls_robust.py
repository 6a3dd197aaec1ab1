"""Robust standard errors and scaled tests of a continuous least-squares fit (lavaan 0.6.14's ``se =
"robust.sem"`` with ULS / DWLS / WLS, ``information = "observed"`` with GLS, and ``test =
"satorra.bentler" | "scaled.shifted" | "mean.var.adjusted"`` with ULS / DWLS on continuous data: its
ULSM / ULSMV / DWLSM-style fits), any number of groups, with or without a mean structure and fixed.x
covariates, complete data.

Per group g (N_g rows, f_g = N_g / N): Delta_g = d s_g / d theta at the estimate (means first under a mean
structure), W_g the estimator's weight (:func:`survey.sem.estimate.wls.weight_matrix`) and Gamma_g the ADF
covariance of s_g (divisor N_g; Browne 1984; under fixed.x lavaan's fixed.x Gamma, the covariates' moments
with zero rows). With E = sum_g f_g Delta_g' W_g Delta_g:

    vcov (robust.sem) = E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / (N - G)   (Browne 1984;
    lavaan ``lav_model_nvcov_robust_sem``: f_g^2 / f_g, and N - G the sample size of these estimators)
    stacked over groups, V = blockdiag(f_g W_g), G = blockdiag(Gamma_g / f_g), Delta = (Delta_1; ...):
    U = V - V Delta E^-1 Delta' V;   c = tr(U G) / df,   T_SB = T / c      (Satorra & Bentler 1994)
    scaled.shifted: a = sqrt(df / tr((U G)^2)),  T_SS = a T + df - a tr(U G)   (Asparouhov &
    Muthen 2010), lavaan's scaling factor 1 / a and shift df - a tr(U G)
    mean.var.adjusted: df* = tr(U G)^2 / tr((U G)^2), T_MV = T df* / tr(U G)  (Satterthwaite;
    Satorra & Bentler 1994)

information = "observed" (GLS, one group; lavaan sets "expected" for ULS / DWLS / WLS, with a warning):
vcov = (H (N - 1) / N)^-1 / (N - 1), H the Hessian of F / 2 at the estimate (central differences of its
analytic gradient -Delta' W (s - sigma)); H (N - 1) / N is lavaan's Hessian of its fmin = chisq / (2 N),

and the baseline (independence) test scaled by the same formulas with Delta the selection of its free
moments in each group (variances, the covariates' covariances, the means under a mean structure; not the
fixed.x moments). Checked against tests/fixtures/engine/ls_more.json (one group) and
tests/fixtures/lang3/lang3.json (groups, meanstructure, fixed.x). conditional.x = TRUE: Delta_g, W_g, Gamma_g
of the statistics of y given x (survey.sem.estimate.wls_conditional; tests/fixtures/conditional_x_mlm).
"""

from __future__ import annotations

import numpy as np

from survey.sem.estimate.wls import fixed_x_moments, sample_moments, weight_matrix
from survey.sem.inference.tests import ScaledTest
from survey.sem.model.moments import gamma_adf, gamma_adf_fixed_x, moments_jacobian, vech_index

ROBUST_TESTS = ("satorra.bentler", "scaled.shifted", "mean.var.adjusted")


def _delta(mg, theta: np.ndarray, g: int = 0) -> np.ndarray:
    ms = bool(getattr(mg, "meanstructure", False))
    return moments_jacobian(mg.models[g], mg.local(mg.k @ theta, g), ms) @ mg.k[mg.index[g], :]


def _gamma(block, meanstructure: bool) -> np.ndarray:
    pairwise = getattr(block, "pairwise_rows", None)  # missing="pairwise": the pairwise Gamma
    if pairwise is not None:
        from survey.sem.estimate.wls import gamma_pairwise

        return gamma_pairwise(pairwise, meanstructure)
    from survey.sem.estimate.wls import mplus_gamma

    x_index = list(getattr(block, "x_index", []) or [])
    gamma = gamma_adf_fixed_x(block.raw, x_index, meanstructure) if x_index else gamma_adf(block.raw,
                                                                                           meanstructure)
    return mplus_gamma(block, gamma, meanstructure)  # mimic="Mplus" (survey.sem.mimic_mplus_ls)


def _pieces(mg, blocks, estimator: str, theta: np.ndarray | None):
    """Per group: f_g, Delta_g (None without theta), W_g, Gamma_g (module notes)."""
    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    ms = bool(getattr(mg, "meanstructure", False))
    ns = np.array([b.n for b in blocks], float)
    return [_conditional_piece(mg, b, estimator, theta, g, n / ns.sum()) if getattr(b, "conditional_x", False)
            else (n / ns.sum(), None if theta is None else _delta(mg, theta, g),
                  weight_matrix(estimator, b, ms), _gamma(b, ms)) for g, (n, b) in enumerate(zip(ns, blocks,
                                                                                               strict=True))]


def _conditional_piece(mg, block, estimator: str, theta: np.ndarray | None, g: int, f: float):
    """(f_g, Delta_g, W_g, Gamma_g) in the statistics of y given x (conditional.x = TRUE:
    :mod:`survey.sem.estimate.wls_conditional`, Gamma the residual-based one)."""
    from survey.sem.data.conditional import conditional_delta, conditional_gamma
    from survey.sem.estimate.wls_conditional import conditional_ls_weight

    xi = list(block.x_index)
    delta = None
    if theta is not None:
        local = mg.local(mg.k @ theta, g)
        sigma = mg.models[g].implied(local).sigma
        delta = conditional_delta(sigma, np.asarray(block.mean)[xi], xi,
                                  moments_jacobian(mg.models[g], local, True) @ mg.k[mg.index[g], :])
    return f, delta, conditional_ls_weight(estimator, block), conditional_gamma(block.raw, xi)


def robust_vcov(mg, blocks, estimator: str, theta: np.ndarray, e_inv: np.ndarray | None = None) -> np.ndarray:
    """The sandwich vcov of the module notes (``blocks``: one complete-data block per group; ``e_inv``:
    E^-1 under explicit constraints, the augmented inverse of survey.sem.ls_constrained)."""
    parts = _pieces(mg, blocks, estimator, theta)
    listed = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    # mimic="Mplus": the meat weighted f_g^2 / f1_g, f1_g = (N_g - 1) / N (lav_model_nvcov_robust_sem)
    meat = [blk.n / (blk.n - 1.0) if getattr(blk, "mplus", False) else 1.0 for blk in listed]
    b = sum(m * f * d.T @ w @ gam @ w @ d for m, (f, d, w, gam) in zip(meat, parts, strict=True))
    if e_inv is None:
        e_inv = np.linalg.inv(sum(f * d.T @ w @ d for f, d, w, _ in parts))
    ntotal = sum(blk.n for blk in (blocks if isinstance(blocks, (list, tuple)) else [blocks]))
    v = e_inv @ b @ e_inv / (ntotal - len(parts))
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


def _stacked_u(parts, deltas, e_inv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """U and the stacked Gamma of the module notes for the Jacobians ``deltas`` (one per group)."""
    from scipy.linalg import block_diag

    v = block_diag(*[f * w for f, _, w, _ in parts])
    gam = block_diag(*[g / f for f, _, _, g in parts])
    d = np.vstack(deltas)
    vd = v @ d
    e_inv = np.linalg.pinv(d.T @ vd) if e_inv is None else e_inv
    return v - vd @ e_inv @ vd.T, gam


def _baseline_selection(mg, block, g: int, meanstructure: bool) -> np.ndarray:
    """The baseline's free moments of group g as columns of the identity (fit_ls' independence model)."""
    if getattr(block, "conditional_x", False):  # y given x: intercepts, slopes, residual variances
        from survey.sem.estimate.wls_conditional import conditional_baseline_free

        free = conditional_baseline_free(block)
        return np.eye(free.size)[:, free]
    p = len(mg.ov)
    rows, cols = vech_index(p)
    xs = [mg.ov.index(v) for v in mg.models[g].names.ov_x]
    keep = (rows == cols) | (np.isin(rows, xs) & np.isin(cols, xs))
    keep = np.concatenate([np.ones(p, bool), keep]) if meanstructure else keep
    keep &= ~fixed_x_moments(p, list(getattr(block, "x_index", []) or []), meanstructure)
    return np.eye(len(keep))[:, keep]


def scaled_tests(mg, blocks, estimator: str, theta: np.ndarray, method: str, chisq: float, df: float,
                 baseline_chisq: float, baseline_df: float,
                 e_inv: np.ndarray | None = None) -> tuple[ScaledTest, ScaledTest]:
    """The model's and the baseline's scaled tests (module notes; ``e_inv`` as in :func:`robust_vcov`)."""
    from scipy.linalg import block_diag

    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    ms = bool(getattr(mg, "meanstructure", False))
    parts = _pieces(mg, blocks, estimator, theta)
    u, gam = _stacked_u(parts, [d for _, d, _, _ in parts], e_inv)
    test = _scaled(method, chisq, df, u, gam)
    sel = block_diag(*[_baseline_selection(mg, b, g, ms) for g, b in enumerate(blocks)])
    u0, _ = _stacked_u(parts, np.vsplit(sel, np.cumsum([w.shape[0] for _, _, w, _ in parts])[:-1]))
    return test, _scaled(method, baseline_chisq, baseline_df, u0, gam)


def observed_information(mg, blocks, estimator: str, theta: np.ndarray) -> np.ndarray:
    """lavaan's observed information of a GLS fit, any groups, mean structure, fixed.x (module notes): the
    Hessian H of sum_g (N_g / N) F_g / 2 (central differences of its analytic gradient
    -sum_g (N_g / N) Delta_g' W_g e_g) times (N - G) / N, so that vcov = its inverse / (N - G)."""
    from survey.sem.standardize import numerical_jacobian

    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    ms = bool(getattr(mg, "meanstructure", False))
    ns = np.array([b.n for b in blocks], float)
    ws = [weight_matrix(estimator, b, ms) for b in blocks]
    ss = [sample_moments(b, ms) for b in blocks]
    rows, cols = vech_index(len(mg.ov))

    def gradient(t: np.ndarray) -> np.ndarray:
        out = 0.0
        for g, (n, w, s) in enumerate(zip(ns, ws, ss, strict=True)):
            imp = mg.models[g].implied(mg.local(mg.k @ t, g))
            m = imp.sigma[rows, cols]
            m = np.concatenate([imp.mean, m]) if ms else m
            out = out - n / ns.sum() * _delta(mg, t, g).T @ w @ (s - m)
        return out

    h = numerical_jacobian(gradient, np.asarray(theta, float))
    return (h + h.T) / 2 * (ns.sum() - len(blocks)) / ns.sum()


def observed_vcov(mg, blocks, estimator: str, theta: np.ndarray) -> np.ndarray:
    """The vcov of information="observed" (module notes): the inverse of
    :func:`observed_information` / (N - G)."""
    blocks = list(blocks) if isinstance(blocks, (list, tuple)) else [blocks]
    v = np.linalg.inv(observed_information(mg, blocks, estimator, theta)) / (sum(b.n for b in blocks)
                                                                               - len(blocks))
    return (v + v.T) / 2
