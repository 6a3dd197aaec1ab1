"""Text summary (lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` layout) and the
``survey fit --json`` object of an ordinal fit, with lavaan's Thresholds and "Scales y*" sections."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

SECTIONS = (
    ("Latent Variables", "=~"),
    ("Regressions", "~"),
    ("Covariances", "~~cov"),
    ("Intercepts", "~1"),
    ("Thresholds", "|"),
    ("Variances", "~~var"),
    ("Scales y*", "~*~"),
    ("Defined Parameters", ":="),
)


def _clean(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def r2(estimates: pd.DataFrame, labels: list | None = None) -> dict:
    """R-square of every item's latent response and every dependent latent variable: 1 - std.all of its
    residual variance, NaN above 1 (a negative residual variance), as lavaan ``inspect(fit, "r2")``
    (``lav_inspect_rsquare``); with ``labels`` (the groups' labels, groups numbered 1..G in the table's
    ``group`` column) one mapping per group label."""
    est = estimates
    if labels is not None and "group" in est.columns and len(labels) > 1:
        return {str(lab): r2(est[est["group"] == g]) for g, lab in enumerate(labels, start=1)}
    indicators = set(est.loc[est["op"] == "=~", "rhs"])
    dependent = indicators | set(est.loc[est["op"] == "~", "lhs"])
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"]) & est["lhs"].isin(dependent)]
    out = {lhs: float(1.0 - std) for lhs, std in zip(var["lhs"], var["std.all"], strict=True)}
    return {k: (v if v <= 1.0 else math.nan) for k, v in out.items()}


def to_dict(fit) -> dict[str, Any]:
    """``{"estimator", "converged", "nobs", "warnings", "fit_measures", "estimates", "r2"}`` (DESIGN.md)."""
    table = public_estimates(fit.parameter_table)
    records = [{k: _clean(v) for k, v in row.items()} for row in table.to_dict(orient="records")]
    return {
        "estimator": fit.estimator,
        "converged": bool(fit.converged),
        "nobs": int(np.sum(fit.nobs)),
        "warnings": list(fit.warnings),
        "fit_measures": {k: _clean(v) for k, v in fit.measures.items()},
        "estimates": records,
        "r2": {k: ({g: _clean(x) for g, x in v.items()} if isinstance(v, dict) else _clean(v))
               for k, v in fit.r2().items()},
    }


def public_estimates(estimates: pd.DataFrame) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(standardized = TRUE)`` columns: ``lhs op rhs label group est se z
    pvalue ci.lower ci.upper std.lv std.all`` (95% Wald intervals, or the table's own: bootstrap percentile
    ones, :mod:`survey.sem.ordinal.bootstrap`)."""
    out = estimates.drop(columns=[c for c in ("free",) if c in estimates.columns]).copy()
    if "label" not in out.columns:
        out.insert(3, "label", "")
    if "group" not in out.columns:
        out.insert(4, "group", 1)
    wald = out["est"] - 1.959963984540054 * out["se"], out["est"] + 1.959963984540054 * out["se"]
    for col, value in zip(("ci.lower", "ci.upper"), wald, strict=True):  # bootstrap: percentile ones kept
        out[col] = out[col].fillna(value) if col in out.columns else value
    std = [c for c in ("std.lv", "std.all") if c in out.columns]
    columns = ["lhs", "op", "rhs", "label", "group", "est", "se", "z", "pvalue", "ci.lower", "ci.upper"]
    return out[columns + std]


def _num(x: float, width: int = 9) -> str:
    return " " * width if x is None or not np.isfinite(x) else f"{x:{width}.3f}"


def _rows(table: pd.DataFrame, kind: str) -> list[str]:
    if kind == "~~cov":
        part = table[(table["op"] == "~~") & (table["lhs"] != table["rhs"])]
    elif kind == "~~var":
        part = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])]
    else:
        part = table[table["op"] == kind]
    lines = []
    head = None
    dependent = set(table.loc[table["op"] == "=~", "rhs"]) | set(table.loc[table["op"] == "~", "lhs"])
    for r in part.itertuples(index=False):
        if kind in ("=~", "~", "~~cov") and r.lhs != head:
            head = r.lhs
            lines.append(f"  {r.lhs} {'~~' if kind == '~~cov' else r.op}")
            name = f"    {r.rhs}"
        elif kind in ("=~", "~", "~~cov"):
            name = f"    {r.rhs}"
        elif kind == "|":
            name = f"    {r.lhs}|{r.rhs}"
        else:
            name = f"   .{r.lhs}" if kind == "~~var" and r.lhs in dependent else f"    {r.lhs}"
        fixed = r.se == 0
        lines.append(f"{name:<20}{_num(r.est)}{_num(None if fixed else r.se)}{_num(None if fixed else r.z)}"
                     f"{_num(None if fixed else r.pvalue)}{_num(r.std_all)}")
    return lines


def _line(label: str, first: Any, second: Any = "") -> str:
    return f"  {label:<38}{first!s:>12}{second!s:>12}".rstrip()


def _df(value: float) -> str:
    """Degrees of freedom as lavaan prints them (mean.var.adjusted's are not whole numbers)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}"


def _p(value: float) -> str:
    """A p-value, or lavaan's NA (the ULS statistic has none)."""
    return f"{value:.3f}" if np.isfinite(value) else "NA"


def summary_text(fit) -> str:
    """lavaan-like summary of an :class:`~survey.sem.ordinal.fit.OrdinalFit`."""
    fm = fit.measures
    from survey.sem.ordinal.choices import ESTIMATORS

    scaled = "chisq.scaled" in fm  # a robust test (Browne's ADF alone has no .scaled measures)
    objective = ESTIMATORS.get(fit.estimator, (fit.estimator,))[0]
    lines = [
        f"survey.sem.ordinal {fit.estimator} fit ({'converged' if fit.converged else 'did NOT converge'})",
        "",
        _line("Estimator", objective),
        *([_line("Number of groups", len(fit.nobs))] if np.ndim(fit.nobs) else []),
        _line("Parameterization", fit.parameterization),
        _line("Number of model parameters", int(fm["npar"])),
        _line("Number of observations", int(np.sum(fit.nobs))),
        "",
        "Model Test User Model:",
        _line("", "Standard", "Scaled" if scaled else ""),
        _line("Test Statistic", f"{fm['chisq']:.3f}", f"{fm['chisq.scaled']:.3f}" if scaled else ""),
        _line("Degrees of freedom", int(fm["df"]), _df(fm["df.scaled"]) if scaled else ""),
        _line("P-value (Chi-square)", _p(fm["pvalue"]), _p(fm["pvalue.scaled"]) if scaled else ""),
    ]
    if scaled:
        lines.append(_line("Scaling correction factor", "", f"{fm['chisq.scaling.factor']:.3f}"))
        if np.isfinite(fit.test_list[1].shift):
            lines.append(_line("Shift parameter", "", f"{fit.test_list[1].shift:.3f}"))
    lines += ["", "Fit measures:"]
    for name in ("cfi", "tli", "cfi.robust", "tli.robust", "rmsea", "rmsea.robust", "srmr", "wrmr"):
        if name in fm:
            lines.append(_line(name, f"{fm[name]:.3f}"))
    table = fit.parameter_table.rename(columns={"std.all": "std_all"})
    lines += ["", "Parameter Estimates:", "", f"{'':<20}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}"
              f"{'P(>|z|)':>9}{'Std.all':>9}"]
    blocks = [(None, table)] if "group" not in table.columns else list(table.groupby("group", sort=True))
    blocks = [b for b in blocks if b[0] != 0] + [b for b in blocks if b[0] == 0]  # lavaan: := rows last
    for g, part in blocks:
        if g is not None and g != 0 and len(blocks) > 1:
            label = fit.groups[int(g) - 1] if getattr(fit, "groups", None) else g
            lines += ["", f"Group {g} [{label}]:"]
        for title, kind in SECTIONS:
            body = _rows(part, kind)
            if body:
                lines += ["", f"{title}:"] + body
    if fit.warnings:
        lines += ["", "Warnings:"] + [f"  {w}" for w in fit.warnings]
    return "\n".join(lines)
