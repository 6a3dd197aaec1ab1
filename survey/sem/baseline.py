"""The baseline (independence) model of the fit measures: its syntax, its closed-form ML estimates, and the
covariates' moments it keeps (lavaan ``lav_partable_indep_or_unrestricted``, ``lav_model_h1``)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd

from survey.sem.data.blocks import UNBIASED
from survey.sem.model.blocks import MultiGroupModel

# lavaan 0.6.14 lav_partable_indep_or_unrestricted: the covariances among the covariates enter the
# independence model only under mimic "lavaan" / "Mplus"; under mimic "EQS" every observed variable,
# covariates included, is unrelated to every other one (set by survey.sem.mimic for its fits)
_INDEPENDENT_X: ContextVar[bool] = ContextVar("baseline_independent_x", default=False)


@contextmanager
def independent_x_baseline():
    """Within this block the baseline models leave out the covariates' covariances (mimic="EQS")."""
    token = _INDEPENDENT_X.set(True)
    try:
        yield
    finally:
        _INDEPENDENT_X.reset(token)


def independent_x() -> bool:
    """True inside :func:`independent_x_baseline` (lavaan's mimic="EQS" baseline)."""
    return _INDEPENDENT_X.get()


def baseline_exogenous(b, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The moments the baseline's fixed.x covariates are fixed at: the block's (under missing="ml.x" the
    covariates' pairwise ones, :func:`pairwise_x`); under mimic="EQS" lavaan has no rows for their
    covariances, so those are 0 in its implied matrix (their variances stay at the sample values)."""
    cov, mean = pairwise_x(b) if kind == "ml.x" else (b.cov, b.mean)
    if independent_x() and len(getattr(b, "x_index", ())) > 1:
        cov = cov.copy()
        xi = np.asarray(b.x_index)
        diag = np.diag(cov)[xi]
        cov[np.ix_(xi, xi)] = np.diag(diag)
    return cov, mean


def baseline_syntax(ov: list[str], x_names: list[str], free_x: list[str] = ()) -> str:
    """The independence model: free (residual) variances of the non-covariates; under fixed.x the
    covariates keep their sample (co)variances and are unrelated to the rest (regressions fixed at 0);
    with fixed.x=FALSE the covariances among the exogenous covariates ``free_x`` stay free (lavaan's
    ``lav_partable_indep_or_unrestricted``)."""
    ys = [v for v in ov if v not in x_names]
    lines = [f"{v} ~~ {v}" for v in ys]
    lines += [f"{a} ~~ {b}" for i, a in enumerate(free_x) for b in free_x[i + 1:]]
    if x_names:
        lines.append(f"{ys[-1]} ~ " + " + ".join(f"0*{x}" for x in x_names))
    return "\n".join(lines)


def baseline_theta(mg: MultiGroupModel, blocks) -> np.ndarray:
    """Closed-form ML of the independence model: each variable's mean and variance (observed values)."""
    theta = np.zeros(mg.npar)
    pt = mg.partable
    em_x = _free_x_em(pt, blocks)  # fixed.x=FALSE covariates with holes: their own EM moments
    unbiased = UNBIASED.get()
    for row in pt[pt["free"] > 0].itertuples(index=False):
        b = blocks[int(row.group) - 1]
        j, k = b.names.index(row.lhs), b.names.index(row.rhs) if row.op == "~~" else -1
        got = em_x.get(int(row.group))
        if got is not None and j in got[0] and (row.op != "~~" or k in got[0]):
            cols, mean, cov = got
            a = cols.index(j)
            theta[int(row.free) - 1] = cov[a, cols.index(k)] if row.op == "~~" else mean[a]
            continue
        if row.op == "~~" and j != k:  # covariates' covariance (complete on the rows used)
            theta[int(row.free) - 1] = b.cov[j, k]
            continue
        if hasattr(b, "column_moments"):  # sampling weights: the weighted mean and variance
            mean, var = b.column_moments(j)
            theta[int(row.free) - 1] = var if row.op == "~~" else mean
            continue
        if row.op == "~~" and unbiased and getattr(b, "kind", "") == "complete":  # S_u (sem.wishart_direct)
            theta[int(row.free) - 1] = b.cov[j, j]
            continue
        col = b.raw[:, j]
        col = col[np.isfinite(col)]
        theta[int(row.free) - 1] = np.mean((col - col.mean()) ** 2) if row.op == "~~" else col.mean()
    return theta


def _free_x_em(pt, blocks) -> dict:
    """Per group: (columns, EM mean, EM cov) of the baseline's free covariates when they have holes
    (:mod:`survey.sem.baseline_x`)."""
    from survey.sem.baseline_x import free_x_moments

    out = {}
    cov_rows = pt[(pt["op"] == "~~") & (pt["lhs"] != pt["rhs"]) & (pt["free"] > 0)]
    for g, rows in cov_rows.groupby("group"):
        b = blocks[int(g) - 1]
        if getattr(b, "raw", None) is None or hasattr(b, "column_moments"):
            continue
        cols = sorted({b.names.index(v) for v in (*rows["lhs"], *rows["rhs"])})
        got = free_x_moments(b.raw, cols)
        if got is not None:
            out[int(g)] = (cols, *got)
    return out


def pairwise_x(b) -> tuple[np.ndarray, np.ndarray]:
    """The block's moments with the covariates' part replaced by their available-case means and pairwise
    covariances (divisor N): lavaan 0.6.14's fixed covariates of the baseline model under missing="ml.x"."""
    cov, mean = b.cov.copy(), b.mean.copy()
    x = pd.DataFrame(b.raw[:, b.x_index])
    cov[np.ix_(b.x_index, b.x_index)] = x.cov().to_numpy() * (b.n - 1) / b.n
    mean[b.x_index] = x.mean().to_numpy()
    return cov, mean
