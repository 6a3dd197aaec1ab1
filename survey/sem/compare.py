"""Equality tests of structural paths: which driver of follow intention is strongest?

Pure functions on a vector of estimates and its covariance matrix (pandas in, pandas out), so they
work on any fitted model (``SEMResult.estimates()`` / ``SEMResult.vcov()``, lavaan output read from
disk, bootstrap summaries):

* :func:`wald_test` -- Wald test of linear constraints ``R theta = r`` written as lavaan constraint
  strings (``"b_SHI == b_SKL"``), as lavaan's ``lavTestWald()``.
* :func:`pairwise_path_differences` -- every pairwise difference of paths with its delta-method
  standard error, z test and Holm (1979) adjusted p value; for standardized paths pass their
  covariance matrix or the Jacobian of the standardization (:func:`standardized_vcov`).
* :func:`omnibus_equal_paths` -- Wald test that all paths are equal (k - 1 constraints).
* :func:`equal_paths_model` / :func:`lr_equal_paths` -- the likelihood-ratio version: the same model
  refitted with the paths sharing one label, chi-square difference (Satorra-Bentler 2001 scaled
  difference when the fits carry a scaling factor, :func:`scaled_chisq_difference`).
* :func:`compare_paths` / :func:`compare_fitted_paths` -- all of it for one outcome
  (:class:`PathComparison`); :func:`path_comparison` -- its ``"path_comparison"`` JSON block of
  ``survey fit --compare-paths --json``.

Scale note: an unstandardized path of a latent driver is in units of that driver's metric, which the
marker indicator (first loading fixed to 1) sets. Equality of unstandardized paths is therefore a
meaningful hypothesis only when the drivers share a metric, e.g. with latent variances fixed to 1
(``SHI =~ NA*SHI1 + ...`` and ``SHI ~~ 1*SHI``, lavaan's ``std.lv = TRUE``); otherwise compare the
standardized paths (``std_est``/``std_vcov``), which :func:`compare_paths` then uses for the
supported orderings.

References
----------
Wald, A. (1943). Tests of statistical hypotheses concerning several parameters when the number of
observations is large. *Transactions of the American Mathematical Society, 54*, 426-482.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of
Statistics, 6*, 65-70.
Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for moment
structure analysis. *Psychometrika, 66*, 507-514.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of Statistical
Software, 48*(2), 1-36 (``lavTestWald``, ``lavTestLRT``).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning

__all__ = [
    "LRTResult",
    "PathComparison",
    "compare_fitted_paths",
    "compare_paths",
    "WaldResult",
    "constraint_matrix",
    "equal_paths_model",
    "free_parameters",
    "holm",
    "lr_equal_paths",
    "omnibus_equal_paths",
    "pairwise_path_differences",
    "path_comparison",
    "path_names",
    "scaled_chisq_difference",
    "standardized_vcov",
    "wald_test",
]

_STAGE = "sem"
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
# a parameter: its label, or lavaan's name of an unlabelled one ("FOL~SHI", "F=~x2", "x1~~x2", "x1~1")
_PARAM = rf"{_NAME}(?:(?:=~|~~|~){_NAME}|~1)?"
_TOKEN = re.compile(rf"\s*(?:(?P<num>{_NUMBER})|(?P<name>{_PARAM})|(?P<op>[-+*/]))")


# ----------------------------------------------------------------------------------------------------
# helpers: aligning estimates and covariance matrices
# ----------------------------------------------------------------------------------------------------
def _as_series(est: pd.Series | dict[str, float], what: str = "est") -> pd.Series:
    s = pd.Series(est, dtype=float) if not isinstance(est, pd.Series) else est.astype(float)
    if s.index.has_duplicates:
        dup = s.index[s.index.duplicated()][0]
        raise SurveyInputError(f"{what} has duplicated parameter names", value=str(dup), field=what)
    return s


def _finite(values: pd.Series, what: str = "est") -> np.ndarray:
    x = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(x)):
        raise SurveyInputError(
            f"{what} is not finite", value=str(values.index[~np.isfinite(x)][0]), field=what
        )
    return x


def _aligned_vcov(vcov: pd.DataFrame, names: Sequence[str], what: str = "vcov") -> np.ndarray:
    """Covariance sub-matrix for ``names`` (in that order), checked for symmetry and finiteness."""
    if not isinstance(vcov, pd.DataFrame):
        raise SurveyInputError(f"{what} must be a pandas DataFrame with parameter names", field=what)
    names = list(names)
    missing = [n for n in names if n not in vcov.index or n not in vcov.columns]
    if missing:
        raise SurveyInputError(f"parameter not found in {what}", value=str(missing[0]), field=what)
    v = vcov.loc[names, names].to_numpy(dtype=float)
    if not np.all(np.isfinite(v)):
        raise SurveyInputError(f"{what} holds non-finite values", field=what)
    scale = max(1.0, float(np.max(np.abs(v))))
    if not np.allclose(v, v.T, atol=1e-10 * scale, rtol=0.0):
        raise SurveyInputError(f"{what} is not symmetric", field=what)
    return (v + v.T) / 2.0


def standardized_vcov(vcov: pd.DataFrame, jacobian: pd.DataFrame) -> pd.DataFrame:
    """Delta-method covariance of transformed (e.g. standardized) parameters.

    ``V_std = J V J'`` where ``J[i, j] = d std_i / d theta_j`` (rows: standardized parameters, columns:
    free parameters named as ``vcov``). This is how lavaan obtains ``lavInspect(fit, "vcov.std.all")``
    and the standard errors of ``standardizedSolution()`` (delta method; Rao 1973, 6a.2).
    """
    if not isinstance(jacobian, pd.DataFrame):
        raise SurveyInputError(
            "jacobian must be a DataFrame (rows: transformed, columns: free parameters)", field="jacobian"
        )
    cols = list(jacobian.columns)
    v = _aligned_vcov(vcov, cols)
    j = jacobian.to_numpy(dtype=float)
    out = j @ v @ j.T
    return pd.DataFrame((out + out.T) / 2.0, index=jacobian.index, columns=jacobian.index)


def path_names(estimates: pd.DataFrame, outcome: str, predictors: Iterable[str] | None = None) -> pd.Series:
    """Parameter names of the regressions ``outcome ~ predictor`` in a lavaan-style estimates table.

    lavaan names a free parameter by its label, else ``lhs op rhs`` without spaces (``"FOL~SHI"``);
    the names index ``vcov()``. Returns a Series predictor -> parameter name, in model order (or in
    the order of ``predictors``).
    """
    need = {"lhs", "op", "rhs"}
    if not need.issubset(estimates.columns):
        raise SurveyInputError("estimates need columns lhs, op, rhs", field="estimates")
    rows = estimates[(estimates["op"] == "~") & (estimates["lhs"] == outcome)]
    if "group" in rows.columns and rows["group"].nunique() > 1:
        raise SurveyInputError(
            "path comparison of a multi-group model needs one group's estimates", field="group"
        )
    rows = rows.drop_duplicates("rhs")
    if rows.empty:
        raise SurveyInputError(
            "no regression paths for this outcome in the model", value=outcome, field="outcome"
        )
    labels = rows["label"] if "label" in rows.columns else pd.Series("", index=rows.index)
    names = [
        lab if isinstance(lab, str) and lab.strip() else f"{outcome}~{rhs}"
        for lab, rhs in zip(labels.fillna(""), rows["rhs"], strict=True)
    ]
    out = pd.Series(names, index=list(rows["rhs"]), name="parameter")
    out.index.name = "predictor"
    if predictors is not None:
        predictors = list(predictors)
        missing = [p for p in predictors if p not in out.index]
        if missing:
            raise SurveyInputError(
                f"no path {outcome} ~ {missing[0]} in the model", value=missing[0], field="predictors"
            )
        out = out.loc[predictors]
    return out


def free_parameters(estimates: pd.DataFrame, vcov: pd.DataFrame, column: str = "est") -> pd.Series:
    """Estimates of the free parameters, named (label or ``lhs op rhs``) and ordered as ``vcov``.

    Bridges ``SEMResult.estimates()`` (a lavaan-style table) to the name-indexed vectors used here.
    Defined parameters (``:=``) are not free and are skipped.
    """
    tab = estimates[estimates["op"] != ":="]
    labels = tab["label"].fillna("") if "label" in tab.columns else pd.Series("", index=tab.index)
    keys = [
        lab if isinstance(lab, str) and lab.strip() else f"{lhs}{op}{rhs}"
        for lab, lhs, op, rhs in zip(labels, tab["lhs"], tab["op"], tab["rhs"], strict=True)
    ]
    values = pd.Series(tab[column].to_numpy(dtype=float), index=keys)
    values = values[~values.index.duplicated()]
    missing = [n for n in vcov.index if n not in values.index]
    if missing:
        raise SurveyInputError(
            "vcov parameter not found in the estimates", value=str(missing[0]), field="vcov"
        )
    return values.loc[list(vcov.index)]


# ----------------------------------------------------------------------------------------------------
# Wald test
# ----------------------------------------------------------------------------------------------------
def _parse_side(text: str, names: Sequence[str], constraint: str) -> tuple[dict[str, float], float]:
    """Parse a linear expression ``c1*a + b - 2*c + 0.5`` into ({name: coef}, constant)."""
    pos, coefs, const = 0, {}, 0.0
    text = text.strip()
    if not text:
        raise SurveyInputError("empty side in constraint", value=constraint, field="constraints")
    sign = 1.0
    expect_term = True
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SurveyInputError("cannot parse constraint", value=constraint, field="constraints")
        pos = m.end()
        if expect_term:
            if m.group("op") in ("+", "-"):
                sign = sign * (-1.0 if m.group("op") == "-" else 1.0)
                continue
            # a term: number, name, number*name, name*number, number/number ...
            factors: list[float] = []
            name: str | None = None
            tok = m
            divide = False
            while True:
                if tok is None or tok.group("op") is not None:
                    raise SurveyInputError("cannot parse constraint", value=constraint, field="constraints")
                if tok.group("num") is not None:
                    val = float(tok.group("num"))
                    factors.append(1.0 / val if divide else val)
                else:
                    if name is not None or divide:
                        raise SurveyInputError(
                            "constraint is not linear in the parameters",
                            value=constraint,
                            field="constraints",
                        )
                    name = tok.group("name")
                    if name not in names:
                        raise SurveyInputError(
                            "unknown parameter label in constraint", value=name, field="constraints"
                        )
                nxt = _TOKEN.match(text, pos)
                if nxt and nxt.group("op") in ("*", "/"):
                    divide = nxt.group("op") == "/"
                    pos = nxt.end()
                    tok = _TOKEN.match(text, pos)
                    if tok is None:
                        raise SurveyInputError(
                            "cannot parse constraint", value=constraint, field="constraints"
                        )
                    pos = tok.end()
                    continue
                break
            coef = sign * float(np.prod(factors)) if factors else sign
            if name is None:
                const += coef
            else:
                coefs[name] = coefs.get(name, 0.0) + coef
            sign = 1.0
            expect_term = False
        else:
            if m.group("op") not in ("+", "-"):
                raise SurveyInputError("cannot parse constraint", value=constraint, field="constraints")
            sign = -1.0 if m.group("op") == "-" else 1.0
            expect_term = True
    if expect_term:
        raise SurveyInputError("constraint ends with an operator", value=constraint, field="constraints")
    return coefs, const


def _split_constraints(constraints: str | Sequence[str]) -> list[str]:
    items = [constraints] if isinstance(constraints, str) else list(constraints)
    out: list[str] = []
    for item in items:
        for part in re.split(r"[\n;]", str(item)):
            part = part.split("#", 1)[0].strip()
            if part:
                out.append(part)
    if not out:
        raise SurveyInputError("no constraints given", field="constraints")
    return out


def constraint_matrix(
    constraints: str | Sequence[str], names: Sequence[str]
) -> tuple[pd.DataFrame, pd.Series]:
    """Turn linear equality constraints into ``(R, r)`` with ``R theta = r``.

    Each constraint is ``expression == expression`` in the parameter labels, e.g. ``"b_SHI == b_SKL"``,
    ``"b_SHI - b_SKL == 0"``, ``"2*b_SHI - b_PEER == 0.3"``; several constraints are given as a list or
    separated by newlines or ``;`` (lavaan syntax). Every term moves to the left: row
    ``R_i = coef(lhs) - coef(rhs)``, ``r_i = const(rhs) - const(lhs)``.
    """
    names = list(names)
    rows, rhs, texts = [], [], []
    for con in _split_constraints(constraints):
        if con.count("==") != 1:
            raise SurveyInputError(
                "a constraint must contain exactly one '=='", value=con, field="constraints"
            )
        left, right = con.split("==")
        lc, lk = _parse_side(left, names, con)
        rc, rk = _parse_side(right, names, con)
        row = np.zeros(len(names))
        for n, c in lc.items():
            row[names.index(n)] += c
        for n, c in rc.items():
            row[names.index(n)] -= c
        if not np.any(row):
            raise SurveyInputError("constraint involves no parameter", value=con, field="constraints")
        rows.append(row)
        rhs.append(rk - lk)
        texts.append(con)
    return (
        pd.DataFrame(np.vstack(rows), index=texts, columns=names),
        pd.Series(rhs, index=texts, name="r", dtype=float),
    )


@dataclass
class WaldResult:
    """Wald test of ``R theta = r``: ``stat`` ~ chi-square(``df``) under H0."""

    stat: float
    df: int
    pvalue: float
    R: pd.DataFrame
    r: pd.Series
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def constraints(self) -> list[str]:
        return [str(c) for c in self.R.index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stat": float(self.stat),
            "df": int(self.df),
            "pvalue": float(self.pvalue),
            "constraints": self.constraints,
            "warnings": [w.message for w in self.warnings],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"stat": self.stat, "df": self.df, "pvalue": self.pvalue}], index=["wald"])

    def summary(self) -> str:
        lines = ["Wald test of linear constraints"]
        lines += [f"  {c}" for c in self.constraints]
        lines.append(f"  W = {self.stat:.3f}, df = {self.df}, p = {self.pvalue:.4g}")
        lines += [f"  warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cons = "<br>".join(html.escape(c) for c in self.constraints)
        return f"<p><b>Wald test</b><br>{cons}</p>" + self.to_frame().to_html(float_format="%.4g")

    def __str__(self) -> str:
        return self.summary()


def wald_test(
    est: pd.Series,
    vcov: pd.DataFrame,
    constraints: str | Sequence[str] | pd.DataFrame | np.ndarray,
    r: Sequence[float] | pd.Series | None = None,
) -> WaldResult:
    """Wald test of linear equality constraints on labelled parameters (as lavaan's ``lavTestWald``).

    ``W = (R theta - r)' (R V R')^{-1} (R theta - r)``, asymptotically chi-square with ``df = rank(R)``
    under H0 (Wald 1943). ``theta`` = ``est`` (named parameters), ``V`` = ``vcov`` (indexed by the same
    names; only the rows/columns used are read). ``constraints`` is lavaan constraint syntax
    (``"b_SHI == b_SKL"``, several separated by newlines/``;`` or in a list) or a constraint matrix
    ``R`` (DataFrame whose columns are parameter names, or an array whose columns follow ``est``)
    with right-hand side ``r`` (default 0). A rank-deficient ``R V R'`` (redundant constraints) uses the
    Moore-Penrose inverse, ``df`` its rank, and adds a warning (lavaan stops with an error there).
    """
    theta = _as_series(est)
    names = list(theta.index)
    if isinstance(constraints, pd.DataFrame):
        unknown = [c for c in constraints.columns if c not in names]
        if unknown:
            raise SurveyInputError(
                "constraint matrix column is not a parameter", value=str(unknown[0]), field="constraints"
            )
        R = constraints.reindex(columns=names, fill_value=0.0).astype(float)
        rr = pd.Series(np.zeros(len(R)) if r is None else np.asarray(r, dtype=float), index=R.index, name="r")
    elif isinstance(constraints, np.ndarray):
        mat = np.atleast_2d(np.asarray(constraints, dtype=float))
        if mat.shape[1] != len(names):
            raise SurveyInputError(
                f"constraint matrix needs {len(names)} columns, one per parameter",
                value=mat.shape[1],
                field="constraints",
            )
        R = pd.DataFrame(mat, columns=names, index=[f"constraint {i + 1}" for i in range(mat.shape[0])])
        rr = pd.Series(np.zeros(len(R)) if r is None else np.asarray(r, dtype=float), index=R.index, name="r")
    else:
        R, rr = constraint_matrix(constraints, names)
        if r is not None:
            rr = pd.Series(np.asarray(r, dtype=float), index=R.index, name="r")
    if len(rr) != len(R):
        raise SurveyInputError("r must have one value per constraint", value=len(rr), field="r")
    used = [n for n in names if np.any(R[n].to_numpy() != 0.0)]
    v = _aligned_vcov(vcov, used)
    rmat = R[used].to_numpy()
    dev = rmat @ _finite(theta.loc[used]) - rr.to_numpy()
    info = rmat @ v @ rmat.T
    info = (info + info.T) / 2.0
    rank = int(np.linalg.matrix_rank(info, tol=1e-10 * max(1.0, float(np.max(np.abs(info))))))
    warnings: list[SurveyWarning] = []
    if rank == 0:
        raise SurveyInputError("the constraints have zero variance (R V R' = 0)", field="constraints")
    if rank < len(R):
        warnings.append(
            SurveyWarning(
                "wald_rank_deficient",
                f"R V R' has rank {rank} < {len(R)} constraints (redundant constraints); "
                "the generalized inverse is used and df = rank",
                _STAGE,
            )
        )
        stat = float(dev @ np.linalg.pinv(info, hermitian=True) @ dev)
    else:
        stat = float(dev @ np.linalg.solve(info, dev))
    return WaldResult(
        stat=stat, df=rank, pvalue=float(stats.chi2.sf(stat, rank)), R=R, r=rr, warnings=warnings
    )


def omnibus_equal_paths(est: pd.Series, vcov: pd.DataFrame, labels: Sequence[str]) -> WaldResult:
    """Wald test that all paths in ``labels`` are equal: ``k - 1`` constraints ``l1 == l2, l2 == l3, ...``.

    Any full-rank set of ``k - 1`` contrasts gives the same statistic (the hypothesis is invariant to
    the choice of contrasts), df = ``k - 1``. Equals lavaan's
    ``lavTestWald(fit, "b1 == b2; b2 == b3 ...")``.
    """
    labels = list(labels)
    if len(labels) < 2:
        raise SurveyInputError("need at least two paths to compare", value=len(labels), field="labels")
    cons = [f"{a} == {b}" for a, b in itertools.pairwise(labels)]
    theta = _as_series(est)
    missing = [lab for lab in labels if lab not in theta.index]
    if missing:
        raise SurveyInputError("path label not found in the estimates", value=missing[0], field="labels")
    return wald_test(theta.loc[labels], vcov, cons)


# ----------------------------------------------------------------------------------------------------
# pairwise differences
# ----------------------------------------------------------------------------------------------------
def holm(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Holm (1979) step-down adjusted p values (R's ``p.adjust(p, "holm")``).

    With the m p values sorted ascending, ``p~_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``;
    returned in the original order. NaN p values are ignored (kept as NaN, m counts the others).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def pairwise_path_differences(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: Sequence[str] | None = None,
    *,
    jacobian: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All pairwise differences of paths, z tests and Holm-adjusted p values.

    For paths a, b: ``diff = theta_a - theta_b``, ``se = sqrt(V_aa + V_bb - 2 V_ab)`` (delta method,
    the same as a lavaan defined parameter ``d := a - b``), ``z = diff / se``,
    ``pvalue = 2 (1 - Phi(|z|))``; ``pvalue.holm`` adjusts over the ``k (k - 1) / 2`` comparisons
    (Holm 1979). ``z^2`` equals the one-constraint Wald statistic of ``a == b``.

    Unstandardized paths: ``est``/``vcov`` of the free parameters. Standardized paths: ``est`` holds the
    standardized estimates and ``vcov`` their covariance (``lavInspect(fit, "vcov.std.all")``), or pass
    ``vcov`` of the free parameters and the Jacobian of the standardization as ``jacobian`` (rows:
    standardized parameter names, columns: free parameters); see :func:`standardized_vcov`.

    Returns columns ``a b diff se z pvalue pvalue.holm``, one row per pair in label order.
    """
    theta = _as_series(est)
    labels = list(theta.index if labels is None else labels)
    if len(labels) < 2:
        raise SurveyInputError("need at least two paths to compare", value=len(labels), field="labels")
    missing = [lab for lab in labels if lab not in theta.index]
    if missing:
        raise SurveyInputError("path label not found in the estimates", value=missing[0], field="labels")
    cov = standardized_vcov(vcov, jacobian) if jacobian is not None else vcov
    v = _aligned_vcov(cov, labels)
    x = _finite(theta.loc[labels])
    rows = []
    for i, j in itertools.combinations(range(len(labels)), 2):
        d = x[i] - x[j]
        var = v[i, i] + v[j, j] - 2.0 * v[i, j]
        se = float(np.sqrt(var)) if var > 0 else float("nan")
        z = d / se if se > 0 else float("nan")
        p = float(2.0 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")
        rows.append({"a": labels[i], "b": labels[j], "diff": d, "se": se, "z": z, "pvalue": p})
    out = pd.DataFrame(rows, columns=["a", "b", "diff", "se", "z", "pvalue"])
    out["pvalue.holm"] = holm(out["pvalue"].to_numpy())
    return out


# ----------------------------------------------------------------------------------------------------
# likelihood-ratio test of equal paths (refit with shared labels)
# ----------------------------------------------------------------------------------------------------
def _join_continued(lines: list[str]) -> list[str]:
    """Join lavaan formula lines continued by a trailing or leading operator (``+``, ``*``)."""
    out: list[str] = []
    for line in lines:
        s = line.strip()
        if out and (out[-1].rstrip().endswith(("+", "*")) or s.startswith(("+", "*"))):
            out[-1] = out[-1].rstrip() + " " + s
        else:
            out.append(line)
    return out


def _strip_comment(line: str) -> str:
    return re.split(r"[#!]", line, maxsplit=1)[0]


def equal_paths_model(
    syntax: str, outcome: str, predictors: Iterable[str] | None = None, label: str = "b_equal"
) -> str:
    """Rewrite lavaan syntax so the paths ``outcome ~ predictor`` share one label (are equal).

    Each term ``[modifier*]predictor`` of a regression of ``outcome`` becomes ``label*predictor``.
    Old labels of those paths are replaced by ``label`` everywhere else too (defined parameters such as
    ``ind_SHI := b_SHI*c_FOL`` and constraints stay valid). Comments are dropped; all other lines are
    kept verbatim. ``predictors`` defaults to every predictor of ``outcome``. In lavaan (and semopy) a
    label shared by several parameters constrains them to be equal, so the refitted model has
    ``k - 1`` more degrees of freedom.
    """
    if not re.fullmatch(_NAME, outcome):
        raise SurveyInputError("outcome is not a variable name", value=outcome, field="outcome")
    if not re.fullmatch(_NAME, label):
        raise SurveyInputError("label is not a valid name", value=label, field="label")
    statements: list[str] = []
    for raw in syntax.splitlines():
        statements.extend(_strip_comment(raw).split(";"))
    statements = [s for s in _join_continued(statements) if s.strip()]
    wanted = None if predictors is None else list(predictors)
    found: list[str] = []
    old_labels: dict[str, str] = {}
    rewritten: list[str] = []
    regression = re.compile(rf"^\s*{re.escape(outcome)}\s*~(?![~*])(.*)$")
    for stmt in statements:
        m = regression.match(stmt)
        if not m or "=~" in stmt:
            rewritten.append(stmt.rstrip())
            continue
        terms = [t.strip() for t in m.group(1).split("+")]
        new_terms = []
        for term in terms:
            if not term:
                raise SurveyInputError(
                    "malformed regression in model syntax", value=stmt.strip(), field="model"
                )
            parts = [p.strip() for p in term.split("*")]
            var = parts[-1]
            if wanted is not None and var not in wanted:
                new_terms.append(term)
                continue
            if re.fullmatch(_NUMBER, var):  # an intercept, `FOL ~ 1`
                new_terms.append(term)
                continue
            for mod in parts[:-1]:
                if mod == "NA" or mod.startswith(("start(", "equal(")):
                    continue
                if re.fullmatch(_NUMBER, mod):
                    raise SurveyInputError(
                        "path is fixed to a value and cannot be freed as equal",
                        value=f"{outcome} ~ {term}",
                        field="model",
                    )
                if mod.startswith("c("):
                    raise SurveyInputError(
                        "multi-group modifiers are not supported here",
                        value=f"{outcome} ~ {term}",
                        field="model",
                    )
                if mod.startswith("label("):
                    old_labels[mod[6:-1].strip("\"' ")] = label
                elif re.fullmatch(_NAME, mod):
                    old_labels[mod] = label
                else:
                    raise SurveyInputError(
                        "cannot parse modifier in model syntax", value=f"{outcome} ~ {term}", field="model"
                    )
            found.append(var)
            new_terms.append(f"{label}*{var}")
        rewritten.append(f"{outcome} ~ " + " + ".join(new_terms))
    if wanted is not None:
        missing = [p for p in wanted if p not in found]
        if missing:
            raise SurveyInputError(
                f"no path {outcome} ~ {missing[0]} in the model", value=missing[0], field="predictors"
            )
    if len(set(found)) < 2:
        raise SurveyInputError(
            "need at least two paths of the outcome to constrain equal", value=outcome, field="outcome"
        )
    out = []
    for stmt in rewritten:
        if not regression.match(stmt) or "=~" in stmt:
            for old in old_labels:
                stmt = re.sub(rf"(?<![A-Za-z0-9_.]){re.escape(old)}(?![A-Za-z0-9_.])", label, stmt)
        out.append(stmt)
    return "\n".join(out) + "\n"


def scaled_chisq_difference(
    t0: float, df0: int, c0: float, t1: float, df1: int, c1: float
) -> tuple[float, float]:
    """Satorra-Bentler (2001) scaled chi-square difference of nested models (0 = restricted).

    ``cd = (df0 c0 - df1 c1) / (df0 - df1)``, ``T = (T0 - T1) / cd`` with the unscaled (ML) statistics
    ``T`` and scaling factors ``c`` (lavaan ``chisq.scaling.factor``); df = ``df0 - df1``. lavaan's
    ``lavTestLRT(method = "satorra.bentler.2001")``. Returns (statistic, df).
    """
    ddf = df0 - df1
    if ddf <= 0:
        raise SurveyInputError(
            "the restricted model must have more degrees of freedom", value=ddf, field="df"
        )
    cd = (df0 * c0 - df1 * c1) / ddf
    if not cd > 0:
        raise SurveyInputError(
            "negative scaling correction of the chi-square difference "
            "(Satorra-Bentler 2001); use the strictly positive version",
            value=cd,
            field="chisq.scaling.factor",
        )
    return (t0 - t1) / cd, float(ddf)


@dataclass
class LRTResult:
    """Chi-square difference test of the model with equal paths (restricted) against the free model."""

    chisq_diff: float
    df_diff: float
    pvalue: float
    chisq_free: float
    df_free: float
    chisq_equal: float
    df_equal: float
    method: str
    model_equal: str
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chisq.diff": self.chisq_diff,
            "df.diff": self.df_diff,
            "pvalue": self.pvalue,
            "chisq.free": self.chisq_free,
            "df.free": self.df_free,
            "chisq.equal": self.chisq_equal,
            "df.equal": self.df_equal,
            "method": self.method,
            "warnings": [w.message for w in self.warnings],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "chisq": [self.chisq_free, self.chisq_equal],
                "df": [self.df_free, self.df_equal],
                "chisq.diff": [np.nan, self.chisq_diff],
                "df.diff": [np.nan, self.df_diff],
                "pvalue": [np.nan, self.pvalue],
            },
            index=["free", "equal paths"],
        )

    def summary(self) -> str:
        lines = [
            f"Likelihood-ratio test of equal paths ({self.method})",
            f"  chisq diff = {self.chisq_diff:.3f}, df = {self.df_diff:g}, p = {self.pvalue:.4g}",
        ]
        lines += [f"  warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.summary().splitlines()[0])}</b></p>" + self.to_frame().to_html(
            float_format="%.4g", na_rep=""
        )

    def __str__(self) -> str:
        return self.summary()


def _fit_stat(result: Any, name: str) -> float:
    measures = result.fit_measures() if callable(getattr(result, "fit_measures", None)) else result
    try:
        return float(measures[name])
    except (KeyError, TypeError) as exc:
        raise SurveyInputError(
            "the fit function's result has no fit measure", value=name, field="fit_measures"
        ) from exc


def lr_equal_paths(
    fit_fn: Callable[..., Any],
    syntax: str,
    data: pd.DataFrame,
    outcome: str,
    predictors: Iterable[str] | None = None,
    *,
    scaled: bool | None = None,
    **fit_kwargs: Any,
) -> LRTResult:
    """Likelihood-ratio (chi-square difference) test that the paths to ``outcome`` are all equal.

    Calls ``fit_fn(model, data, **fit_kwargs)`` twice -- on ``syntax`` and on
    :func:`equal_paths_model` (shared label) -- and reads lavaan-named fit measures from
    ``result.fit_measures()`` (``chisq``, ``df``, and for robust estimators ``chisq.scaling.factor``).
    ``T = chisq_equal - chisq_free`` ~ chi-square(``df_equal - df_free``) (ML); with ``scaled`` (default:
    when both fits report a scaling factor) the Satorra-Bentler (2001) scaled difference
    (:func:`scaled_chisq_difference`), as lavaan's ``lavTestLRT``.
    """
    model_eq = equal_paths_model(syntax, outcome, predictors)
    free = fit_fn(syntax, data, **fit_kwargs)
    equal = fit_fn(model_eq, data, **fit_kwargs)
    warnings: list[SurveyWarning] = []
    for res in (free, equal):
        for w in getattr(res, "warnings", []) or []:
            warnings.append(w if isinstance(w, SurveyWarning) else SurveyWarning("fit", str(w), _STAGE))
        if getattr(res, "converged", True) is False:
            warnings.append(
                SurveyWarning("lrt_not_converged", "a model of the LR test did not converge", _STAGE)
            )
    t1, d1 = _fit_stat(free, "chisq"), _fit_stat(free, "df")
    t0, d0 = _fit_stat(equal, "chisq"), _fit_stat(equal, "df")
    if scaled is None:
        try:
            c1, c0 = _fit_stat(free, "chisq.scaling.factor"), _fit_stat(equal, "chisq.scaling.factor")
            scaled = bool(np.isfinite(c1) and np.isfinite(c0))
        except SurveyInputError:
            scaled = False
    if scaled:
        c1, c0 = _fit_stat(free, "chisq.scaling.factor"), _fit_stat(equal, "chisq.scaling.factor")
        stat, ddf = scaled_chisq_difference(t0, int(d0), c0, t1, int(d1), c1)
        method = "satorra.bentler.2001"
    else:
        stat, ddf = t0 - t1, d0 - d1
        method = "standard"
    if ddf <= 0:
        raise SurveyInputError(
            "the equal-paths model has no more degrees of freedom than the free model", value=ddf, field="df"
        )
    if stat < 0:
        warnings.append(
            SurveyWarning("lrt_negative", f"negative chi-square difference ({stat:.4g}) set to 0", _STAGE)
        )
        stat = 0.0
    return LRTResult(
        chisq_diff=float(stat),
        df_diff=float(ddf),
        pvalue=float(stats.chi2.sf(stat, ddf)),
        chisq_free=t1,
        df_free=d1,
        chisq_equal=t0,
        df_equal=d0,
        method=method,
        model_equal=model_eq,
        warnings=warnings,
    )


# ----------------------------------------------------------------------------------------------------
# the JSON block of `survey fit --compare-paths`
# ----------------------------------------------------------------------------------------------------
@dataclass
class PathComparison:
    """Which driver matters most: equality tests, importance weights and rank intervals, by driver.

    ``omnibus`` (Wald test that all unstandardized paths are equal), ``pairwise`` (unstandardized
    differences, Holm-adjusted), ``pairwise_std`` (standardized, when their covariance was given),
    ``dominance`` (:class:`~survey.sem.importance.DominanceResult`), ``relative_weights`` (Series),
    ``ranks`` (:func:`~survey.sem.ranks.rank_intervals` table) and ``supported`` (orderings supported
    by the Holm-adjusted tests: standardized when available, else unstandardized). Optional parts are
    None when their input was not given.
    """

    outcome: str | None
    labels: pd.Series
    omnibus: WaldResult
    pairwise: pd.DataFrame
    supported: pd.DataFrame
    pairwise_std: pd.DataFrame | None = None
    dominance: Any = None
    relative_weights: pd.Series | None = None
    ranks: pd.DataFrame | None = None
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``"path_comparison"`` block of ``survey fit --compare-paths --json`` (DESIGN.md)."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (float(v) if isinstance(v, float | np.floating) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]

        out: dict[str, Any] = {
            "omnibus_wald": {
                "stat": float(self.omnibus.stat),
                "df": int(self.omnibus.df),
                "pvalue": float(self.omnibus.pvalue),
            },
            "pairwise": records(self.pairwise),
        }
        if self.pairwise_std is not None:
            out["pairwise_std"] = records(self.pairwise_std)
        if self.dominance is not None:
            out["dominance"] = {k: float(v) for k, v in self.dominance.general.items()}
        if self.relative_weights is not None:
            out["relative_weights"] = {k: float(v) for k, v in self.relative_weights.items()}
        if self.ranks is not None:
            out["rank_interval"] = {
                k: [int(lo), int(hi)]
                for k, lo, hi in zip(
                    self.ranks.index, self.ranks["rank.lower"], self.ranks["rank.upper"], strict=True
                )
            }
            out["p_strongest"] = {k: float(v) for k, v in self.ranks["p.strongest"].items()}
        out["supported_orderings"] = list(self.supported["statement"])
        if self.warnings:
            out["warnings"] = [w.message for w in self.warnings]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per driver: path label, importance weights, rank interval and P(strongest)."""
        out = pd.DataFrame({"parameter": self.labels})
        out.index.name = "driver"
        if self.dominance is not None:
            out["dominance"] = self.dominance.general
            out["dominance.share"] = self.dominance.general_standardized
        if self.relative_weights is not None:
            out["relative_weight"] = self.relative_weights
        if self.ranks is not None:
            out = out.join(self.ranks[["rank.lower", "rank.upper", "p.strongest"]])
        return out

    def summary(self) -> str:
        lines = [
            f"Path comparison{'' if self.outcome is None else ' for ' + self.outcome}",
            f"  all paths equal (Wald): W = {self.omnibus.stat:.3f}, df = {self.omnibus.df}, "
            f"p = {self.omnibus.pvalue:.4g}",
            "  supported orderings (Holm): " + (", ".join(self.supported["statement"]) or "none"),
        ]
        lines.append(self.to_frame().to_string(float_format=lambda x: f"{x:.4f}"))
        lines += [f"  warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().splitlines()[1].strip())
        return f"<p><b>Path comparison</b><br>{head}</p>" + self.to_frame().to_html(float_format="%.4f")

    def __str__(self) -> str:
        return self.summary()


def compare_paths(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: pd.Series | dict[str, str],
    *,
    std_est: pd.Series | None = None,
    std_vcov: pd.DataFrame | None = None,
    corr: pd.DataFrame | None = None,
    outcome: str | None = None,
    replicates: pd.DataFrame | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
) -> PathComparison:
    """Compare the strength of the paths of several drivers to one outcome.

    ``labels`` maps driver -> parameter name in ``est``/``vcov`` (e.g. :func:`path_names`). Always:
    omnibus Wald test of equal unstandardized paths and Holm-adjusted pairwise tests. With
    ``std_est``/``std_vcov`` (standardized paths named like ``est`` and their delta-method covariance):
    standardized pairwise tests, which then drive ``supported``. With ``corr`` (model-implied latent
    correlations, lavaan ``cor.lv``) and ``outcome``: general dominance and relative weights. With
    ``replicates`` (bootstrap replicates of the standardized paths, columns = drivers): rank intervals
    at ``level`` and P(strongest). Tables use driver names in ``a``/``b``.
    """
    from survey.sem.importance import dominance_analysis, relative_weights
    from survey.sem.ranks import rank_intervals, supported_orderings

    labels = pd.Series(labels, dtype=object)
    labels.index.name = "driver"
    names = list(labels)
    back = {v: k for k, v in labels.items()}
    omni = omnibus_equal_paths(est, vcov, names)
    pw = pairwise_path_differences(est, vcov, names)
    pw = pw.assign(a=pw["a"].map(back), b=pw["b"].map(back))
    pw_std = None
    if std_est is not None or std_vcov is not None:
        if std_est is None or std_vcov is None:
            raise SurveyInputError(
                "standardized comparison needs both std_est and std_vcov", field="std_vcov"
            )
        pw_std = pairwise_path_differences(std_est, std_vcov, names)
        pw_std = pw_std.assign(a=pw_std["a"].map(back), b=pw_std["b"].map(back))
    dom = rw = ranks = None
    drivers = list(labels.index)
    if corr is not None:
        if outcome is None:
            raise SurveyInputError("outcome is needed with corr", field="outcome")
        dom = dominance_analysis(corr, outcome, drivers)
        rw = relative_weights(corr, outcome, drivers)
    if replicates is not None:
        missing = [d for d in drivers if d not in replicates.columns]
        if missing:
            raise SurveyInputError("replicates lack a driver column", value=missing[0], field="replicates")
        point = None if std_est is None else pd.Series([std_est[n] for n in names], index=drivers)
        ranks = rank_intervals(replicates[drivers], level=level, estimates=point)
    warnings = list(omni.warnings) + ([] if dom is None else list(dom.warnings))
    return PathComparison(
        outcome=outcome,
        labels=labels,
        omnibus=omni,
        pairwise=pw,
        supported=supported_orderings(pw if pw_std is None else pw_std, alpha),
        pairwise_std=pw_std,
        dominance=dom,
        relative_weights=rw,
        ranks=ranks,
        warnings=warnings,
    )


def path_comparison(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: pd.Series | dict[str, str],
    **kwargs: Any,
) -> dict[str, Any]:
    """The ``"path_comparison"`` JSON block: ``compare_paths(est, vcov, labels, **kwargs).to_dict()``.

    Keys as in DESIGN.md (``omnibus_wald``, ``pairwise``, ``dominance``, ``relative_weights``,
    ``rank_interval``) plus ``supported_orderings``, and ``pairwise_std``/``p_strongest``/``warnings``
    when available.
    """
    return compare_paths(est, vcov, labels, **kwargs).to_dict()


def compare_fitted_paths(
    result: Any, outcome: str, predictors: Iterable[str] | None = None, **kwargs: Any
) -> PathComparison:
    """:func:`compare_paths` on a fitted model with the SEMResult contract (``estimates()``, ``vcov()``).

    Parameter names follow lavaan (label, else ``lhs op rhs``); ``kwargs`` pass ``std_est``,
    ``std_vcov``, ``corr``, ``replicates`` ... through.
    """
    estimates = result.estimates()
    vcov = result.vcov()
    labels = path_names(estimates, outcome, predictors)
    theta = free_parameters(estimates, vcov)
    return compare_paths(theta, vcov, labels, outcome=outcome, **kwargs)
