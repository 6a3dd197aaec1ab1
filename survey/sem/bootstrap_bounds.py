"""lower()/upper() bounds inside bootstrap replicates (lavaan ``se="bootstrap"`` / ``bootstrapLavaan`` /
``test="bollen.stine"`` with a bounded model).

lavaan's ``lav_bootstrap_internal`` refits every replicate with the fit's own parameter table, whose
``lower``/``upper`` columns ``nlminb`` imposes as a box (``lav_model_estimate``), so each replicate is the
minimum of F inside the box, from the full-sample (bounded) estimates. :func:`replicate_bounds` gives the
box the full-sample fit imposed (:func:`survey.sem.bounded.bounds_in_effect`: none when linear equalities
made lavaan drop it, so the replicates are then unbounded as lavaan's); :func:`bounded_refit` minimises a
replicate's F inside it by L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995, as :func:`survey.sem.bounded.fit_bounded`
for the full sample), then by projected Fisher scoring (:func:`projected_scoring`) where that stalls. A
replicate has converged when F is finite and the projected gradient (the gradient with the components that
push against an active bound set to 0; Nocedal & Wright 2006, sec. 16.7) is below 1e-6, the tolerance of
the unbounded optimiser's fallbacks.
"""

from __future__ import annotations

import numpy as np

from survey.sem.estimate.objective import total_f, total_gradient


def replicate_bounds(result) -> tuple[np.ndarray, np.ndarray] | None:
    """The (lower, upper) box of ``result``'s free parameters that its replicates must impose, or None."""
    model = getattr(result, "model", None)
    mg = getattr(result, "mg", None)
    if not isinstance(model, str) or mg is None:
        return None
    from survey.sem.bounded import bounds_in_effect

    return bounds_in_effect(model, mg, [])  # the full-sample fit already carries lavaan's warning


def projected_gradient(theta: np.ndarray, grad: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                       atol: float = 1e-10) -> np.ndarray:
    """The gradient of a box-constrained minimum's first-order condition: 0 where a component only pushes
    the estimate further against its active bound (g > 0 at a lower bound, g < 0 at an upper bound)."""
    out = np.array(grad, dtype=float)
    at_lower = theta <= lower + atol
    at_upper = theta >= upper - atol
    out[at_lower & (out > 0)] = 0.0
    out[at_upper & (out < 0)] = 0.0
    return out


def projected_scoring(mg, blocks: list, start: np.ndarray, bounds: tuple[np.ndarray, np.ndarray],
                      max_iter: int = 200, tol: float = 1e-8) -> tuple[np.ndarray, float, float]:
    """Projected Fisher scoring (Bertsekas 1982, SIAM J. Control Optim. 20, the two-metric projection
    method): the parameters on a bound whose gradient pushes outward are held there, (within
    min(1e-3, max |projected gradient|) of it: the epsilon-active set), the others take the scoring step of
    their own block of the expected Hessian, and the trial point is projected back into the
    box, halving the step until F falls (Armijo). Returns (theta, F, max |projected gradient|)."""
    from survey.sem.estimate.objective import total_gradient_hessian

    lower, upper = bounds
    theta = np.clip(np.asarray(start, dtype=float), lower, upper)
    f = total_f(mg, blocks, theta)
    pg_max = np.inf
    if not np.isfinite(f):
        return theta, f, pg_max
    for _ in range(max_iter):
        g, h = total_gradient_hessian(mg, blocks, theta)
        pg = projected_gradient(theta, g, lower, upper)
        pg_max = float(np.max(np.abs(pg))) if pg.size else 0.0
        if pg_max < tol:
            break
        # Bertsekas's epsilon-active set: within eps of a bound and pushed outward -> held
        move = projected_gradient(theta, g, lower, upper, atol=min(1e-3, pg_max)) != 0.0
        step = np.zeros_like(theta)
        try:
            step[move] = np.linalg.solve(h[np.ix_(move, move)], g[move])
        except np.linalg.LinAlgError:
            step[move] = np.linalg.lstsq(h[np.ix_(move, move)], g[move], rcond=None)[0]
        if not np.isfinite(step).all() or float(g[move] @ step[move]) <= 0:
            step = np.where(move, g, 0.0)
        alpha = 1.0
        for _ in range(40):
            cand = np.clip(theta - alpha * step, lower, upper)
            f_new = total_f(mg, blocks, cand)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * float(g @ (theta - cand)) + 1e-15 * abs(f):
                break
            alpha *= 0.5
        else:
            break
        theta, f = cand, f_new
    return theta, f, pg_max


def _lbfgsb(mg, blocks: list, x0: np.ndarray, bounds: tuple[np.ndarray, np.ndarray],
            max_iter: int) -> np.ndarray:
    from scipy import optimize  # only bounded models come here (start-up cost of the plain path)

    def fun(t):
        v = total_f(mg, blocks, t)
        return v if np.isfinite(v) else 1e10

    sol = optimize.minimize(fun, x0, jac=lambda t: total_gradient(mg, blocks, t), method="L-BFGS-B",
                            bounds=list(zip(bounds[0], bounds[1], strict=True)),
                            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 50})
    return np.clip(np.asarray(sol.x), bounds[0], bounds[1])


def _pg_max(mg, blocks: list, theta: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> float:
    if not np.isfinite(total_f(mg, blocks, theta)):
        return np.inf
    pg = projected_gradient(theta, total_gradient(mg, blocks, theta), *bounds)
    return float(np.max(np.abs(pg))) if pg.size else 0.0


def bounded_refit(mg, blocks: list, start: np.ndarray, bounds: tuple[np.ndarray, np.ndarray],
                  max_iter: int = 2000) -> tuple[np.ndarray, bool]:
    """One replicate minimised inside the box from ``start`` (module notes): L-BFGS-B, then projected
    scoring (:func:`projected_scoring`) from where it stopped when it did not converge (its line search can
    stall at the first step, e.g. on FIML replicates); (theta, converged)."""
    x0 = np.clip(np.asarray(start, dtype=float), bounds[0], bounds[1])
    theta = _lbfgsb(mg, blocks, x0, bounds, max_iter)
    if _pg_max(mg, blocks, theta, bounds) < 1e-6:
        return theta, True
    theta = projected_scoring(mg, blocks, theta if np.isfinite(total_f(mg, blocks, theta)) else x0, bounds)[0]
    return theta, bool(_pg_max(mg, blocks, theta, bounds) < 1e-6)
