"""Estimation under explicit constraints: ``a > 0``, ``a < b``, ``a == b^2``, ``a + b < 1`` (lavaan's
``constraints`` rows), on the free parameters.

:func:`minimize_constrained` is engine-neutral: an objective, its gradient, a start, and the equality
(h(theta) = 0) and inequality (g(theta) >= 0) functions; sequential quadratic programming (SLSQP, Kraft
1988), as lavaan's ``nlminb.constr`` / ``constrOptim.nl`` reach the same KKT point. Standard errors follow
lavaan (``lav_model_information_augment_invert``): the top-left block of the inverse of the augmented
information [[I, J'], [J, 0]], J the Jacobian of the equality and the active inequality constraints
(slack < 1e-6). The model df gain one per equality constraint (lavaan: rank of the equality Jacobian).

:func:`fit_constrained` wires it into the current single-group ML path (the integrator re-points it to the
new engine): constraint expressions are evaluated by :class:`survey.sem.defined.DefinedFunction` over the
labels (and ``:=`` parameters), so ``c == d^2`` or ``ab > 0`` with ``ab := a*b`` work as in lavaan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from scipy import optimize

from survey.errors import SurveyWarning
from survey.sem.defined import DefinedFunction
from survey.sem.standardize import numerical_jacobian

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
) -> ConstrainedSolution:
    """Minimise ``objective`` subject to equalities(theta) == 0 and inequalities(theta) >= 0 (SLSQP)."""
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

    res = optimize.minimize(fun, np.asarray(theta0, float), jac=gradient, method="SLSQP", constraints=cons,
                            options={"maxiter": maxiter, "ftol": 1e-14})
    return ConstrainedSolution(np.asarray(res.x), float(res.fun), bool(res.success), int(res.nit),
                               str(res.message))


def augmented_vcov(information: np.ndarray, jacobian: np.ndarray, n: int) -> np.ndarray:
    """vcov = [ [I, J'], [J, 0] ]^-1 top-left block / n (unit information I)."""
    q, m = information.shape[0], jacobian.shape[0]
    if m == 0:
        return np.linalg.inv(information) / n
    z = np.block([[information, jacobian.T], [jacobian, np.zeros((m, m))]])
    inv = np.linalg.pinv(z)[:q, :q]
    return (inv + inv.T) / 2.0 / n


# ---------------------------------------------------------------------------- current single-group path
def constraint_functions(partable: pd.DataFrame, values_of: Callable[[np.ndarray], np.ndarray]):
    """h(theta) (``==``) and g(theta) >= 0 (``>``, ``<``) of the table's constraint rows, and the rows."""
    rows = partable[partable["op"].isin(["==", "<", ">"])]
    exprs = []
    for r in rows.itertuples(index=False):
        exprs.append(f"({r.rhs})-({r.lhs})" if r.op == "<" else f"({r.lhs})-({r.rhs})")
    table = partable[partable["op"] != ":="].copy()
    extra = pd.DataFrame({"lhs": [f".con{i}." for i in range(len(exprs))], "op": ":=", "rhs": exprs,
                          "label": "", "free": 0})
    defined = partable[partable["op"] == ":="]
    func = DefinedFunction(pd.concat([table[["lhs", "op", "rhs", "label", "free"]],
                                      defined[["lhs", "op", "rhs", "label", "free"]], extra],
                                     ignore_index=True))
    n_model, n_def = len(table), len(defined)
    is_eq = (rows["op"] == "==").to_numpy()

    def slack(theta: np.ndarray) -> np.ndarray:
        values = np.concatenate([values_of(theta)[:n_model], np.zeros(n_def + len(exprs))])
        return func(values)[n_def:]

    eq = (lambda t: slack(t)[is_eq]) if is_eq.any() else None
    ineq = (lambda t: slack(t)[~is_eq]) if (~is_eq).any() else None
    return eq, ineq, slack, rows


def fit_constrained(model: str, data: pd.DataFrame, partable: pd.DataFrame, parts: dict):
    """Re-estimate a prepared ML fit (``survey.sem.api.prepare_ml`` parts) under the table's constraints;
    returns a :class:`ConstrainedSEMResult`."""
    from survey.sem.estimate import Estimation, gradient_and_information, objective
    from survey.sem.vcov import Information

    ram, g = parts["ram"], parts["stats"].groups[0]
    eq, ineq, slack, rows = constraint_functions(partable, ram.parameter_values)
    start = parts["estimation"].theta if np.isfinite(parts["estimation"].fml) else parts["start"]
    sol = minimize_constrained(lambda t: objective(ram, g, t)[0],
                               lambda t: gradient_and_information(ram, g, t)[0], start, eq, ineq)
    theta = sol.theta
    s = slack(theta)
    is_eq = (rows["op"] == "==").to_numpy()
    active = is_eq | (np.abs(s) < ACTIVE)
    jac = numerical_jacobian(slack, theta)[active]
    _, h = gradient_and_information(ram, g, theta)
    info = 0.5 * h
    vcov = augmented_vcov(info, jac, g.n)
    fml = objective(ram, g, theta)[0]
    estimation = Estimation(theta, fml, sol.converged, sol.iterations, 0.0, "slsqp", sol.message)
    warnings = list(parts["warnings"])
    if not sol.converged:
        warnings.append(SurveyWarning("not_converged", f"The constrained optimiser did not converge "
                                      f"({sol.message}); the results are not trustworthy.", "sem"))
    information = Information(info, vcov, False, float(np.linalg.eigvalsh(info)[0]))
    n_eq = int(np.linalg.matrix_rank(numerical_jacobian(slack, theta)[is_eq])) if is_eq.any() else 0
    result = _constrained_result_class()(
        model=model, estimator="ML", partable=partable, ram=ram, stats=parts["stats"], estimation=estimation,
        information=information, warnings=warnings, start=parts["start"], n_equality=n_eq)
    k = result.partable.index[result.partable["op"].isin(["==", "<", ">"])]
    result.partable.loc[k, "est"] = s  # lavaan reports each constraint's slack (lhs - rhs)
    result.partable.loc[k, "se"] = 0.0
    return result


@lru_cache(maxsize=1)
def _constrained_result_class():
    from survey.sem.result import SEMResult

    class _ConstrainedSEMResult(SEMResult):
        """An ML result estimated under explicit constraints: df + number of equality constraints, npar -
        number of equality constraints (lavaan's fitMeasures)."""

        def __init__(self, *args, n_equality: int = 0, **kwargs) -> None:
            self.n_equality = n_equality
            super().__init__(*args, **kwargs)

        @cached_property
        def _fit(self) -> dict[str, float]:
            from survey.sem.fitmeasures import fit_measures as compute
            from survey.sem.test import n_moments

            ram, g = self.ram, self.group_stats
            x_index = [ram.ov.index(v) for v in ram.names.ov_x]
            df = n_moments(ram.p, len(x_index), ram.meanstructure) - ram.npar + self.n_equality
            imp = ram.implied(self.theta)
            npar = ram.npar - self.n_equality  # lavaan's fitMeasures npar (AIC/BIC) nets out equalities
            return compute(stats=g, sigma=imp.sigma, mean=imp.mean, fml=self.estimation.fml, npar=npar,
                           df=df, x_index=x_index, meanstructure=ram.meanstructure)

    return _ConstrainedSEMResult


def __getattr__(name: str):
    if name == "ConstrainedSEMResult":  # built lazily: survey.sem.result imports much of the engine
        return _constrained_result_class()
    raise AttributeError(name)
