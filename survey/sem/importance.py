"""Relative importance of correlated predictors from a correlation matrix.

Works on any correlation (or covariance) matrix -- at the latent level, the model-implied latent
correlation matrix of a fitted SEM (lavaan ``lavInspect(fit, "cor.lv")``), so the importance of the six
drivers of follow intention is free of measurement error.

* :func:`r2_subset` -- ``R^2_S = r_yS' R_SS^{-1} r_yS`` for a predictor subset S.
* :func:`dominance_analysis` -- dominance analysis (Budescu 1993; Azen & Budescu 2003): R^2 of all
  2^p subsets, complete, conditional and general dominance. General dominance weights add up to R^2.
* :func:`relative_weights` -- Johnson's (2000) relative weights, which also add up to R^2.

References
----------
Budescu, D. V. (1993). Dominance analysis: A new approach to the problem of relative importance of
predictors in multiple regression. *Psychological Bulletin, 114*, 542-551.
Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors in
multiple regression. *Psychological Methods, 8*, 129-148.
Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor variables
in multiple regression. *Multivariate Behavioral Research, 35*, 1-19.
Thomas, D. R., Zumbo, B. D., Kwan, E., & Schweitzer, L. (2014). On Johnson's (2000) relative weights
method for assessing variable importance: A reanalysis. *Multivariate Behavioral Research, 49*,
329-338 (prefer general dominance where the two disagree).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning

__all__ = [
    "DominanceResult",
    "as_correlation",
    "dominance_analysis",
    "implied_correlation",
    "r2_subset",
    "relative_weights",
]

_STAGE = "sem"
MAX_PREDICTORS = 16
_TOL = 1e-12


def as_correlation(matrix: pd.DataFrame, variables: Sequence[str] | None = None) -> pd.DataFrame:
    """Check a square, symmetric, named matrix and rescale it to a correlation matrix.

    A covariance matrix (e.g. lavaan ``cov.lv``) becomes ``D^{-1/2} S D^{-1/2}``; a correlation matrix
    is returned unchanged. ``variables`` selects and orders rows and columns.
    """
    if not isinstance(matrix, pd.DataFrame):
        raise SurveyInputError("the correlation matrix must be a pandas DataFrame with names", field="corr")
    if list(matrix.index) != list(matrix.columns):
        raise SurveyInputError("the correlation matrix needs identical row and column names", field="corr")
    if matrix.index.has_duplicates:
        raise SurveyInputError(
            "duplicated variable in the correlation matrix",
            value=str(matrix.index[matrix.index.duplicated()][0]),
            field="corr",
        )
    if variables is not None:
        variables = list(variables)
        missing = [v for v in variables if v not in matrix.index]
        if missing:
            raise SurveyInputError("variable not in the correlation matrix", value=missing[0], field="corr")
        matrix = matrix.loc[variables, variables]
    m = matrix.to_numpy(dtype=float)
    if not np.all(np.isfinite(m)):
        raise SurveyInputError("the correlation matrix holds non-finite values", field="corr")
    if not np.allclose(m, m.T, atol=1e-8, rtol=0.0):
        raise SurveyInputError("the correlation matrix is not symmetric", field="corr")
    d = np.diag(m)
    if np.any(d <= 0):
        bad = matrix.index[int(np.argmax(d <= 0))]
        raise SurveyInputError("non-positive variance on the diagonal", value=str(bad), field="corr")
    s = 1.0 / np.sqrt(d)
    r = (m + m.T) / 2.0 * np.outer(s, s)
    np.fill_diagonal(r, 1.0)
    return pd.DataFrame(r, index=matrix.index, columns=matrix.columns)


def implied_correlation(estimates: pd.DataFrame, outcome: str, column: str = "std.all") -> pd.DataFrame:
    """Model-implied correlations of ``outcome`` and its exogenous predictors from standardized estimates.

    For a structural equation ``y = sum_j beta_j x_j + zeta`` whose predictors are exogenous (not
    regressed on anything), the completely standardized solution gives
    ``R_xx`` (``x_i ~~ x_j`` rows; absent rows are fixed zero covariances) and
    ``r_xy = R_xx beta`` with ``beta`` the standardized paths (``y ~ x_j`` rows), so that
    ``r_xy' R_xx^{-1} r_xy = beta' R_xx beta = R^2_y``. This equals the ``outcome``/predictor block of
    lavaan's ``lavInspect(fit, "cor.lv")``. ``estimates`` is a lavaan-style table (``lhs op rhs`` and
    ``column``, e.g. ``SEMResult.estimates()`` or lavaan's ``standardizedSolution()`` with
    ``column="est.std"``). Returns the correlation matrix ordered ``[outcome, predictors...]``.
    """
    need = {"lhs", "op", "rhs", column}
    if not need.issubset(estimates.columns):
        raise SurveyInputError(f"estimates need columns {sorted(need)}", field="estimates")
    if "group" in estimates.columns and estimates["group"].nunique() > 1:
        raise SurveyInputError("implied correlations need one group's estimates", field="group")
    reg = estimates[estimates["op"] == "~"]
    paths = reg[reg["lhs"] == outcome].drop_duplicates("rhs")
    if paths.empty:
        raise SurveyInputError(
            "no regression paths for this outcome in the model", value=outcome, field="outcome"
        )
    predictors = list(paths["rhs"])
    endogenous = [p for p in predictors if p in set(reg["lhs"])]
    if endogenous:
        raise SurveyInputError(
            "a predictor is itself regressed on other variables; use the model-implied "
            "latent correlation matrix instead",
            value=endogenous[0],
            field="predictors",
        )
    beta = paths[column].to_numpy(dtype=float)
    rxx = np.eye(len(predictors))
    pos = {p: i for i, p in enumerate(predictors)}
    cov = estimates[(estimates["op"] == "~~") & (estimates["lhs"] != estimates["rhs"])]
    for lhs, rhs, val in zip(cov["lhs"], cov["rhs"], cov[column].astype(float), strict=True):
        if lhs in pos and rhs in pos:
            rxx[pos[lhs], pos[rhs]] = rxx[pos[rhs], pos[lhs]] = val
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(rxx))):
        raise SurveyInputError("standardized estimates are not finite", field=column)
    rxy = rxx @ beta
    names = [outcome, *predictors]
    out = np.eye(len(names))
    out[1:, 1:] = rxx
    out[0, 1:] = out[1:, 0] = rxy
    return pd.DataFrame(out, index=names, columns=names)


def _prepare(
    corr: pd.DataFrame, outcome: str, predictors: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not isinstance(corr, pd.DataFrame):
        raise SurveyInputError("the correlation matrix must be a pandas DataFrame with names", field="corr")
    if predictors is None:
        predictors = [c for c in corr.columns if c != outcome]
    predictors = list(predictors)
    if outcome in predictors:
        raise SurveyInputError("the outcome cannot also be a predictor", value=outcome, field="predictors")
    if len(set(predictors)) != len(predictors):
        raise SurveyInputError("duplicated predictor", field="predictors")
    if not predictors:
        raise SurveyInputError("no predictors", field="predictors")
    r = as_correlation(corr, [outcome, *predictors]).to_numpy()
    rxx, rxy = r[1:, 1:], r[1:, 0]
    ev = np.linalg.eigvalsh(r)
    if ev[0] < -1e-10:
        raise SurveyInputError(
            f"the correlation matrix is not positive semi-definite (smallest eigenvalue {ev[0]:.3g})",
            field="corr",
        )
    if np.linalg.eigvalsh(rxx)[0] <= 1e-10:
        raise SurveyInputError(
            "the predictors' correlation matrix is singular (a predictor is a linear "
            "combination of the others)",
            field="corr",
        )
    return rxx, rxy, predictors


def r2_subset(corr: pd.DataFrame, outcome: str, subset: Sequence[str]) -> float:
    """Squared multiple correlation of ``outcome`` on the predictors in ``subset``.

    ``R^2_S = r_yS' R_SS^{-1} r_yS`` (standardized regression from a correlation matrix; e.g. Cohen,
    Cohen, West & Aiken 2003, eq. 3.5.2). The empty subset has R^2 = 0.
    """
    subset = list(subset)
    if not subset:
        return 0.0
    rxx, rxy, _ = _prepare(corr, outcome, subset)
    return float(rxy @ np.linalg.solve(rxx, rxy))


def _all_subset_r2(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """R^2 of every subset, indexed by bit mask (bit i set = predictor i in the subset)."""
    p = len(rxy)
    out = np.zeros(2**p)
    for mask in range(1, 2**p):
        idx = [i for i in range(p) if mask >> i & 1]
        sub = rxy[idx]
        out[mask] = float(sub @ np.linalg.solve(rxx[np.ix_(idx, idx)], sub))
    return out


def _pairwise_matrix(names: list[str], better: np.ndarray, worse: np.ndarray) -> pd.DataFrame:
    """D_ij = 1 if i dominates j, 0 if j dominates i, 0.5 if undetermined; NaN on the diagonal."""
    d = np.where(better, 1.0, np.where(worse, 0.0, 0.5))
    np.fill_diagonal(d, np.nan)
    return pd.DataFrame(d, index=pd.Index(names, name="dominates"), columns=names)


@dataclass
class DominanceResult:
    """Dominance analysis of ``outcome`` on ``predictors`` (Budescu 1993; Azen & Budescu 2003).

    Attributes
    ----------
    r2 : float -- R^2 of the full model.
    subsets : DataFrame -- one row per subset S (``subset``, ``size``, ``r2``) with, for every predictor
        not in S, its increment ``R^2_{S+i} - R^2_S`` (NaN when in S); Azen & Budescu's Table 1 layout.
    conditional : DataFrame -- predictor x subset size k (0 .. p-1): mean increment over the subsets
        of size k that exclude the predictor (k = 0 is the squared validity r^2_yi).
    general : Series -- general dominance weights, the mean of ``conditional`` over k; they add up to r2.
    complete, conditional_dominance, general_dominance : DataFrame -- D_ij = 1 if the row predictor
        dominates the column predictor in that sense, 0 if it is dominated, 0.5 if undetermined.
    """

    outcome: str
    predictors: list[str]
    r2: float
    subsets: pd.DataFrame
    conditional: pd.DataFrame
    general: pd.Series
    complete: pd.DataFrame
    conditional_dominance: pd.DataFrame
    general_dominance: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def general_standardized(self) -> pd.Series:
        """General dominance weights as shares of R^2 (sum to 1)."""
        return (self.general / self.r2).rename("general.share")

    @property
    def ranking(self) -> pd.Series:
        """Rank of the general dominance weights (1 = most important)."""
        return self.general.rank(ascending=False, method="min").astype(int).rename("rank")

    def to_frame(self) -> pd.DataFrame:
        """Predictor table: conditional weights by subset size, general weight, share of R^2 and rank."""
        cond = self.conditional.rename(columns=lambda k: f"cond.k{k}")
        return pd.concat([cond, self.general, self.general_standardized, self.ranking], axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "r2": float(self.r2),
            "general": {k: float(v) for k, v in self.general.items()},
            "conditional": {
                p: {str(k): float(v) for k, v in row.items()} for p, row in self.conditional.iterrows()
            },
            "complete": {
                p: {q: (None if np.isnan(v) else float(v)) for q, v in row.items()}
                for p, row in self.complete.iterrows()
            },
            "warnings": [w.message for w in self.warnings],
        }

    def summary(self) -> str:
        lines = [f"Dominance analysis of {self.outcome} (R2 = {self.r2:.4f})"]
        tab = self.to_frame()[["general", "general.share", "rank"]].sort_values("rank")
        lines.append(tab.to_string(float_format=lambda x: f"{x:.4f}"))
        dom = [
            f"{i} > {j}"
            for i in self.predictors
            for j in self.predictors
            if i != j and self.complete.loc[i, j] == 1.0
        ]
        lines.append("complete dominance: " + (", ".join(dom) if dom else "none"))
        lines += [f"warning: {w.message}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>Dominance analysis of {html.escape(self.outcome)}</b> (R<sup>2</sup> = {self.r2:.4f})</p>"
        )
        return head + self.to_frame().to_html(float_format="%.4f")

    def __str__(self) -> str:
        return self.summary()


def dominance_analysis(
    corr: pd.DataFrame, outcome: str, predictors: Sequence[str] | None = None
) -> DominanceResult:
    """Dominance analysis from a correlation matrix (Budescu 1993; Azen & Budescu 2003).

    For each of the 2^p predictor subsets S, ``R^2_S = r_yS' R_SS^{-1} r_yS``. The increment of
    predictor i to S (i not in S) is ``Delta_i(S) = R^2_{S+i} - R^2_S``.

    * complete dominance: i dominates j if ``Delta_i(S) > Delta_j(S)`` for every S that contains
      neither (equivalently ``R^2_{S+i} > R^2_{S+j}``); j dominates i if the reverse holds for all S,
      otherwise undetermined.
    * conditional dominance: ``C_i^(k) = mean_{|S| = k, i not in S} Delta_i(S)`` for k = 0..p-1;
      i conditionally dominates j if ``C_i^(k) > C_j^(k)`` for every k.
    * general dominance: ``C_i = (1/p) sum_k C_i^(k)``; ``sum_i C_i = R^2`` of the full model.

    ``corr`` may be a covariance matrix (rescaled to correlations); ``predictors`` default to every
    other variable. Complete dominance implies conditional implies general dominance.
    """
    rxx, rxy, predictors = _prepare(corr, outcome, predictors)
    p = len(predictors)
    if p > MAX_PREDICTORS:
        raise SurveyInputError(
            f"dominance analysis needs 2^p subsets; at most {MAX_PREDICTORS} predictors",
            value=p,
            field="predictors",
        )
    r2 = _all_subset_r2(rxx, rxy)
    full = r2[-1]
    warnings: list[SurveyWarning] = []
    if full > 1.0 + 1e-8:
        warnings.append(SurveyWarning("r2_above_one", f"R2 of {outcome} is {full:.4f} > 1", _STAGE))

    # subset table (size, then predictor order)
    masks = sorted(range(2**p), key=lambda m: (bin(m).count("1"), [-(m >> i & 1) for i in range(p)]))
    rows = []
    for mask in masks:
        members = [predictors[i] for i in range(p) if mask >> i & 1]
        row: dict[str, Any] = {"subset": "+".join(members), "size": len(members), "r2": r2[mask]}
        for i, name in enumerate(predictors):
            row[name] = np.nan if mask >> i & 1 else r2[mask | 1 << i] - r2[mask]
        rows.append(row)
    subsets = pd.DataFrame(rows)

    # conditional and general dominance
    cond = np.zeros((p, p))
    for i in range(p):
        for k in range(p):
            incs = [r2[m | 1 << i] - r2[m] for m in range(2**p) if not m >> i & 1 and bin(m).count("1") == k]
            cond[i, k] = float(np.mean(incs))
    conditional = pd.DataFrame(cond, index=pd.Index(predictors, name="predictor"), columns=range(p))
    conditional.columns.name = "k"
    general = pd.Series(cond.mean(axis=1), index=conditional.index, name="general")

    # complete dominance
    comp_better = np.zeros((p, p), dtype=bool)
    for i, j in itertools.permutations(range(p), 2):
        others = [m for m in range(2**p) if not (m >> i & 1) and not (m >> j & 1)]
        comp_better[i, j] = all(r2[m | 1 << i] - r2[m | 1 << j] > _TOL for m in others)
    cond_better = np.array(
        [[i != j and bool(np.all(cond[i] - cond[j] > _TOL)) for j in range(p)] for i in range(p)]
    )
    g = general.to_numpy()
    gen_better = (g[:, None] - g[None, :]) > _TOL
    return DominanceResult(
        outcome=outcome,
        predictors=predictors,
        r2=float(full),
        subsets=subsets,
        conditional=conditional,
        general=general,
        complete=_pairwise_matrix(predictors, comp_better, comp_better.T),
        conditional_dominance=_pairwise_matrix(predictors, cond_better, cond_better.T),
        general_dominance=_pairwise_matrix(predictors, gen_better, gen_better.T),
        warnings=warnings,
    )


def relative_weights(
    corr: pd.DataFrame, outcome: str, predictors: Sequence[str] | None = None, *, rescale: bool = False
) -> pd.Series:
    """Johnson's (2000) relative weights from a correlation matrix.

    Eigen-decompose the predictors' correlations ``R_xx = Q Lambda Q'``. The orthogonal variables
    closest to X in least squares are ``Z = X Q Lambda^{-1/2} Q'`` and ``X = Z Lambda*`` with the
    symmetric ``Lambda* = Q Lambda^{1/2} Q'`` (``Lambda*_jk`` = correlation of x_j with z_k). Regress y on
    Z: ``beta* = Lambda*^{-1} r_xy``. The raw relative weight of x_j is
    ``epsilon_j = sum_k Lambda*_jk^2 beta*_k^2``; since each row of Lambda* has unit sum of squares,
    ``sum_j epsilon_j = sum_k beta*_k^2 = r_xy' R_xx^{-1} r_xy = R^2``. With ``rescale`` the weights are
    returned as shares of R^2. Thomas et al. (2014) criticise the method; report general dominance
    weights (:func:`dominance_analysis`) alongside.
    """
    rxx, rxy, predictors = _prepare(corr, outcome, predictors)
    evals, q = np.linalg.eigh(rxx)
    lam = q @ np.diag(np.sqrt(evals)) @ q.T
    beta = np.linalg.solve(lam, rxy)
    eps = (lam**2) @ (beta**2)
    out = pd.Series(eps, index=pd.Index(predictors, name="predictor"), name="relative_weight")
    if rescale:
        out = (out / eps.sum()).rename("relative_weight.share")
    return out
