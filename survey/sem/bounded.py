"""lower() / upper() bounds of the model syntax (lavaan: ``partable$lower`` / ``$upper``, imposed as box
constraints by ``nlminb``).

lavaan 0.6.14 treats a bound only as a box for the optimiser: the standard errors, tests and df are those
of the unbounded formulas evaluated at the bounded estimate (a parameter on its bound keeps its usual
standard error; tests/fixtures/language/make_bounds.R).  :func:`fit_bounded` re-estimates an engine fit
with L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995) inside the box and recomputes the inference there with
:func:`survey.sem.engine.inference` (passed in by the engine).  Single-group, complete-data fits
without explicit constraints
(other paths are refused by :func:`survey.sem.syntax.checks.check_path`).
"""

from __future__ import annotations

import copy

import numpy as np

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem import syntax


def model_bounds(model: str, mg) -> tuple[np.ndarray, np.ndarray] | None:
    """(lower, upper) per estimated parameter from the syntax's lower()/upper() modifiers, or None without
    bounds. A bound on a fixed parameter is ignored (lavaan sets it to the fixed value)."""
    formulas = [f for f in syntax.parse_syntax(model) if f.mod.lower is not None or f.mod.upper is not None]
    if not formulas:
        return None
    lower, upper = np.full(mg.npar, -np.inf), np.full(mg.npar, np.inf)
    pt = mg.partable
    for f in formulas:
        same = (pt["op"] == f.op) & (((pt["lhs"] == f.lhs) & (pt["rhs"] == f.rhs))
                                     | ((f.op == "~~") & (pt["lhs"] == f.rhs) & (pt["rhs"] == f.lhs)))
        for free in pt.loc[same, "free"].astype(int):
            if free <= 0:
                continue
            if f.mod.lower is not None and f.mod.lower[0] is not None:
                lower[free - 1] = max(lower[free - 1], float(f.mod.lower[0]))
            if f.mod.upper is not None and f.mod.upper[0] is not None:
                upper[free - 1] = min(upper[free - 1], float(f.mod.upper[0]))
    if np.any(lower > upper):
        raise SurveyInputError("a lower() bound exceeds its upper() bound", field="model")
    return lower, upper


def fit_bounded(result, bounds: tuple[np.ndarray, np.ndarray], est: str, kind: str, se: str,
                information: str, test: str, inference):
    """Re-estimate ``result`` (an engine fit) inside the box ``bounds`` and recompute vcov and tests at the
    bounded estimate (module notes); ``inference`` is the engine's stage (passed in: no import cycle)."""
    from survey.sem.estimate.ml import Estimation
    from survey.sem.estimate.objective import total_f, total_gradient
    from survey.sem.results.result import SEMResult

    mg, blocks = result.mg, result.stats.groups
    if mg.partable["op"].isin(["==", "<", ">"]).any():
        raise SurveyInputError("lower()/upper() bounds together with explicit constraints are not available "
                               "yet (available: bounds alone, or constraints written as 'b > 0.9')",
                               field="model")
    lower, upper = bounds
    start = result.theta if np.isfinite(result.estimation.fml) else result.start
    start = np.clip(start, lower, upper)

    def fun(t):
        v = total_f(mg, blocks, t)
        return v if np.isfinite(v) else 1e10

    from scipy import optimize  # imported when a bounded model is fitted (start-up cost)

    sol = optimize.minimize(fun, start, jac=lambda t: total_gradient(mg, blocks, t), method="L-BFGS-B",
                            bounds=list(zip(lower, upper, strict=True)),
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 50})
    theta = np.clip(np.asarray(sol.x), lower, upper)
    n = sum(b.n for b in blocks)
    fml = total_f(mg, blocks, theta)
    info, scaled = inference(est, kind, mg, blocks, theta, result.pieces.df, se, information, test)
    warnings = [w for w in result.warnings if w.code != "not_converged"]
    if not sol.success:
        warnings.append(SurveyWarning("not_converged", f"The bounded optimiser did not converge "
                                      f"({sol.message}); the results are not trustworthy.", "sem"))
    pieces = copy.copy(result.pieces)
    pieces.theta, pieces.stat, pieces.info, pieces.scaled = theta, n * fml, info, scaled
    estimation = Estimation(theta, fml, bool(sol.success), int(sol.nit), 0.0, "l-bfgs-b", str(sol.message))
    return SEMResult(
        model=result.model, estimator=result.estimator, missing=result.missing,
        group=result.group or None, group_equal=result.group_equal, group_partial=result.group_partial,
        mg=mg, stats=result.stats, estimation=estimation, pieces=pieces, baseline=result.baseline,
        warnings=warnings, start=result.start)
