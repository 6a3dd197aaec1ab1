"""Wald tests of linear constraints on estimates (lavaan ``lavTestWald``), and aligning estimates with
their covariance matrix: the pure-function part of :mod:`survey.sem.compare` (see its docstring for
the references)."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError, SurveyWarning

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
