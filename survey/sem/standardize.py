"""Standardized solutions (lavaan ``standardizedSolution()``, types ``std.lv`` and ``std.all``).

With sd_v the model-implied SD of variable v (sd = 1 for observed variables under std.lv) and
psi_v the variance parameter of v (a residual variance for dependent variables):

    f =~ x :  lambda sd_f / sd_x          y ~ x :  b sd_x / sd_y
    v ~~ v :  psi_v / sd_v^2              a ~~ b :  psi_ab / sqrt(|psi_a psi_b|)   (correlation of residuals)
    := rows: the definition evaluated at the standardized parameters (lavaan's convention)

Standard errors by the delta method, se = sqrt(diag(J V J')), J the Jacobian of the standardized
values with respect to the free parameters (central differences; lavaan uses the same formula with
its own numerical derivatives).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.defined import evaluate_defined
from survey.sem.model import RAMModel


def standardize(model: RAMModel, theta: np.ndarray, kind: str = "std.all", rows: pd.DataFrame | None = None,
                values: np.ndarray | None = None) -> np.ndarray:
    """Standardized value of every parameter-table row (``kind`` = "std.lv" or "std.all").

    ``rows``/``values`` standardize other rows (e.g. expected parameter changes) with the SDs and
    residual variances of the model at ``theta``.
    """
    pt = model.partable
    own = model.parameter_values(theta)
    imp = model.implied(theta)
    var_all = np.real(np.diag(imp.sigma_all)).astype(float)
    var_all[var_all <= 0] = np.nan
    sd = np.sqrt(var_all)
    lv = set(model.lv)
    if kind == "std.lv":
        sd = np.array([sd[i] if v in lv else 1.0 for i, v in enumerate(model.variables)])
    elif kind != "std.all":
        raise ValueError(f"unknown standardization {kind!r}")
    index = model.index
    resid_var: dict[str, float] = {}
    for row, val in zip(pt.itertuples(index=False), own, strict=True):
        if row.op == "~~" and row.lhs == row.rhs:
            resid_var[row.lhs] = float(np.real(val))
    table = pt if rows is None else rows
    vals = own if values is None else values
    out = np.full(len(table), np.nan)
    for k, row in enumerate(table.itertuples(index=False)):
        val = vals[k]
        if row.op == "=~":
            out[k] = val * sd[index[row.lhs]] / sd[index[row.rhs]]
        elif row.op == "~":
            out[k] = val * sd[index[row.rhs]] / sd[index[row.lhs]]
        elif row.op == "~~":
            i, j = index[row.lhs], index[row.rhs]
            if i == j:
                out[k] = val / sd[i] ** 2
            else:
                scale_lhs = np.sqrt(abs(resid_var.get(row.lhs, np.nan))) if (row.lhs in lv or kind == "std.all") \
                    else 1.0
                scale_rhs = np.sqrt(abs(resid_var.get(row.rhs, np.nan))) if (row.rhs in lv or kind == "std.all") \
                    else 1.0
                out[k] = val / (scale_lhs * scale_rhs)
        elif row.op == "~1":
            out[k] = val / sd[index[row.lhs]]
    if rows is None:
        defined = (pt["op"] == ":=").to_numpy()
        if defined.any():
            out[defined] = evaluate_defined(pt, out)
    return out


def numerical_jacobian(fun, theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a vector function (rows: outputs, columns: parameters)."""
    theta = np.asarray(theta, dtype=float)
    f0 = np.asarray(fun(theta))
    jac = np.empty((f0.size, theta.size))
    for k in range(theta.size):
        h = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros_like(theta)
        e[k] = h
        jac[:, k] = (np.asarray(fun(theta + e)) - np.asarray(fun(theta - e))) / (2 * h)
    return jac


def standardized_solution(model: RAMModel, theta: np.ndarray, vcov: np.ndarray, kind: str = "std.all",
                          level: float = 0.95) -> pd.DataFrame:
    """lavaan's ``standardizedSolution(type=kind)``: lhs op rhs label est.std se z pvalue ci.lower ci.upper."""
    from scipy import stats as sps

    pt = model.partable
    est = standardize(model, theta, kind)
    jac = numerical_jacobian(lambda t: standardize(model, t, kind), theta)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    exo = (pt["exo"] == 1).to_numpy()
    se[exo] = 0.0
    se[np.abs(se) < 1e-12] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    pvalue = 2 * sps.norm.sf(np.abs(z))
    crit = sps.norm.ppf(1 - (1 - level) / 2)
    return pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "label": pt["label"], "est.std": est,
                         "se": se, "z": z, "pvalue": pvalue, "ci.lower": est - crit * se,
                         "ci.upper": est + crit * se})
