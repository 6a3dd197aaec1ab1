"""lower() / upper() bounds of the model syntax (lavaan: ``partable$lower`` / ``$upper``, imposed as box
constraints by ``nlminb``).

lavaan 0.6.14 treats a bound only as a box for the optimiser: the standard errors, tests and df are those
of the unbounded formulas evaluated at the bounded estimate (a parameter on its bound keeps its usual
standard error; tests/fixtures/language/make_bounds.R).  :func:`fit_bounded` re-estimates an engine fit
with L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995) inside the box and recomputes the inference there with
:func:`survey.sem.engine.inference` (passed in by the engine): any number of groups, complete data or
FIML, and a second test (lavaan's test list).  With inequality or nonlinear equality constraints the box
goes to the constrained optimiser (:func:`survey.sem.constrained.fit_constrained`, as lavaan passes
``lower``/``upper`` to ``nlminb.constr``).  With linear equality constraints (shared labels,
``group.equal``, ``b == c``) lavaan drops the bounds with a warning (``lav_model_estimate``: "bounds have
no effect in the presence of linear equality constraints"); :func:`bounds_in_effect` does the same
(tests/fixtures/language/make_bounds_more.R).
"""

from __future__ import annotations

import copy

import numpy as np

from survey.errors import SurveyWarning
from survey.sem.syntax.bounds import model_bounds


def linear_equalities(mg) -> bool:
    """lavaan's ``lavmodel@eq.constraints``: equal parameters (shared labels, ``group.equal``: one free
    index on several rows here) or an ``==`` constraint that is linear in the parameters (its Jacobian the
    same at two points, as lavaan's ``lav_constraints_linear_idx`` checks)."""
    from survey.sem.constrained import constraint_functions
    from survey.sem.results.values import values_at
    from survey.sem.standardize import numerical_jacobian

    pt = mg.partable
    free = pt.loc[(pt["free"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="]), "free"]
    if free.duplicated().any():
        return True
    if not (pt["op"] == "==").any():
        return False
    eq = constraint_functions(pt, lambda t: values_at(mg, t))[0]
    t0 = np.random.default_rng(0).uniform(0.5, 1.5, mg.npar)  # a fixed point: the check is deterministic
    return bool(np.allclose(numerical_jacobian(eq, t0), numerical_jacobian(eq, 2.0 * t0), atol=1e-6))


def bounds_in_effect(model: str, mg, warnings: list) -> tuple[np.ndarray, np.ndarray] | None:
    """The bounds lavaan imposes: :func:`model_bounds`, or None (with lavaan's warning appended to
    ``warnings``) when the model has linear equality constraints (module notes)."""
    bounds = model_bounds(model, mg)
    if bounds is not None and linear_equalities(mg):
        warnings.append(SurveyWarning("bounds_ignored", "bounds have no effect in the presence of linear "
                                      "equality constraints (shared labels, group_equal or a linear '=='): "
                                      "lower()/upper() are dropped, as lavaan 0.6.14 drops them", "sem"))
        return None
    return bounds


def fit_bounded(result, bounds: tuple[np.ndarray, np.ndarray], est: str, kind: str, se: str,
                information: str, test: str, inference, second: str | None = None, observed_h1: bool = False):
    """Re-estimate ``result`` (an engine fit) inside the box ``bounds`` and recompute vcov and tests at the
    bounded estimate (module notes); ``inference`` is the engine's stage (passed in: no import cycle);
    ``second``: a second test (lavaan's test list), recomputed at the bounded estimate (``observed_h1``: on
    lavaan's observed h1 information, as the engine chose)."""
    from survey.sem.estimate.ml import Estimation
    from survey.sem.estimate.objective import total_f, total_gradient
    from survey.sem.results.result import SEMResult

    mg, blocks = result.mg, result.stats.groups
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
    if second:
        from survey.sem.inference.adjusted import second_test

        pieces.extra_tests = {second: second_test(second, mg, blocks, theta, pieces.df, n * fml,
                                                  observed_h1=observed_h1)}
    estimation = Estimation(theta, fml, bool(sol.success), int(sol.nit), 0.0, "l-bfgs-b", str(sol.message))
    return SEMResult(
        model=result.model, estimator=result.estimator, missing=result.missing,
        group=result.group or None, group_equal=result.group_equal, group_partial=result.group_partial,
        mg=mg, stats=result.stats, estimation=estimation, pieces=pieces, baseline=result.baseline,
        warnings=warnings, start=result.start)
