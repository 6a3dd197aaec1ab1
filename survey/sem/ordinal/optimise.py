"""The ordinal optimiser: Gauss-Newton on the WLS-family objective, with the continuous engine's fallback
chain (:mod:`survey.sem.estimate.optimizer`) when it does not converge.

The objective is F(theta) = sum_g c_g r_g' W_g r_g (one group: c = 1; groups: c_g = N_g - 1, lavaan's
``lav_model_objective``), r_g = s_g - m_g(theta). With J_g = dm_g / dtheta', the Gauss-Newton pieces are
g = sum_g c_g J_g' W_g r_g (dF/dtheta = -2 g) and H = sum_g c_g J_g' W_g J_g (the Hessian of F is 2 H
at a perfect fit; Nocedal & Wright 2006, ch. 10):

1. Gauss-Newton steps H step = g, halved until F decreases (converged when F changes by less than 1e-10
   relative and every step component is below 1e-6);
2. if it fails (a line search that cannot decrease F, a singular H, the iteration limit), as lavaan's
   PORT ``nlminb`` would go on: a trust-region Newton method with the Gauss-Newton Hessian 2 H (steps
   bounded by a radius; scipy ``trust-exact``) from the start, then BFGS (analytic gradient -2 g) from
   the start and from where Gauss-Newton stopped, each polished by Gauss-Newton; the converged solution
   with the lowest F wins (the continuous engine's sequence);
3. if nothing converged, steps 1 and 2 again from lavaan's ``start = "simple"`` values (loadings 1,
   variances 0.05, covariances 0, the sample thresholds): a start on the other side of a ridge that the
   default start's path cannot cross (a factor whose loadings start with the wrong signs).

A point counts as converged only when Gauss-Newton converges there (a small gradient alone is not enough:
a solution drifting off to infinity along a flat direction, e.g. a variance running off in a two-indicator
model, has one; lavaan reports those as not converged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from survey.errors import EstimationError

Objective = Callable[[np.ndarray], float]
Pieces = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # theta -> (g, H) of the module docstring


@dataclass
class Result:
    """Where an optimiser stopped: the estimates, F there, whether it converged and which method."""

    theta: np.ndarray
    f: float
    converged: bool
    method: str


def _safe(f: Objective) -> Objective:
    def value(theta: np.ndarray) -> float:
        try:
            out = float(f(theta))
        except (EstimationError, FloatingPointError, np.linalg.LinAlgError, ValueError):
            return np.inf
        return out if np.isfinite(out) else np.inf

    return value


def gauss_newton(f: Objective, pieces: Pieces, theta: np.ndarray, tol: float = 1e-10,
                 max_iter: int = 300) -> Result:
    """Gauss-Newton steps with step halving (step 1 of the module docstring)."""
    f = _safe(f)
    f_old = f(theta)
    if not np.isfinite(f_old):
        return Result(theta, f_old, False, "gauss-newton")
    for _ in range(max_iter):
        try:
            grad, info = pieces(theta)
            step = np.linalg.solve(info + 1e-12 * np.eye(info.shape[0]), grad)
        except (np.linalg.LinAlgError, EstimationError, FloatingPointError):
            return Result(theta, f_old, False, "gauss-newton")
        for _half in range(40):
            cand = theta + step
            f_new = f(cand)
            if np.isfinite(f_new) and f_new <= f_old + 1e-14:
                break
            step = step / 2
        else:
            return Result(theta, f_old, False, "gauss-newton")
        theta = cand
        done = abs(f_old - f_new) < tol * max(1.0, f_old) and np.max(np.abs(step)) < 1e-6
        f_old = f_new
        if done:
            return Result(theta, f_old, True, "gauss-newton")
    return Result(theta, f_old, False, "gauss-newton")


def _polish(f: Objective, pieces: Pieces, theta: np.ndarray, method: str) -> Result:
    """Gauss-Newton from where a fallback stopped (its result when that does not improve F)."""
    at = _safe(f)(theta)
    if not np.isfinite(at):
        return Result(theta, at, False, method)
    polished = gauss_newton(f, pieces, theta, max_iter=200)
    if polished.converged or polished.f <= at:
        return Result(polished.theta, polished.f, polished.converged, f"gauss-newton+{method}")
    return Result(theta, at, False, method)


def _scipy(f: Objective, pieces: Pieces, theta: np.ndarray, method: str) -> Result:
    from scipy import optimize  # a fallback: imported when needed (start-up cost)

    f_safe = _safe(f)

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        value = f_safe(x)
        if not np.isfinite(value):
            return 1e10, np.zeros_like(x)
        try:
            return value, -2.0 * pieces(x)[0]
        except (np.linalg.LinAlgError, EstimationError, FloatingPointError, ValueError):
            return 1e10, np.zeros_like(x)

    def hess(x: np.ndarray) -> np.ndarray:
        try:
            return 2.0 * pieces(x)[1]
        except (np.linalg.LinAlgError, EstimationError, FloatingPointError, ValueError):
            return np.eye(x.size)

    try:
        if method == "trust":
            res = optimize.minimize(fun, theta, jac=True, hess=hess, method="trust-exact",
                                    options={"gtol": 1e-9, "maxiter": 1000})
        else:
            res = optimize.minimize(fun, theta, jac=True, method="BFGS",
                                    options={"gtol": 1e-10, "maxiter": 5000})
    except (np.linalg.LinAlgError, ValueError):
        return Result(theta, np.inf, False, method)
    return _polish(f, pieces, res.x, method)


def minimise(f: Objective, pieces: Pieces, start: np.ndarray, restart: np.ndarray | None = None) -> Result:
    """Minimise F from ``start``: Gauss-Newton, then the fallback chain (module docstring); when nothing
    converges, the same from ``restart`` (lavaan's ``start = "simple"`` values), the better result kept."""
    first = _chain(f, pieces, np.asarray(start, dtype=float))
    if first.converged or restart is None:
        return first
    again = _chain(f, pieces, np.asarray(restart, dtype=float))
    again.method = f"{again.method} (simple start)"
    tries = [t for t in (first, again) if np.isfinite(t.f)]
    return min(tries, key=lambda t: (not t.converged, t.f)) if tries else first


def _chain(f: Objective, pieces: Pieces, start: np.ndarray) -> Result:
    first = gauss_newton(f, pieces, start)
    if first.converged:
        return first
    trust = _scipy(f, pieces, start, "trust")
    if trust.converged and trust.f <= first.f + 1e-12 * max(1.0, abs(first.f)):
        return trust
    tries = [first, trust, _scipy(f, pieces, start, "bfgs")]
    if np.isfinite(first.f):
        tries.append(_scipy(f, pieces, first.theta, "bfgs"))
    tries = [t for t in tries if np.isfinite(t.f)]
    if not tries:
        return first
    return min(tries, key=lambda t: (not t.converged, t.f))
