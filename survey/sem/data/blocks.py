"""Sample statistics per group block: the one interface every estimator, information and test reads.

A fit is a list of blocks (one per group, lavaan's order of first appearance). Each block is a kind of
sample statistics with the interface :class:`BlockStats` (lavaan ``lavSampleStats`` + ``lavData@Mp``):

- ``label``, ``n``, ``names`` (model order of the observed variables), ``x_index`` (fixed.x covariates);
- ``cov``, ``mean``: the saturated (h1) moments -- sample moments (divisor N) or their EM estimates;
- ``raw``: the rows used (NaN marks a missing value for FIML);
- ``loglik(sigma, mu, gradient=False)``: the normal log-likelihood of the block's data at (mu, Sigma)
  [and its gradient wrt Sigma (p x p, symmetric-perturbation form) and mu];
- ``h1_logl``: the log-likelihood of the saturated model;
- ``case_scores(sigma, mu, meanstructure)``: casewise scores dl_i/ds in ``s = (mu', vech(Sigma)')'``;
- ``h1_information()``: unit observed information A1 and first-order information B1 of the saturated
  model at the h1 moments (fixed.x rows and columns set to zero, as lavaan's h1 information);
- ``kind``: ``"complete"`` or ``"fiml"``; sampling weights and clusters are the same two kinds with weighted
  moments and weighted, cluster-summed scores (:mod:`survey.sem.data.weighted`); later kinds (ordinal
  thresholds + polychorics with their weight matrix) implement the same attributes.

Missing data (lavaan ``missing="ml"``): cases with every model variable missing are dropped; with
fixed.x covariates, cases with a missing covariate are deleted (lavaan: "cases were deleted due to
missing values in exogenous variable(s), while fixed.x = TRUE").
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.missing import MissingData, em_saturated, loglik, missing_patterns
from survey.sem.data.missing_info import h1_case_scores, h1_observed_information
from survey.sem.data.moments import GroupStats, check_cases, numeric_columns
from survey.sem.model.moments import h1_information, h1_scores, vech_index

LOG2PI = float(np.log(2 * np.pi))
UNBIASED: ContextVar[bool] = ContextVar("unbiased_cov", default=False)  # likelihood="wishart" (sem.wishart)
MPLUS: ContextVar[bool] = ContextVar("mplus_ls", default=False)  # mimic="Mplus" weights (sem.mimic_mplus_ls)
MISSING = {"listwise": "listwise", "fiml": "ml", "ml": "ml", "direct": "ml", "ml.x": "ml.x"}


def x_mask(p: int, x_index: list[int], meanstructure: bool) -> np.ndarray:
    """True for the elements of ``(mu', vech(Sigma)')'`` that belong to fixed.x covariates only."""
    xs = set(x_index)
    rows, cols = vech_index(p)
    cov_part = np.array([r in xs and c in xs for r, c in zip(rows, cols, strict=True)], dtype=bool)
    if not meanstructure:
        return cov_part
    return np.concatenate([np.array([j in xs for j in range(p)], dtype=bool), cov_part])


def masked_inverse(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Inverse of ``a`` on the rows/columns not in ``mask``, zero elsewhere (lavaan's fixed.x masking)."""
    out = np.zeros_like(a)
    keep = ~mask
    out[np.ix_(keep, keep)] = np.linalg.inv(a[np.ix_(keep, keep)])
    return out


@dataclass
class CompleteBlock(GroupStats):
    """Complete-data moments of one group (listwise deletion)."""

    names: list[str] = field(default_factory=list)
    x_index: list[int] = field(default_factory=list)
    kind: str = "complete"

    def loglik(self, sigma: np.ndarray, mu: np.ndarray | None, gradient: bool = False):
        """logl = -N/2 [p log 2 pi + log|Sigma| + tr(S Sigma^-1) + (ybar - mu)' Sigma^-1 (ybar - mu)]."""
        n, p = self.n, self.cov.shape[0]
        mu = self.mean if mu is None else mu
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return (-np.inf, None, None) if gradient else -np.inf
        inv = np.linalg.inv(sigma)
        d = self.mean - mu
        s_all = self.cov + np.outer(d, d)
        value = -0.5 * n * (p * LOG2PI + 2.0 * np.log(np.diag(chol)).sum() + np.sum(s_all * inv))
        if not gradient:
            return float(value)
        g_sig = -0.5 * n * (inv - inv @ s_all @ inv)
        return float(value), g_sig, n * inv @ d

    @property
    def h1_logl(self) -> float:
        p = self.cov.shape[0]
        return float(-0.5 * self.n * (p * LOG2PI + self.logdet + p))

    def case_scores(self, sigma: np.ndarray, mu: np.ndarray | None, meanstructure: bool) -> np.ndarray:
        return h1_scores(self.raw, sigma, self.mean if mu is None else mu, meanstructure)

    def h1_information(self, meanstructure: bool) -> tuple[np.ndarray, np.ndarray]:
        a1 = h1_information(self.cov, meanstructure)
        s1 = h1_scores(self.raw, self.cov, self.mean, meanstructure)
        s1 = s1 - s1.mean(axis=0)  # W Gamma W; the scores' mean is W (S - S_u) when cov holds S_u (UNBIASED)
        return a1, s1.T @ s1 / self.n


@dataclass
class MissingBlock(GroupStats):
    """FIML statistics of one group: the missing-data patterns and the EM (h1) moments."""

    names: list[str] = field(default_factory=list)
    x_index: list[int] = field(default_factory=list)
    md: MissingData | None = None
    em_logl: float = float("nan")
    kind: str = "fiml"

    def loglik(self, sigma: np.ndarray, mu: np.ndarray, gradient: bool = False):
        return loglik(self.md, sigma, mu, gradient)

    @property
    def h1_logl(self) -> float:
        return self.em_logl

    def case_scores(self, sigma: np.ndarray, mu: np.ndarray, meanstructure: bool = True) -> np.ndarray:
        return h1_case_scores(self.md, sigma, mu)

    def h1_information(self, meanstructure: bool = True) -> tuple[np.ndarray, np.ndarray]:
        a1 = h1_observed_information(self.md, self.cov, self.mean) / self.n
        s1 = h1_case_scores(self.md, self.cov, self.mean)
        return a1, s1.T @ s1 / self.n


BlockStats = CompleteBlock | MissingBlock


def group_label(value) -> str:
    """Printable group label: integer-valued numbers without ".0" (a code column read as float)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def complete_block(x: np.ndarray, names: list[str], x_index: list[int], label: str) -> CompleteBlock:
    """Listwise deletion and moments with divisor N (lavaan ``lav_samplestats``)."""
    keep = ~np.isnan(x).any(axis=1)
    x = x[keep]
    if x.shape[0] < 2:
        where = f" in group {label!r}" if label else ""
        raise SurveyInputError(
            f"only {x.shape[0]} complete case(s) left{where} after listwise deletion", field="data"
        )
    check_cases(x, list(names), label=label)
    mean = x.mean(axis=0)
    c = x - mean
    divisor = x.shape[0] - 1 if UNBIASED.get() else x.shape[0]  # lavaan sample.cov.rescale = FALSE
    block = CompleteBlock(
        label, int(x.shape[0]), c.T @ c / divisor, mean, x, names=list(names), x_index=list(x_index)
    )
    block.mplus = MPLUS.get()
    return block


def missing_block(
    x: np.ndarray, names: list[str], x_index: list[int], label: str, warnings: list[SurveyWarning],
    delete_x: bool = True,
) -> MissingBlock:
    """Missing-data patterns and EM moments; rows with a missing fixed.x covariate deleted (lavaan's
    missing="ml"; ``delete_x=False`` keeps them, lavaan's "ml.x")."""
    where = f" in group {label}" if label else ""
    if x_index and delete_x:
        bad = np.isnan(x[:, x_index]).any(axis=1)
        if bad.any():
            warnings.append(
                SurveyWarning(
                    "missing_x",
                    f"{int(bad.sum())} case(s){where} were deleted due to missing values in "
                    "exogenous variable(s), while fixed.x = TRUE (lavaan's default; 'ml.x' keeps them)",
                    "sem",
                )
            )
            x = x[~bad]
    md = missing_patterns(x)
    if md.n_dropped:
        warnings.append(
            SurveyWarning(
                "all_missing",
                f"{md.n_dropped} case(s){where} with every model variable missing were dropped.",
                "sem",
            )
        )
    if md.n < 2:
        raise SurveyInputError(f"only {md.n} case(s) with observed values{where}", field="data")
    check_cases(md.x, list(names), label=label, what="cases with observed values")
    if np.any(md.coverage == 0):
        raise SurveyInputError(
            f"some pairs of variables are never observed together{where} (zero covariance coverage)",
            field="data",
        )
    mean, cov, _ = em_saturated(md)
    block = MissingBlock(label, md.n, cov, mean, md.x, names=list(names), x_index=list(x_index), md=md)
    block.em_logl = float(loglik(md, cov, mean))
    return block


def build_blocks(
    data: pd.DataFrame,
    names: list[str],
    *,
    x_names: list[str] = (),
    group: str | None = None,
    missing: str = "listwise",
    groups: list | None = None,
    design=None,
) -> tuple[list[BlockStats], int, list[SurveyWarning]]:
    """One block of sample statistics per group: (blocks, rows used before deletion, warnings).

    ``missing``: "listwise" (lavaan's default) or "fiml"/"ml" (casewise likelihood; rows with a missing
    fixed.x covariate deleted) or "ml.x" (rows with a missing covariate kept: the covariates enter the
    casewise likelihood, their moments fixed at the EM estimates).
    ``groups`` chooses (and orders) the groups to use; default: every value in order of appearance.
    ``design``: sampling weights / clusters (:class:`survey.sem.data.weighted.Design`) -> weighted blocks.
    """
    kind = MISSING.get(str(missing).lower())
    if kind is None:
        raise SurveyInputError(
            "missing must be listwise, fiml (ml) or ml.x", value=str(missing), field="missing"
        )
    frame = numeric_columns(data, names)
    values = frame.to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values)] = np.nan
    warnings: list[SurveyWarning] = []
    x_index = [names.index(v) for v in x_names]
    if group is None:
        parts = [("", values, np.arange(values.shape[0]))]
        n_raw = values.shape[0]
    else:
        if group not in data.columns:
            raise SurveyInputError("grouping column not found in the data", column=group, field="group")
        column = data[group]
        order = list(pd.unique(column.dropna())) if groups is None else list(groups)
        n_na = int(column.isna().sum())
        if n_na:
            warnings.append(
                SurveyWarning(
                    "group_missing",
                    f"{n_na} row(s) with a missing value on the grouping column {group!r} were left out",
                    "sem",
                )
            )
        masks = [(group_label(v), (column == v).to_numpy()) for v in order]
        parts = [(label, values[m], np.flatnonzero(m)) for label, m in masks]
        n_raw = int(sum(p.shape[0] for _, p, _ in parts))
    if design is not None:  # sampling weights and/or clusters: survey.sem.data.weighted.Design
        return design.blocks(parts, names, x_index, kind, warnings), n_raw, warnings
    blocks: list[BlockStats] = []
    for label, x, _ in parts:
        if kind == "listwise":
            blocks.append(complete_block(x, names, x_index, label))
        else:
            blocks.append(missing_block(x, names, x_index, label, warnings, delete_x=kind == "ml"))
    return blocks, n_raw, warnings
