"""lavaan's ``lavTestLRT()``, ``lavTestScore()`` and ``lavTestWald()`` over fitted results.

* :func:`lrt_table` / :func:`lav_test_lrt`: nested models ordered by df; chi-square differences of
  consecutive models, ``T0 - T1`` on ``df0 - df1`` (ML), or the Satorra-Bentler (2001) scaled difference
  ``(T0 - T1) / cd``, ``cd = (df0 c0 - df1 c1) / (df0 - df1)`` with c the scaling factors (MLR, MLM;
  lavaan's default ``method = "satorra.bentler.2001"``).
* :func:`score_test` / :func:`lav_test_score`: score (Lagrange multiplier) tests of the model's equality
  constraints R theta = 0 in the unconstrained parameters theta (one per free row): with s the gradient of
  lavaan's fmin = F_ML/2 and I the unit expected information at the constrained estimate,
  the total test (every constraint released) N s' I^-1 s on rank(R) df, the univariate test of constraint
  r with the others kept, N s' [Z_r^+]_11 s with Z_r = [[I, R_-r'], [R_-r, 0]], and the expected
  parameter change -I^-1 s of releasing them all (Satorra 1989,
  Psychometrika 54; lavaan's ``lavTestScore``, ``MASS::ginv`` as Z^+).
* :func:`lav_test_wald`: Wald test of (linear or nonlinear) equality constraints on labels and ``:=``
  parameters, W = h'(J V J')^-1 h (delta method).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.inference.tests import check_sb2001_difference
from survey.sem.results.difference import difference_method, scaled_test_of  # noqa: F401  (re-exported)
from survey.sem.score import ScoreTest, score_test  # noqa: F401  (re-exported: their old home)


def lrt_table(models: list[dict[str, float]], names: list[str] | None = None,
              diffs: dict[int, tuple[float, float]] | None = None, method: str | None = None) -> pd.DataFrame:
    """The lavTestLRT table from each model's ``df, chisq, aic, bic`` (``chisq.scaling.factor`` for the
    scaled difference, ``ntotal``/``ngroups`` for the RMSEA of the difference, sqrt(G max(0, (dT/ddf - 1)/N)),
    lavaan 0.6.14). Rows sorted by df as lavaan; columns Df AIC BIC Chisq "Chisq diff" RMSEA "Df diff"
    "Pr(>Chisq)". ``diffs`` (with ``method``, e.g. "satorra.2000"): the difference (statistic, df) of the
    model at each sorted position against the one before, computed elsewhere."""
    if len(models) < 2:
        raise SurveyInputError("lavTestLRT needs at least two models", field="models")
    names = names or [f"m{i}" for i in range(len(models))]
    order = sorted(range(len(models)), key=lambda i: (models[i]["df"], i))
    scaled = diffs is not None or all("chisq.scaling.factor" in m for m in models)
    rows = []
    for pos, i in enumerate(order):
        m = models[i]
        row = {"Df": m["df"], "AIC": m.get("aic", np.nan), "BIC": m.get("bic", np.nan), "Chisq": m["chisq"],
               "Chisq diff": np.nan, "RMSEA": np.nan, "Df diff": np.nan, "Pr(>Chisq)": np.nan}
        if pos:
            prev = models[order[pos - 1]]
            ddf = m["df"] - prev["df"]
            diff = m["chisq"] - prev["chisq"]
            if diffs is not None:
                diff, ddf = diffs[pos]
            elif scaled and ddf > 0:
                c_prev = 1.0 if prev["df"] == 0 else prev["chisq.scaling.factor"]  # lavaan: saturated c = 1
                cd = (m["df"] * m["chisq.scaling.factor"] - prev["df"] * c_prev) / ddf
                diff = diff / cd
            n, groups = m.get("ntotal", np.nan), m.get("ngroups", 1)
            rmsea = np.sqrt(max(0.0, (diff / ddf - 1) / n)) * np.sqrt(groups) if ddf > 0 else np.nan
            row.update({"Chisq diff": diff, "RMSEA": rmsea, "Df diff": ddf,
                        "Pr(>Chisq)": float(sps.chi2.sf(diff, ddf)) if ddf > 0 else np.nan})
        rows.append(row)
    out = pd.DataFrame(rows, index=[names[i] for i in order])
    if scaled:  # lavaan 0.6.14 prints no RMSEA column for the scaled difference
        out = out.drop(columns="RMSEA")
    out.attrs["method"] = method or ("satorra.bentler.2001" if scaled else "standard")
    return out


def lav_test_lrt(*results: Any, names: list[str] | None = None) -> pd.DataFrame:
    """``lavTestLRT(fit1, fit2, ...)`` of fitted results (their ``fit_measures()``): the standard
    difference (ML, GLS, ULS, DWLS, WLS), Satorra-Bentler (2001) (MLM, MLR, ULSM, WLSM) or Satorra (2000)
    (MLMV, MLMVS, WLSMV, ULSMV, ...; :mod:`survey.sem.results.difference`) as lavaan's default. The
    least-squares estimators have no AIC / BIC (NA, as lavaan)."""
    check_sb2001_difference(*results)
    method = difference_method(list(results))
    keys = ("df", "chisq", "aic", "bic", "chisq.scaling.factor", "ntotal")
    models = []
    for r in results:
        m = {k: v for k, v in r.fit_measures().items() if k in keys}
        if method == "standard":
            m.pop("chisq.scaling.factor", None)
        nobs = getattr(r, "nobs", np.nan)  # a list per group for the ordinal multi-group fits
        m.setdefault("ntotal", float(np.sum(nobs)))
        m["ngroups"] = len(getattr(r, "group_labels", None) or [1])
        models.append(m)
    diffs = None
    if method == "satorra.2000":
        from survey.sem.results.difference import satorra_2000
        from survey.sem.results.ls_browne import equality_null_space

        order = sorted(range(len(results)), key=lambda i: (models[i]["df"], i))
        diffs = {}
        for pos in range(1, len(order)):
            free, restricted = results[order[pos - 1]], results[order[pos]]
            if getattr(free, "parts", None) is not None and getattr(restricted, "parts", None) is not None:
                from survey.sem.ordinal.difftest import satorra_2000 as ordinal_2000  # ordered items

                d = ordinal_2000(free, restricted)
            else:
                d = satorra_2000(free, restricted, equality_null_space)
            diffs[pos] = (d.stat, d.df)
    return lrt_table(models, names, diffs=diffs, method=method)


def lav_test_score(result: Any) -> ScoreTest:
    """``lavTestScore(fit)`` of a single-group result: its equality constraints (shared labels, as
    lavaan's ``.pX. == .pY.`` rows) released one at a time and all together."""
    from survey.sem.estimate import gradient_and_information
    from survey.sem.model import RAMModel
    from survey.sem.syntax import variable_names
    from survey.sem.syntax.checks import ram_table

    if hasattr(result, "lav_test_score"):  # a fit with its own (a two-level fit: survey.sem.multilevel)
        return result.lav_test_score()
    mg = getattr(result, "mg", None)
    if mg is not None and (not getattr(result, "single", True) or (mg.partable["op"] == "==").any()):
        from survey.sem.score import constraint_score_test  # groups, explicit (nonlinear) constraints

        if not (mg.partable["op"] == "==").any() and mg.k.shape[0] == mg.k.shape[1]:
            raise SurveyInputError("the model has no equality constraints to test", field="model")
        return constraint_score_test(result)[0]
    pt = result.partable.reset_index(drop=True)
    model = pt[pt["op"].isin(["=~", "<~", "~", "~~", "~1"])].copy()
    free = model["free"].to_numpy()
    rows = np.flatnonzero(free > 0)
    if len(set(free[rows])) == len(rows):
        raise SurveyInputError("the model has no equality constraints to test", field="model")
    full = model.copy()
    full.loc[full.index[rows], "free"] = np.arange(1, len(rows) + 1)
    ram = RAMModel(ram_table(full), names=variable_names(pt))
    ram.set_exogenous(result.group_stats.cov, result.group_stats.mean)
    theta = result.theta[free[rows] - 1]
    cons, first = [], {}
    for j, k in enumerate(rows):
        if free[k] in first:
            cons.append((first[free[k]], j))
        else:
            first[free[k]] = j
    r = np.zeros((len(cons), len(rows)))
    for c, (a, b) in enumerate(cons):
        r[c, a], r[c, b] = 1.0, -1.0
    g, h = gradient_and_information(ram, result.group_stats, theta)
    out = score_test(g / 2.0, h / 2.0, r, result.group_stats.n)
    plabel = list(pt["plabel"]) if "plabel" in pt else [f".p{i + 1}." for i in range(len(pt))]
    out.uni.insert(0, "lhs", [plabel[rows[a]] for a, _ in cons])
    out.uni.insert(1, "op", "==")
    out.uni.insert(2, "rhs", [plabel[rows[b]] for _, b in cons])
    return out


@dataclass
class WaldTest:
    """lavTestWald: statistic, df (rank of the constraint Jacobian) and p-value."""

    stat: float
    df: int
    pvalue: float


def lav_test_wald(result: Any, constraints: str | list[str]) -> WaldTest:
    """``lavTestWald(fit, constraints)``: equality constraints ``h(theta) = 0`` on labels and ``:=``
    parameters, linear or not: W = h' (J V J')^-1 h, J = dh/dtheta (the delta method; for linear
    constraints the usual (R theta - r)'(R V R')^-1 (R theta - r))."""
    from survey.sem.constrained import constraint_functions
    from survey.sem.standardize import numerical_jacobian
    from survey.sem.syntax.parse import parse_syntax

    text = constraints if isinstance(constraints, str) else "\n".join(constraints)
    rows = [f for f in parse_syntax(text)] if text.strip() else []
    if not rows or any(f.op != "==" for f in rows):
        raise SurveyInputError("lavTestWald needs equality constraints 'lhs == rhs'", value=text,
                               field="constraints")
    pt = result.partable
    cons = pd.DataFrame({"lhs": [f.lhs for f in rows], "op": "==", "rhs": [f.rhs for f in rows], "label": "",
                         "free": 0})
    table = pd.concat([pt[pt["op"] != "=="][["lhs", "op", "rhs", "label", "free"]], cons], ignore_index=True)
    known = set(pt["label"]) | set(pt.loc[pt["op"] == ":=", "lhs"])
    for f in rows:
        for side in (f.lhs, f.rhs):
            for name in _names(side):
                if name not in known:
                    raise SurveyInputError("unknown label in constraint", value=name, field="constraints")
    # a two-level fit gives the rows of both levels (row_values); a single-group fit its RAM model's
    if hasattr(result, "mg") and not getattr(result, "single", True):  # groups: every block's rows
        from survey.sem.results.values import values_at

        model_rows = ~result.mg.partable["op"].isin(["==", "<", ">", ":="]).to_numpy()

        def values_of(theta: np.ndarray) -> np.ndarray:
            return values_at(result.mg, theta)[model_rows]

        vcov = result._vcov
    else:
        values_of = result.row_values if hasattr(result, "row_values") else result.ram.parameter_values
        vcov = result._vcov_free
    eq, _, _, _ = constraint_functions(table, values_of)
    h = eq(result.theta)
    jac = numerical_jacobian(eq, result.theta)
    middle = jac @ vcov @ jac.T
    df = int(np.linalg.matrix_rank(jac))
    stat = float(h @ np.linalg.pinv(middle) @ h)
    return WaldTest(stat, df, float(sps.chi2.sf(stat, df)))


def _names(expr: str) -> list[str]:
    import re

    found = re.findall(r"(?<![\w.])[A-Za-z_.][A-Za-z0-9_.]*", expr)
    return [n for n in found if n not in ("exp", "log", "sqrt", "abs")]
