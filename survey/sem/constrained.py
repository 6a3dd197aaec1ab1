"""Estimation under explicit constraints: ``a > 0``, ``a < b``, ``a == b^2``, ``a + b < 1`` (lavaan's
``constraints`` rows), on the free parameters.

:func:`minimize_constrained` is engine-neutral: an objective, its gradient, a start, and the equality
(h(theta) = 0) and inequality (g(theta) >= 0) functions; sequential quadratic programming (SLSQP, Kraft
1988), as lavaan's ``nlminb.constr`` / ``constrOptim.nl`` reach the same KKT point. Standard errors follow
lavaan (``lav_model_information_augment_invert``): the top-left block of the inverse of the augmented
information [[I, J'], [J, 0]], J the Jacobian of the equality and the active inequality constraints
(slack < 1e-6). The model df gain one per equality constraint (lavaan: rank of the equality Jacobian).

:func:`fit_constrained` re-estimates an engine fit (:func:`survey.sem.engine.fit_blocks`, estimator ML):
constraint expressions are evaluated by :class:`survey.sem.syntax.defined.DefinedFunction` over the labels
(and ``:=`` parameters), so ``c == d^2`` or ``ab > 0`` with ``ab := a*b`` work as in lavaan.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy import optimize

from survey.errors import SurveyWarning
from survey.sem.inference.vcov import augmented_inverse
from survey.sem.standardize import numerical_jacobian
from survey.sem.syntax.constraint_rows import constraint_functions  # noqa: F401  (re-exported: its old home)

ACTIVE = 1e-6


@dataclass
class ConstrainedSolution:
    theta: np.ndarray
    fun: float
    converged: bool
    iterations: int
    message: str


def minimize_constrained(
    objective: Callable[[np.ndarray], float],
    gradient: Callable[[np.ndarray], np.ndarray],
    theta0: np.ndarray,
    equalities: Callable[[np.ndarray], np.ndarray] | None = None,
    inequalities: Callable[[np.ndarray], np.ndarray] | None = None,
    maxiter: int = 1000,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> ConstrainedSolution:
    """Minimise ``objective`` subject to equalities(theta) == 0 and inequalities(theta) >= 0 (SLSQP);
    ``bounds`` (lower, upper): a box as well (lavaan's ``nlminb.constr`` takes lower/upper)."""
    cons = []
    if equalities is not None:
        cons.append({"type": "eq", "fun": equalities,
                     "jac": lambda t: numerical_jacobian(equalities, t)})
    if inequalities is not None:
        cons.append({"type": "ineq", "fun": inequalities,
                     "jac": lambda t: numerical_jacobian(inequalities, t)})

    def fun(t):
        v = objective(t)
        return v if np.isfinite(v) else 1e10

    box = None
    theta0 = np.asarray(theta0, float)
    if bounds is not None:
        box = list(zip(bounds[0], bounds[1], strict=True))
        theta0 = np.clip(theta0, bounds[0], bounds[1])
    res = optimize.minimize(fun, theta0, jac=gradient, method="SLSQP", constraints=cons, bounds=box,
                            options={"maxiter": maxiter, "ftol": 1e-14})
    return ConstrainedSolution(np.asarray(res.x), float(res.fun), bool(res.success), int(res.nit),
                               str(res.message))


def augmented_vcov(information: np.ndarray, jacobian: np.ndarray, n: int) -> np.ndarray:
    """vcov = [ [I, J'], [J, 0] ]^-1 top-left block / n (unit information I)."""
    return augmented_inverse(information, jacobian) / n


# ---------------------------------------------------------------------------- current single-group path
def constrained_inference(result, theta: np.ndarray, jacobian: np.ndarray, df: float,
                          information: str = "expected", se: str = "standard", test: str = "standard",
                          h1_tests: bool = False):
    """vcov and scaled test of a fit at its constrained estimate, as lavaan does under constraints: every
    inverse information is the augmented one, E^-1 = [[I, J'], [J, 0]]^-1 top-left (J the Jacobian of the
    equality and active inequality constraints; ``lav_model_vcov``): standard E^-1 / N, robust.huber.white
    E^-1 B0 E^-1 / N (MLR), robust.sem E^-1 (Delta' W Gamma W Delta) E^-1 / N (MLM); the Satorra-Bentler and
    Yuan-Bentler traces use the same E^-1 (``lav_test_satorra_bentler``, ``lav_test_yuan_bentler``).
    ``information`` ("expected" | "observed") and ``se`` (lavaan's se kind) are resolved by the engine;
    ``h1_tests``: MLR's own test on lavaan's observed.information = "h1" (a second test is asked)."""
    from survey.sem.estimate.objective import total_f
    from survey.sem.inference import information as infmod
    from survey.sem.inference import vcov as vcmod
    from survey.sem.inference.tests import ScaledTest, _factor, yuan_bentler_mplus

    mg, blocks, est, kind = result.mg, result.stats.groups, result.estimator, result.missing
    n = sum(b.n for b in blocks)
    se_kind, info_kind = se, information
    a = infmod.information(info_kind, mg, blocks, theta)
    e_inv = augmented_inverse(a, jacobian)
    stat = n * total_f(mg, blocks, theta)
    scaled = None
    sem = None
    if est == "MLM" or se_kind == "robust.sem":  # expected or observed (survey.sem.constrained_tests)
        from survey.sem.constrained_tests import robust_sem_pieces

        sem, trace = robust_sem_pieces(mg, blocks, theta, jacobian, a, info_kind == "observed")
        sem = sem / n
        if est == "MLM":
            scaled = ScaledTest("satorra.bentler", stat, df, trace, _factor(trace, df))
    b0 = None
    if est == "MLR" or se_kind in ("robust.huber.white", "first.order"):
        b0 = infmod.first_order(mg, blocks, theta)
        if est == "MLR":
            a_inv = e_inv
            if h1_tests:
                from survey.sem.inference.observed_sem import h1_structured_information

                a_inv = augmented_inverse(h1_structured_information(mg, blocks, theta), jacobian)
            scaled = yuan_bentler_mplus(stat, df, a_inv, b0, blocks, mg.meanstructure, mg.free_rows)
    if se_kind == "robust.sem":
        vcov = sem
    elif se_kind == "robust.huber.white":
        vcov = e_inv @ b0 @ e_inv / n
    elif se_kind == "first.order":
        vcov = augmented_inverse(b0, jacobian) / n
    else:
        vcov = e_inv / n
        if se_kind == "none":
            vcov = np.full_like(vcov, np.nan)
    if est == "ML" and test != "standard":  # test= with the augmented E^-1 (survey.sem.constrained_tests)
        from survey.sem.constrained_tests import requested_under_constraints

        scaled = requested_under_constraints(test, stat, df, result, theta, jacobian, e_inv, b0)
    shown = infmod.expected(mg, blocks, theta) if kind == "listwise" and info_kind != "expected" else a
    info = vcmod.Information(shown, (vcov + vcov.T) / 2.0, False, float(np.linalg.eigvalsh(a)[0]))
    return info, scaled


def fit_constrained(result, information: str = "expected", se: str = "standard", test: str = "standard",
                    bounds: tuple[np.ndarray, np.ndarray] | None = None, observed_h1: bool = False):
    """Re-estimate an engine fit (:func:`survey.sem.engine.fit_blocks`: any estimator, missing-data
    treatment and number of groups) under its table's constraints; returns a :class:`ConstrainedSEMResult`
    (df + equalities, npar - equalities). ``bounds``: lower()/upper() as a box besides (survey.sem.bounded;
    as in lavaan, they do not enter the standard errors). A second test of the engine fit (lavaan's test
    list) is recomputed at the constrained estimate (``observed_h1``: on lavaan's observed h1 information)."""
    from survey.sem.estimate.ml import Estimation
    from survey.sem.estimate.objective import total_f, total_gradient
    from survey.sem.results.values import values_at

    mg, blocks = result.mg, result.stats.groups
    eq, ineq, slack, rows = constraint_functions(mg.partable, lambda t: values_at(mg, t))
    start = result.theta if np.isfinite(result.estimation.fml) else result.start
    sol = minimize_constrained(lambda t: total_f(mg, blocks, t), lambda t: total_gradient(mg, blocks, t),
                               start, eq, ineq, bounds=bounds)
    theta = sol.theta
    s = slack(theta)
    is_eq = (rows["op"] == "==").to_numpy()
    active = is_eq | (np.abs(s) < ACTIVE)
    jac_all = numerical_jacobian(slack, theta)
    n_eq = int(np.linalg.matrix_rank(jac_all[is_eq])) if is_eq.any() else 0
    df = result.pieces.df + n_eq
    seconds = list(getattr(result.pieces, "extra_tests", None) or {})
    info, scaled = constrained_inference(result, theta, jac_all[active], df, information, se, test,
                                         h1_tests=bool(seconds) and result.estimator == "MLR")
    n = sum(b.n for b in blocks)
    fml = total_f(mg, blocks, theta)
    extra = {}
    for second in seconds:  # Browne's, MLM's/MLR's second test
        from survey.sem.constrained_tests import second_under_constraints

        equality = (jac_all[is_eq], bool(is_eq.any()) and _linear(eq, theta), bool((~is_eq).any()))
        extra[second] = second_under_constraints(second, result, theta, jac_all[active], equality, df,
                                                 n * fml, observed_h1)
    estimation = Estimation(theta, fml, sol.converged, sol.iterations, 0.0, "slsqp", sol.message)
    warnings = [w for w in result.warnings if w.code != "not_converged"]
    if not sol.converged:
        warnings.append(SurveyWarning("not_converged", f"The constrained optimiser did not converge "
                                      f"({sol.message}); the results are not trustworthy.", "sem"))
    pieces = copy.copy(result.pieces)
    pieces.theta, pieces.stat, pieces.df = theta, n * fml, df
    if not np.isfinite(result.pieces.stat):  # FIML without an h1 estimate: no chi-square
        pieces.stat = result.pieces.stat
    pieces.info, pieces.scaled = info, scaled
    if extra:
        pieces.extra_tests = extra
    pieces.constraint_jacobian = (jac_all[active],)  # the FIML-corrected robust tests use it
    out = _constrained_result_class()(
        model=result.model, estimator=result.estimator, missing=result.missing,
        group=result.group or None, group_equal=result.group_equal, group_partial=result.group_partial,
        mg=mg, stats=result.stats, estimation=estimation, pieces=pieces, baseline=result.baseline,
        warnings=warnings, start=result.start, n_equality=n_eq)
    k = out.partable.index[out.partable["op"].isin(["==", "<", ">"])]
    out.partable.loc[k, "est"] = s  # lavaan reports each constraint's slack (lhs - rhs)
    out.partable.loc[k, "se"] = 0.0
    return out


def _linear(eq: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> bool:
    """Whether the equality constraints are linear: their Jacobian the same at two points (as lavaan's
    ``lav_constraints_linear_idx`` checks)."""
    other = theta + np.random.default_rng(0).uniform(0.5, 1.5, theta.size)
    return bool(np.allclose(numerical_jacobian(eq, theta), numerical_jacobian(eq, other), atol=1e-6))


@lru_cache(maxsize=1)
def _constrained_result_class():
    from survey.sem.results.result import SEMResult

    class _ConstrainedSEMResult(SEMResult):
        """A result estimated under explicit constraints: df + number of equality constraints, npar -
        number of equality constraints, AIC/BIC with that npar (lavaan's fitMeasures)."""

        def __init__(self, *args, n_equality: int = 0, **kwargs) -> None:
            self.n_equality = n_equality
            super().__init__(*args, **kwargs)

        @cached_property
        def _fit(self) -> dict[str, float]:
            from survey.sem.results.measures import fit_measures

            out = fit_measures(self)
            m, n = self.n_equality, self.nobs
            out["npar"] = out["npar"] - m
            out["aic"] = out["aic"] - 2 * m
            out["bic"] = out["bic"] - m * np.log(n)
            if "bic2" in out:
                out["bic2"] = out["bic2"] - m * np.log((n + 2) / 24)
            return out

    return _ConstrainedSEMResult


def __getattr__(name: str):
    if name == "ConstrainedSEMResult":  # built lazily: survey.sem.results.result imports much of the engine
        return _constrained_result_class()
    raise AttributeError(name)
