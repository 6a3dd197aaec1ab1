"""Fast refits of one bootstrap replicate (:mod:`survey.sem.bootstrap`): ML by scoring with a fixed
metric from the full-sample fit, and FIML by scoring on the casewise likelihood."""


from __future__ import annotations

from typing import Any

import numpy as np

from survey.sem.data import GroupStats
from survey.sem.model import RAMModel


# ---------------------------------------------------------------------------------------------- fast ML
def _incidence(model: RAMModel) -> dict[str, np.ndarray]:
    """0/1 matrices (q x entries) that sum the free A, S and m entries into parameters (equality labels)."""
    out = getattr(model, "_incidence_cache", None)
    if out is None:
        out = {}
        for key, par in (("a", model.a_par), ("s", model.s_par), ("m", model.m_par)):
            free = par >= 0
            inc = np.zeros((model.npar, int(free.sum())))
            inc[par[free], np.arange(inc.shape[1])] = 1.0
            out[key] = inc
        model._incidence_cache = out
    return out


def sigma_jacobian(model: RAMModel, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, Any]:
    """dSigma/dtheta (q, p, p) and dmu/dtheta (q, p), aggregated with incidence matrices (no scatter-adds)."""
    imp = model.implied(theta)
    p, q = model.p, model.npar
    incidence = _incidence(model)
    g = imp.t[:p, :]
    c_ov = imp.sigma_all[:, :p]
    dsig = np.zeros((q, p * p))
    dmu = np.zeros((q, p))
    free = model.a_par >= 0
    if free.any():
        u = g[:, model.a_rows[free]]
        v = c_ov[model.a_cols[free], :]
        d = u.T[:, :, None] * v[:, None, :]
        d = (d + d.transpose(0, 2, 1)).reshape(-1, p * p)
        inc = incidence["a"]
        dsig += inc @ d
        if model.meanstructure:
            _, _, m = model.matrices(theta)
            tm = imp.t @ m
            dmu += inc @ (u.T * tm[model.a_cols[free]][:, None])
    free = model.s_par >= 0
    if free.any():
        gi, gj = g[:, model.s_rows[free]], g[:, model.s_cols[free]]
        d = gi.T[:, :, None] * gj.T[:, None, :]
        d = d + d.transpose(0, 2, 1)
        d[model.s_rows[free] == model.s_cols[free]] *= 0.5
        dsig += incidence["s"] @ d.reshape(-1, p * p)
    free = model.m_par >= 0
    if free.any() and model.meanstructure:
        dmu += incidence["m"] @ g[:, model.m_rows[free]].T
    return dsig.reshape(q, p, p), dmu, imp


def _fml(model: RAMModel, cov: np.ndarray, mean: np.ndarray, logdet_s: float, theta: np.ndarray) -> float:
    try:
        imp = model.implied(theta)
        chol = np.linalg.cholesky(imp.sigma)
    except (np.linalg.LinAlgError, Exception):
        return np.inf
    inv = np.linalg.inv(imp.sigma)
    f = 2.0 * np.log(np.diag(chol)).sum() + np.trace(cov @ inv) - logdet_s - model.p
    if model.meanstructure:
        d = mean - imp.mean
        f += d @ inv @ d
    return float(f)


def _gradient(model: RAMModel, cov: np.ndarray, mean: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """dF_ML/dtheta by the chain-rule contraction of :func:`survey.sem.fiml.contract` (no Jacobian)."""
    from survey.sem.model.chain import contract

    imp = model.implied(theta)
    inv = np.linalg.inv(imp.sigma)
    resid = imp.sigma - cov
    g_mu = np.zeros(model.p)
    if model.meanstructure:
        d = mean - imp.mean
        resid = resid - np.outer(d, d)
        g_mu = -2.0 * inv @ d
    return contract(model, theta, inv @ resid @ inv, g_mu, imp)


def expected_hessian(model: RAMModel, theta: np.ndarray) -> np.ndarray:
    """Expected Hessian of F_ML, tr(S^-1 dS_k S^-1 dS_l) (+ 2 dmu_k' S^-1 dmu_l)."""
    q = model.npar
    dsig, dmu, imp = sigma_jacobian(model, theta)
    inv = np.linalg.inv(imp.sigma)
    root = np.linalg.cholesky(inv)  # Sigma^-1 = L L': tr(S^-1 dS_k S^-1 dS_l) = <L' dS_k L, L' dS_l L>
    a = (root.T[None] @ dsig @ root).reshape(q, -1)
    h = a @ a.T
    if model.meanstructure:
        h = h + 2.0 * dmu @ inv @ dmu.T
    return h


def fit_ml_fast(
    model: RAMModel,
    cov: np.ndarray,
    mean: np.ndarray,
    start: np.ndarray,
    max_iter: int = 200,
    tol: float = 1e-7,
    metric: np.ndarray | None = None,
) -> tuple[np.ndarray, float, bool]:
    """Minimise F_ML with step halving; returns (theta, F_ML, converged: max |gradient| < ``tol``).

    With ``metric`` (the inverse expected Hessian at the full-sample estimates, the same for every
    bootstrap replicate) the steps are ``metric @ gradient`` (a fixed-metric Newton method: one cheap
    gradient per iteration); after 40 such iterations, or without ``metric``, Fisher scoring with the
    expected Hessian at the current estimates.
    """
    sign, logdet_s = np.linalg.slogdet(cov)
    logdet_s = float(logdet_s) if sign > 0 else 0.0
    theta = np.asarray(start, dtype=float).copy()
    f = _fml(model, cov, mean, logdet_s, theta)
    if not np.isfinite(f):
        return theta, f, False
    q = model.npar
    for it in range(max_iter):
        grad = _gradient(model, cov, mean, theta)
        if np.max(np.abs(grad)) < tol:
            return theta, f, True
        if metric is not None and it < 40:
            step = metric @ grad
        else:
            h = expected_hessian(model, theta)
            try:
                step = np.linalg.solve(h, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(h, grad, rcond=None)[0]
        slope = float(grad @ step)
        if not np.isfinite(slope) or slope <= 0:
            step, slope = grad, float(grad @ grad)
        alpha = 1.0
        for _ in range(30):
            cand = theta - alpha * step
            f_new = _fml(model, cov, mean, logdet_s, cand)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * alpha * slope:
                break
            alpha *= 0.5
        else:
            return theta, f, bool(np.max(np.abs(grad)) < 1e-5 and q > 0)
        theta, f = cand, f_new
    return theta, f, False


def fit_fiml_fast(
    model: RAMModel,
    md: Any,
    start: np.ndarray,
    metric: np.ndarray | None,
    h1: GroupStats,
    max_iter: int = 60,
    tol: float = 1e-8,
) -> tuple[np.ndarray, float, bool]:
    """Maximise the FIML casewise log-likelihood from ``start``; returns (theta, -logl / N, converged).

    Quasi-Newton (BFGS, Nocedal & Wright 2006, eq. 6.17) on F = -logl / N, the inverse Hessian started at
    ``metric`` (the inverse per-case observed information at the full-sample estimates, the same for every
    replicate) and updated ``H <- (I - r s y') H (I - r y s') + r s s'``, ``s`` the step, ``y`` the change of
    the gradient, ``r = 1 / y's``: from the full-sample estimates a replicate converges in about a dozen
    likelihood evaluations (the fixed metric alone converges linearly, at a rate near 0.75 on the study
    model). Step halving keeps every step uphill. Convergence as :func:`survey.sem.fiml.estimate_fiml`,
    max |dlogl/dtheta| / N < ``tol``; after ``max_iter`` steps, or without ``metric``, that function's
    scoring iterations take over from the current point.
    """
    from survey.sem.estimate.fiml import estimate_fiml, model_loglik

    n = md.n
    theta = np.asarray(start, dtype=float).copy()
    f, g = model_loglik(model, md, theta, True)
    if not np.isfinite(f):
        return theta, np.inf, False
    if metric is not None:
        inv_h = np.array(metric, dtype=float)
        eye = np.eye(theta.size)
        for _ in range(max_iter):
            gn = g / n
            if np.max(np.abs(gn)) < tol:
                return theta, -f / n, True
            step = inv_h @ gn
            slope = float(gn @ step)
            if not np.isfinite(slope) or slope <= 0:
                break
            alpha = 1.0
            for _ in range(20):
                cand = theta + alpha * step
                f_new, g_new = model_loglik(model, md, cand, True)
                if np.isfinite(f_new) and f_new >= f + 1e-4 * alpha * slope * n - 1e-12 * abs(f):
                    break
                alpha *= 0.5
            else:
                break
            s_k, y_k = cand - theta, (g - g_new) / n
            sy = float(s_k @ y_k)
            if sy > 1e-12 * float(np.linalg.norm(s_k) * np.linalg.norm(y_k)):
                left = eye - np.outer(s_k, y_k) / sy
                inv_h = left @ inv_h @ left.T + np.outer(s_k, s_k) / sy
            theta, f, g = cand, f_new, g_new
    est = estimate_fiml(model, md, theta, h1, tol=tol)
    return est.theta, float(est.fml), bool(est.converged)


# ---------------------------------------------------------------------------------------------- replicates
