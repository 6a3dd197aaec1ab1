"""The one optimiser: minimise F(theta) = sum_g w_g F_g over the group blocks
(:mod:`survey.sem.estimate.objective`).

Fisher scoring with step halving (Armijo); near the optimum (max |g| < 1e-3) the scoring matrix is refined
by BFGS updates (superlinear convergence without second derivatives; Nocedal & Wright 2006, ch. 6). When
scoring fails, trust-region scoring (steps bounded by a radius, as lavaan's PORT ``nlminb``) and BFGS from
the start and from where scoring stopped, each polished by scoring; the converged solution with the lowest
F wins. Convergence: max |dF/dtheta| < 1e-9 (lavaan stops at a relative change of 1e-10 in F; both reach the
same optimum well inside 1e-3). Equality constraints are the shared parameters of theta
(theta_full = K theta).
"""

from __future__ import annotations

import numpy as np

from survey.sem.data.blocks import BlockStats
from survey.sem.estimate.ml import Estimation
from survey.sem.estimate.objective import total_f, total_gradient, total_gradient_hessian
from survey.sem.model.blocks import MultiGroupModel


def scoring(
    mg: MultiGroupModel,
    blocks: list[BlockStats],
    theta: np.ndarray,
    max_iter: int = 500,
    tol: float = 1e-9,
    quasi_newton_below: float = 1e-3,
) -> Estimation:
    """Fisher scoring with step halving and BFGS refinement of the scoring matrix near the optimum."""
    f = total_f(mg, blocks, theta)
    if not np.isfinite(f):
        return Estimation(
            theta, f, False, 0, np.inf, "fisher", "starting values give a non-positive-definite Sigma"
        )
    gmax, it = np.inf, 0
    h_qn: np.ndarray | None = None
    prev: tuple[np.ndarray, np.ndarray] | None = None
    for it in range(1, max_iter + 1):
        if h_qn is None:
            g, h = total_gradient_hessian(mg, blocks, theta)
        else:
            g = total_gradient(mg, blocks, theta)
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if gmax < tol:
            return Estimation(theta, f, True, it, gmax, "fisher")
        if gmax < quasi_newton_below:
            if h_qn is None:
                h_qn = h.copy()
            elif prev is not None:
                s_k, y_k = theta - prev[0], g - prev[1]
                ys = float(y_k @ s_k)
                hs = h_qn @ s_k
                shs = float(s_k @ hs)
                if ys > 1e-14 * max(1.0, float(y_k @ y_k)) and shs > 0:
                    h_qn = h_qn - np.outer(hs, hs) / shs + np.outer(y_k, y_k) / ys
            h = h_qn
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        slope = float(g @ step)
        if not np.isfinite(slope) or slope <= 0:
            h_qn = None
            step, slope = g, float(g @ g)
        alpha, accepted = 1.0, False
        noise = 1e-13 * max(1.0, abs(f)) if gmax < 1e-5 else 0.0
        for _ in range(40):
            cand = theta - alpha * step
            f_new = total_f(mg, blocks, cand)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * alpha * slope + noise:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            if h_qn is not None and gmax >= 1e-6:  # a stale quasi-Newton matrix: back to scoring
                h_qn, prev = None, None
                continue
            return Estimation(theta, f, gmax < 1e-6, it, gmax, "fisher", "line search failed")
        prev = (theta, g)
        theta, f = cand, f_new
    return Estimation(theta, f, False, it, gmax, "fisher", "iteration limit reached")


def _value_and_gradient(mg: MultiGroupModel, blocks: list[BlockStats]):
    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        f = total_f(mg, blocks, x)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(x)
        return f, total_gradient(mg, blocks, x)

    return fun


def _trust_region(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray) -> Estimation:
    fun = _value_and_gradient(mg, blocks)

    def hess(x: np.ndarray) -> np.ndarray:
        if not np.isfinite(total_f(mg, blocks, x)):
            return np.eye(x.size)
        return total_gradient_hessian(mg, blocks, x)[1]

    try:
        from scipy import optimize  # a fallback: imported when needed (start-up cost)

        res = optimize.minimize(
            fun, theta, jac=True, hess=hess, method="trust-exact", options={"gtol": 1e-9, "maxiter": 1000}
        )
    except (np.linalg.LinAlgError, ValueError):
        return Estimation(theta, np.inf, False, 0, np.inf, "trust", "trust region failed")
    return _finish(mg, blocks, res.x, int(res.nit), "trust", str(res.message))


def _finish(
    mg: MultiGroupModel, blocks: list[BlockStats], x: np.ndarray, nit: int, method: str, message: str
) -> Estimation:
    """An estimation record at x: converged when F is finite and max |dF/dtheta| < 1e-6."""
    f = total_f(mg, blocks, x)
    g = total_gradient(mg, blocks, x) if np.isfinite(f) else np.array([np.inf])
    gmax = float(np.max(np.abs(g))) if g.size else 0.0
    return Estimation(x, f, bool(np.isfinite(f) and gmax < 1e-6), nit, gmax, method, message)


def _bfgs(mg: MultiGroupModel, blocks: list[BlockStats], theta: np.ndarray,
          maxiter: int = 5000) -> Estimation:
    from scipy import optimize  # a fallback: imported when needed (start-up cost)

    res = optimize.minimize(
        _value_and_gradient(mg, blocks),
        theta,
        jac=True,
        method="BFGS",
        options={"gtol": 1e-10, "maxiter": maxiter},
    )
    return _finish(mg, blocks, res.x, int(res.nit), "bfgs", str(res.message))


def _polish(alt: Estimation, mg: MultiGroupModel, blocks: list[BlockStats], done: int,
            max_iter: int = 200) -> Estimation:
    if not np.isfinite(alt.fml):
        return alt
    polished = scoring(mg, blocks, alt.theta, max_iter=max_iter)
    polished.iterations += alt.iterations + done
    polished.method = f"fisher+{alt.method}"
    return polished if polished.converged or polished.fml <= alt.fml else alt


def estimate(mg: MultiGroupModel, blocks: list[BlockStats], start: np.ndarray,
             scoring_iter: int = 500) -> Estimation:
    """Minimise F from ``start`` (see the module docstring for the sequence of methods); ``scoring_iter``:
    the budget of the first scoring run (the fallbacks start again from ``start``)."""
    start = np.asarray(start, dtype=float)
    if mg.npar == 0:
        f = total_f(mg, blocks, start)
        return Estimation(start, f, bool(np.isfinite(f)), 0, 0.0, "none")
    est = scoring(mg, blocks, start, max_iter=scoring_iter)
    if est.converged:
        return est
    trust = _polish(_trust_region(mg, blocks, start), mg, blocks, est.iterations)
    if trust.converged:
        return trust
    tries = [trust, _polish(_bfgs(mg, blocks, start), mg, blocks, est.iterations)]
    if np.isfinite(est.fml):
        tries.append(_polish(_bfgs(mg, blocks, est.theta), mg, blocks, est.iterations))
    tries = [t for t in tries + [est] if np.isfinite(t.fml)]
    if not tries:
        return est
    return min(tries, key=lambda t: (not t.converged, t.fml))


def estimate_replicate(mg: MultiGroupModel, blocks: list[BlockStats], start: np.ndarray,
                       scoring_iter: int = 500, bfgs_iter: int = 300) -> Estimation:
    """The optimiser of a bootstrap replicate: scoring from ``start`` (the full-sample estimates), then one
    fallback, BFGS from the same start (at most ``bfgs_iter`` iterations) polished by 100 scoring
    iterations. A replicate that neither fits (an empirically unidentified resample: a variance running
    off) costs two budgets instead of :func:`estimate`'s four (trust region, BFGS twice, each polished)."""
    start = np.asarray(start, dtype=float)
    if mg.npar == 0:
        return estimate(mg, blocks, start)
    est = scoring(mg, blocks, start, max_iter=scoring_iter)
    if est.converged:
        return est
    alt = _polish(_bfgs(mg, blocks, start, maxiter=bfgs_iter), mg, blocks, est.iterations, max_iter=100)
    tries = [t for t in (alt, est) if np.isfinite(t.fml)]
    return min(tries, key=lambda t: (not t.converged, t.fml)) if tries else est
