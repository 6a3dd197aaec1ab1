"""Maximum likelihood estimation (lavaan ``estimator="ML"``, complete data, one group).

Discrepancy (Joreskog 1967; Bollen 1989, eq. 4.67):

    F_ML(theta) = log|Sigma| + tr(S Sigma^-1) - log|S| - p  [+ (ybar - mu)' Sigma^-1 (ybar - mu)]

Gradient  g_k = tr(W dSigma_k) - 2 d' Sigma^-1 dmu_k,
          W = Sigma^-1 (Sigma - S - d d') Sigma^-1, d = ybar - mu.
Minimised by Fisher scoring (Gauss-Newton with the expected Hessian
H_kl = tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + 2 dmu_k' Sigma^-1 dmu_l) with step halving; when that
fails (e.g. a method factor identified by variances heading for a Heywood region), trust-region scoring
(the same Hessian, steps bounded by a radius, as lavaan's PORT nlminb) and a quasi-Newton (BFGS,
analytic gradient) fallback; convergence to |g|_max < 1e-9 (lavaan stops nlminb at a
relative change of 1e-10 in F, so both reach the same optimum well inside 1e-3).
lavaan reports ``fmin`` = F_ML / 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.sem.data.moments import GroupStats
from survey.sem.model.ram import Implied, RAMModel


@dataclass
class Estimation:
    """Outcome of the optimiser."""

    theta: np.ndarray
    fml: float
    converged: bool
    iterations: int
    max_gradient: float
    method: str
    message: str = ""


def objective(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> tuple[float, Implied | None]:
    """F_ML at theta (inf when Sigma is not positive definite)."""
    try:
        imp = model.implied(theta)
    except Exception:
        return np.inf, None
    sigma = imp.sigma
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return np.inf, imp
    logdet_sigma = 2.0 * np.log(np.diag(chol)).sum()
    try:  # numerically singular although Cholesky passed (e.g. a non-identified model's path)
        inv = np.linalg.inv(sigma)
    except np.linalg.LinAlgError:
        return np.inf, imp
    logdet_s = stats.logdet
    f = logdet_sigma + np.trace(stats.cov @ inv) - (logdet_s if np.isfinite(logdet_s) else 0.0) - model.p
    if model.meanstructure:
        d = stats.mean - imp.mean
        f += d @ inv @ d
    return float(f), imp


def gradient_and_information(
    model: RAMModel, stats: GroupStats, theta: np.ndarray, imp: Implied | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of F_ML and the expected Hessian H (= 2 x unit expected information)."""
    imp = imp if imp is not None else model.implied(theta)
    inv = np.linalg.inv(imp.sigma)
    dsig = model.delta(theta, imp)
    resid = imp.sigma - stats.cov
    mean_part = model.meanstructure
    if mean_part:
        d = stats.mean - imp.mean
        resid = resid - np.outer(d, d)
    w = inv @ resid @ inv
    q = dsig.shape[0]
    g = dsig.reshape(q, -1) @ w.ravel()
    # tr(Sigma^-1 dS_k Sigma^-1 dS_l) = <L' dS_k L, L' dS_l L> with Sigma^-1 = L L'
    try:
        chol = np.linalg.cholesky(inv)
        k = (chol.T @ dsig @ chol).reshape(q, -1)
        h = k @ k.T
    except np.linalg.LinAlgError:  # Sigma not positive definite: the plain trace formula
        m = inv @ dsig
        h = m.reshape(q, -1) @ m.transpose(0, 2, 1).reshape(q, -1).T
    if mean_part:
        dmu = model.delta_mean(theta, imp)
        g = g - 2.0 * dmu @ inv @ d
        h = h + 2.0 * dmu @ inv @ dmu.T
    return g, h


def gradient(model: RAMModel, stats: GroupStats, theta: np.ndarray, imp: Implied | None = None) -> np.ndarray:
    """Analytic gradient of F_ML (no information matrix)."""
    imp = imp if imp is not None else model.implied(theta)
    inv = np.linalg.inv(imp.sigma)
    resid = imp.sigma - stats.cov
    if model.meanstructure:
        d = stats.mean - imp.mean
        resid = resid - np.outer(d, d)
    g = model.gradient_from_weight(inv @ resid @ inv, imp)
    if model.meanstructure:
        g = g - 2.0 * model.delta_mean(theta, imp) @ inv @ d
    return g


def observed_hessian(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> np.ndarray:
    """Hessian of F_ML by forward differences of the analytic gradient (symmetrised)."""
    q = theta.size
    h = np.empty((q, q))
    g0 = gradient(model, stats, theta)
    for k in range(q):
        step = 1e-7 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = step
        h[:, k] = (gradient(model, stats, theta + e) - g0) / step
    return 0.5 * (h + h.T)


def _fisher_scoring(
    model: RAMModel,
    stats: GroupStats,
    theta: np.ndarray,
    max_iter: int = 400,
    tol: float = 1e-9,
    newton_below: float = 1e-3,
) -> Estimation:
    f, imp = objective(model, stats, theta)
    if not np.isfinite(f):
        return Estimation(
            theta, f, False, 0, np.inf, "fisher", "starting values give a non-positive-definite Sigma"
        )
    it = 0
    gmax = np.inf
    for it in range(1, max_iter + 1):
        g, h = gradient_and_information(model, stats, theta, imp)
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if gmax < tol:
            return Estimation(theta, f, True, it, gmax, "fisher")
        if gmax < newton_below:
            # near the optimum: Newton steps with the observed Hessian (quadratic convergence)
            h_obs = observed_hessian(model, stats, theta)
            if np.all(np.linalg.eigvalsh(h_obs) > 0):
                h = h_obs
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        slope = float(g @ step)
        if not np.isfinite(slope) or slope <= 0:
            step, slope = g, float(g @ g)
        alpha = 1.0
        accepted = False
        for _ in range(40):
            cand = theta - alpha * step
            f_new, imp_new = objective(model, stats, cand)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * alpha * slope:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            # no decrease possible along the scoring direction: at numerical optimum or stuck
            return Estimation(theta, f, gmax < 1e-6, it, gmax, "fisher", "line search failed")
        theta, f, imp = cand, f_new, imp_new
    return Estimation(theta, f, False, it, gmax, "fisher", "iteration limit reached")


def _value_and_gradient(model: RAMModel, stats: GroupStats):
    """F_ML and its gradient for scipy; 1e10 (and a zero gradient) where Sigma is not positive definite."""

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        f, imp = objective(model, stats, x)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(x)
        g, _ = gradient_and_information(model, stats, x, imp)
        return f, g

    return fun


def _quasi_newton(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> Estimation:
    fun = _value_and_gradient(model, stats)
    from scipy import optimize  # a fallback: imported when needed (start-up cost)

    res = optimize.minimize(fun, theta, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000})
    f, imp = objective(model, stats, res.x)
    g, _ = (
        gradient_and_information(model, stats, res.x, imp) if np.isfinite(f) else (np.array([np.inf]), None)
    )
    gmax = float(np.max(np.abs(g))) if g.size else 0.0
    return Estimation(
        res.x, f, bool(np.isfinite(f) and gmax < 1e-6), int(res.nit), gmax, "bfgs", str(res.message)
    )


def _trust_region(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> Estimation:
    """Trust-region Fisher scoring (scipy ``trust-exact`` with the expected information as Hessian): steps
    stay inside a radius that shrinks where Sigma is not positive definite (as lavaan's PORT ``nlminb``)."""

    fun = _value_and_gradient(model, stats)

    def hess(x: np.ndarray) -> np.ndarray:
        f, imp = objective(model, stats, x)
        if not np.isfinite(f):
            return np.eye(x.size)
        return gradient_and_information(model, stats, x, imp)[1]

    try:
        from scipy import optimize  # a fallback: imported when needed (start-up cost)

        res = optimize.minimize(
            fun, theta, jac=True, hess=hess, method="trust-exact", options={"gtol": 1e-9, "maxiter": 1000}
        )
    except (np.linalg.LinAlgError, ValueError):
        return Estimation(theta, np.inf, False, 0, np.inf, "trust", "trust region failed")
    f, imp = objective(model, stats, res.x)
    g = gradient_and_information(model, stats, res.x, imp)[0] if np.isfinite(f) else np.array([np.inf])
    gmax = float(np.max(np.abs(g))) if g.size else 0.0
    ok = bool(np.isfinite(f) and gmax < 1e-6)
    return Estimation(res.x, f, ok, int(res.nit), gmax, "trust", str(res.message))


def _then_scoring(alt: Estimation, model: RAMModel, stats: GroupStats, done: int) -> Estimation:
    if not np.isfinite(alt.fml):
        return alt
    polished = _fisher_scoring(model, stats, alt.theta, max_iter=100)
    if polished.converged or polished.fml <= alt.fml:
        polished.iterations += alt.iterations + done
        polished.method = f"fisher+{alt.method}"
        return polished
    return alt


def _bfgs_then_scoring(model: RAMModel, stats: GroupStats, theta: np.ndarray, done: int) -> Estimation:
    return _then_scoring(_quasi_newton(model, stats, theta), model, stats, done)


def estimate_ml(model: RAMModel, stats: GroupStats, start: np.ndarray) -> Estimation:
    """Minimise F_ML from ``start``: Fisher scoring with step halving; when it fails, trust-region scoring
    from the starting values, then BFGS from the starting values and from where scoring stopped, each
    polished by scoring; the converged solution with the lowest F_ML wins."""
    if model.npar == 0:
        f, _ = objective(model, stats, start)
        return Estimation(start, f, np.isfinite(f), 0, 0.0, "none")
    start = np.asarray(start, dtype=float)
    est = _fisher_scoring(model, stats, start)
    if est.converged:
        return est
    trust = _then_scoring(_trust_region(model, stats, start), model, stats, est.iterations)
    if trust.converged:
        return trust
    tries = [trust, _bfgs_then_scoring(model, stats, start, est.iterations)]
    if np.isfinite(est.fml):
        tries.append(_bfgs_then_scoring(model, stats, est.theta, est.iterations))
    tries = [t for t in tries if np.isfinite(t.fml)]
    if not tries:
        return est
    return min(tries, key=lambda t: (not t.converged, t.fml))
