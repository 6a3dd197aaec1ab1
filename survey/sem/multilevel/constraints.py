"""Explicit constraints in a two-level model (lavaan ``a == b^2``, ``b < 0.6``, ``a + b > 1`` with
``level:`` blocks; labels shared by two rows, and ``a == b`` between two labels, are one parameter already,
as lavaan's ``ceq.simple``): the two-level -2 logl minimised under them by SQP
(:func:`survey.sem.constrained.minimize_constrained`, as lavaan's ``nlminb.constr`` reaches the same KKT
point), and lavaan's inference there (``lav_model_vcov``, ``lav_model_information_augment_invert``):
every inverse information is the top-left block of [[A, J'], [J, 0]]^-1, J the Jacobian of the equality
and the active inequality constraints (slack < 1e-6); the model gains one df and loses one parameter per
equality constraint (the rank of their Jacobian), AIC/BIC with that npar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.sem.constrained import ACTIVE, constraint_functions, minimize_constrained
from survey.sem.multilevel.estimate import TwoLevelEstimate, numeric_hessian
from survey.sem.multilevel.loglik import TwoLevel
from survey.sem.standardize import numerical_jacobian

CONSTRAINT_OPS = ("==", "<", ">")


@dataclass
class Constrained:
    jacobian: np.ndarray  # equality and active inequality constraints (rows) x free parameters
    n_equality: int  # rank of the equality constraints' Jacobian
    slack: np.ndarray  # lhs - rhs of every constraint row at the estimate


def has_constraints(pt: pd.DataFrame) -> bool:
    return bool(pt["op"].isin(list(CONSTRAINT_OPS)).any())


def _values_function(pt: pd.DataFrame, tl: TwoLevel):
    """theta -> the values of the rows of ``pt`` without ``:=`` (model rows at their values, 0 for the
    constraint rows), the layout :func:`survey.sem.constrained.constraint_functions` reads."""
    table = pt[pt["op"] != ":="].reset_index(drop=True)
    model = ((table["block"] > 0) & ~table["op"].isin(list(CONSTRAINT_OPS))).to_numpy()
    rows = [np.flatnonzero(model & (table["block"].to_numpy() == g + 1)) for g in range(len(tl.mg.models))]

    def values_of(theta: np.ndarray) -> np.ndarray:
        full = tl.mg.k @ theta
        out = np.zeros(len(table))
        for g, mod in enumerate(tl.mg.models):
            out[rows[g]] = mod.parameter_values(tl.mg.local(full, g))
        return out

    return values_of


def estimate_constrained(tl: TwoLevel, pt: pd.DataFrame, h0: TwoLevelEstimate) -> tuple[TwoLevelEstimate,
                                                                                         Constrained]:
    """Minimise -2 logl / N under the table's constraints from the unconstrained estimate ``h0``."""
    n = tl.st.n
    eq, ineq, slack, rows = constraint_functions(pt, _values_function(pt, tl))
    sol = minimize_constrained(lambda t: tl.minus2_logl(t) / n, lambda t: tl.gradient(t) / n, h0.theta, eq,
                               ineq)
    theta = sol.theta
    s = slack(theta)
    is_eq = (rows["op"] == "==").to_numpy()
    active = is_eq | (np.abs(s) < ACTIVE)
    jac = numerical_jacobian(slack, theta)
    n_eq = int(np.linalg.matrix_rank(jac[is_eq])) if is_eq.any() else 0
    feasible = bool(np.all(np.abs(s[is_eq]) < 1e-6) and np.all(s[~is_eq] > -1e-6))
    hess = numeric_hessian(tl.gradient, theta)
    est = TwoLevelEstimate(theta, float(tl.minus2_logl(theta)), bool(sol.converged and feasible),
                           h0.iterations + sol.iterations, 0.5 * hess)
    return est, Constrained(jac[active], n_eq, s)
