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

from survey.sem.model import RAMModel
from survey.sem.syntax.defined import evaluate_defined


def _plan(model: RAMModel, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row kinds (0 =~, 1 ~, 2 variance, 3 covariance, 4 ~1, -1 other) and lhs/rhs variable indices."""
    index = model.index
    kinds, li, ri = [], [], []
    for op, a, b in zip(table["op"], table["lhs"], table["rhs"], strict=True):
        code = {"=~": 0, "~": 1, "~1": 4}.get(op, -1)
        if op == "~~":
            code = 2 if a == b else 3
        kinds.append(code)
        li.append(index.get(a, 0))
        ri.append(index.get(b, 0) if code != 4 else 0)
    return np.array(kinds), np.array(li, dtype=int), np.array(ri, dtype=int)


def standardize(
    model: RAMModel,
    theta: np.ndarray,
    kind: str = "std.all",
    rows: pd.DataFrame | None = None,
    values: np.ndarray | None = None,
) -> np.ndarray:
    """Standardized value of every parameter-table row (``kind`` = "std.lv" or "std.all").

    ``rows``/``values`` standardize other rows (e.g. expected parameter changes) with the SDs and
    residual variances of the model at ``theta``.
    """
    if kind not in ("std.lv", "std.all"):
        raise ValueError(f"unknown standardization {kind!r}")
    pt = model.partable
    own = np.real(model.parameter_values(theta)).astype(float)
    imp = model.implied(theta)
    var_all = np.real(np.diag(imp.sigma_all)).astype(float)
    var_all[var_all < 0] = np.nan  # a variance fixed at 0 standardizes its loadings to 0, as lavaan
    sd = np.sqrt(var_all)
    is_lv = np.array([v in set(model.lv) for v in model.variables])
    if kind == "std.lv":
        sd = np.where(is_lv, sd, 1.0)
    if getattr(model, "_std_plan", None) is None:
        model._std_plan = _plan(model, pt)
    own_kind, own_l, _ = model._std_plan
    resid = np.full(model.nvar, np.nan)
    var_rows = own_kind == 2
    resid[own_l[var_rows]] = own[var_rows]
    scale = np.sqrt(np.abs(resid))
    if kind == "std.lv":
        scale = np.where(is_lv, scale, 1.0)
    kinds, li, ri = model._std_plan if rows is None else _plan(model, rows)
    vals = own if values is None else np.asarray(values, dtype=float)
    out = np.full(len(kinds), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = kinds == 0
        out[m] = vals[m] * sd[li[m]] / sd[ri[m]]
        m = kinds == 1
        out[m] = vals[m] * sd[ri[m]] / sd[li[m]]
        m = kinds == 2
        out[m] = vals[m] / sd[li[m]] ** 2
        m = kinds == 3
        out[m] = vals[m] / (scale[li[m]] * scale[ri[m]])
        m = kinds == 4
        out[m] = vals[m] / sd[li[m]]
    out[~np.isfinite(out)] = np.nan  # x / 0 (a mean of a zero-variance latent): lavaan's NaN
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


def standardized_solution(
    model: RAMModel, theta: np.ndarray, vcov: np.ndarray, kind: str = "std.all", level: float = 0.95
) -> pd.DataFrame:
    """lavaan's ``standardizedSolution(type=kind)``: lhs op rhs label est.std se z pvalue ci.lower/upper."""
    from survey import distributions as sps

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
    return pd.DataFrame(
        {
            "lhs": pt["lhs"],
            "op": pt["op"],
            "rhs": pt["rhs"],
            "label": pt["label"],
            "est.std": est,
            "se": se,
            "z": z,
            "pvalue": pvalue,
            "ci.lower": est - crit * se,
            "ci.upper": est + crit * se,
        }
    )
