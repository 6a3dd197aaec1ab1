"""lavaan's ``std.nox`` standardization: as ``std.all`` but exogenous covariates keep their metric.

lavaan 0.6 ``lav_standardize_all_nox``: a regression on an observed covariate x (``ov.x``) is scaled by
1/sd(y) only (not by sd(x)); the covariates' own variances, covariances and intercepts stay raw; every
other row equals ``std.all``. Useful for binary covariates (a unit change in x is meaningful).
Standard errors by the delta method (central differences), as :mod:`survey.sem.standardize`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.sem.standardize import numerical_jacobian, standardize
from survey.sem.syntax.defined import evaluate_defined


def nox_adjust(rows: pd.DataFrame, raw: np.ndarray, std_all: np.ndarray, ov_x: list[str],
               sd: dict[str, float]) -> np.ndarray:
    """std.nox values from the raw and std.all values of the same rows (pure function).

    ``sd`` holds the model-implied SD of every covariate in ``ov_x``."""
    out = np.asarray(std_all, dtype=float).copy()
    x = set(ov_x)
    for k, (lhs, op, rhs) in enumerate(zip(rows["lhs"], rows["op"], rows["rhs"], strict=True)):
        if op in ("~", "<~") and rhs in x:
            out[k] = std_all[k] / sd[rhs]
        elif (op == "~~" and lhs in x and rhs in x) or (op == "~1" and lhs in x):
            out[k] = raw[k]
    return out


def _covariate_sd(model, theta) -> dict[str, float]:
    imp = model.implied(theta)
    return {v: float(np.sqrt(imp.sigma_all[model.index[v], model.index[v]])) for v in model.names.ov_x}


def std_nox_values(model, theta: np.ndarray) -> np.ndarray:
    """std.nox of every row of the model's table (``:=`` rows: the definitions at std.nox values)."""
    pt = model.partable
    raw = model.parameter_values(theta)
    out = nox_adjust(pt, raw, standardize(model, theta, "std.all"), list(model.names.ov_x),
                     _covariate_sd(model, theta))
    defined = (pt["op"] == ":=").to_numpy()
    if defined.any():
        out[defined] = evaluate_defined(pt, out)
    return out


def std_nox_solution(model, theta: np.ndarray, vcov: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """``standardizedSolution(type="std.nox")``: lhs op rhs label est.std se z pvalue ci.lower ci.upper."""
    pt = model.partable
    est = std_nox_values(model, theta)
    jac = numerical_jacobian(lambda t: std_nox_values(model, t), theta)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
    se[(pt["exo"] == 1).to_numpy()] = 0.0
    se[np.abs(se) < 1e-12] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    crit = sps.norm.ppf(1 - (1 - level) / 2)
    return pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "label": pt["label"],
                         "est.std": est, "se": se, "z": z, "pvalue": 2 * sps.norm.sf(np.abs(z)),
                         "ci.lower": est - crit * se, "ci.upper": est + crit * se})


def result_std_nox(result) -> pd.DataFrame:
    """Adapter for a single-group :class:`survey.sem.results.result.SEMResult` (the rows of
    ``result.estimates()``)."""
    if not getattr(result, "single", True):
        from survey.errors import SurveyInputError

        raise SurveyInputError("std.nox is available for single-group fits (fit each group separately)",
                               field="group")
    return std_nox_solution(result.ram, result.theta, result._vcov_free, result.level)
