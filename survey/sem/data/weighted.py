"""Sampling weights and clusters as block kinds of sample statistics (lavaan ``sampling.weights=``,
``cluster=`` for single-level models; lavaan 0.6 ``lav_data``, ``lav_samplestats``, ``lav_mvnorm``).

Weights (lavaan ``sampling.weights.normalization``): "total" (default) rescales the weights of the rows
used so that they sum to N over all groups, w_i* = w_i N / sum_j w_j; "group" to N_g within each group;
"none" keeps them. A block's N_g is then sum_i w_i* (lavaan: ``nobs[[g]] <- sum(wt)``), so the group
weights of the objective are N_g / N.

Complete data: the weighted moments ybar = sum w_i y_i / N_g, S = sum w_i (y_i - ybar)(y_i - ybar)' / N_g
(``cov.wt(method = "ML")``) replace the sample moments, so the ML discrepancy, its gradient and the
observed information are those of the weighted pseudo-likelihood. FIML: each pattern's frequency, sums
and cross-products are weighted (n_k = sum w_i, t_k = sum w_i y_io, Q_k = sum w_i y_io y_io'), which makes
the casewise log-likelihood sum_i w_i logl_i and the EM saturated moments weighted.

Casewise scores are weighted, s_i* = w_i s_i (``lav_mvnorm_scores_mu_vech_sigma(wt =)``), so the first-order
information B = sum_i s_i* s_i*' / N is the meat of the pseudo-ML sandwich. With clusters the scores are
summed within each cluster c and multiplied by sqrt(C / (C - 1)) (C clusters in the block):
B = C/(C-1) sum_c (sum_{i in c} s_i*)(sum_{i in c} s_i*)' / N (``lav_mvnorm_information_firstorder(
cluster.idx =)``; Williams 2000; Muthen & Satorra 1995), used for the cluster-robust SEs and the
Yuan-Bentler-Mplus test alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.blocks import CompleteBlock, MissingBlock
from survey.sem.data.missing import (
    Batch,
    MissingData,
    em_saturated,
    loglik,
    missing_patterns,
)
from survey.sem.data.missing_info import h1_case_scores, h1_observed_information
from survey.sem.data.moments import check_cases
from survey.sem.model.moments import h1_information, h1_scores

NORMALIZATIONS = ("total", "group", "none")


@dataclass
class Design:
    """Per-row sampling weights (raw, before normalisation) and cluster codes of the data's rows."""

    weights: np.ndarray | None = None
    cluster: np.ndarray | None = None
    normalization: str = "total"

    def blocks(self, parts, names: list[str], x_index: list[int], kind: str, warnings: list[SurveyWarning]):
        """The weighted blocks of :func:`survey.sem.data.blocks.build_blocks`'s (label, x, rows) parts."""
        return weighted_blocks(parts, self, names, x_index, kind, warnings)


def design_from(
    data: pd.DataFrame, sampling_weights: str | None, cluster: str | None, normalization: str = "total"
) -> Design | None:
    """Check the weight and cluster columns; one-line errors name the column, row and value."""
    if not sampling_weights and not cluster:
        return None
    if normalization not in NORMALIZATIONS:
        raise SurveyInputError(
            f"sampling_weights_normalization must be one of {', '.join(NORMALIZATIONS)}",
            value=normalization, field="sampling_weights_normalization",
        )
    out = Design(normalization=normalization)
    if sampling_weights:
        if sampling_weights not in data.columns:
            raise SurveyInputError("sampling weight column not found in the data", column=sampling_weights,
                                   field="sampling_weights")
        col = data[sampling_weights]
        num = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_numeric_dtype(col) else col
        num = num.astype(float)
        bad = col.notna().to_numpy() & num.isna().to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise SurveyInputError("sampling weight is not a number", row=pos + 1,
                                   column=sampling_weights, value=str(col.iloc[pos]),
                                   field="sampling_weights")
        w = num.to_numpy(dtype=float)
        checks = ((np.isnan(w), "sampling weight is missing (lavaan refuses missing weights)"),
                  (np.isinf(w), "sampling weight is infinite"),
                  (w < 0, "sampling weight is negative"))
        for mask, message in checks:
            if mask.any():
                pos = int(np.flatnonzero(mask)[0])
                raise SurveyInputError(message, row=pos + 1, column=sampling_weights,
                                       value=None if np.isnan(w[pos]) else float(w[pos]),
                                       field="sampling_weights")
        if not (w > 0).any():
            raise SurveyInputError("every sampling weight is zero", column=sampling_weights,
                                   field="sampling_weights")
        out.weights = w
    if cluster:
        if cluster not in data.columns:
            raise SurveyInputError("cluster column not found in the data", column=cluster, field="cluster")
        col = data[cluster]
        if col.isna().any():
            pos = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise SurveyInputError("cluster value is missing", row=pos + 1, column=cluster,
                                   field="cluster")
        out.cluster = pd.factorize(col)[0].astype(int)
    return out


def cluster_sum(scores: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Scores summed within clusters, times sqrt(C/(C-1)) (lavaan's small-sample factor); rows unchanged
    without clusters."""
    if codes is None:
        return scores
    labels, inverse = np.unique(codes, return_inverse=True)
    c = labels.size
    if c < 2:
        raise SurveyInputError("cluster-robust standard errors need at least two clusters", field="cluster")
    out = np.zeros((c, scores.shape[1]))
    np.add.at(out, inverse, scores)
    return out * np.sqrt(c / (c - 1.0))


def _snap(n: float) -> int | float:
    """Sums of normalised weights that equal an integer up to rounding are that integer."""
    r = round(n)
    return int(r) if abs(n - r) < 1e-9 * max(1.0, abs(n)) else float(n)


@dataclass
class WeightedBlock(CompleteBlock):
    """Complete-data (listwise) block with sampling weights and/or clusters: weighted moments (divisor
    sum w) and weighted, cluster-summed casewise scores."""

    wt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cluster: np.ndarray | None = None
    n_rows: int = 0

    def case_scores(self, sigma: np.ndarray, mu: np.ndarray | None, meanstructure: bool) -> np.ndarray:
        sc = h1_scores(self.raw, sigma, self.mean if mu is None else mu, meanstructure) * self.wt[:, None]
        return cluster_sum(sc, self.cluster)

    def h1_information(self, meanstructure: bool) -> tuple[np.ndarray, np.ndarray]:
        a1 = h1_information(self.cov, meanstructure)
        s1 = self.case_scores(self.cov, self.mean, meanstructure)
        return a1, s1.T @ s1 / self.n

    def column_moments(self, j: int) -> tuple[float, float]:
        """Weighted mean and variance (divisor sum w) of variable j (the independence model's ML)."""
        return float(self.mean[j]), float(self.cov[j, j])


@dataclass
class WeightedMissingData(MissingData):
    """Missing-data patterns whose frequencies, sums and cross-products are weighted."""

    wt: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> float:
        return float(self.wt.sum())


@dataclass
class WeightedMissingBlock(MissingBlock):
    """FIML block with sampling weights and/or clusters."""

    cluster: np.ndarray | None = None
    n_rows: int = 0

    def case_scores(self, sigma: np.ndarray, mu: np.ndarray, meanstructure: bool = True) -> np.ndarray:
        md = self.md  # the rows' own scores (a plain view: N rows, not the weight sum), then weighted
        rows = MissingData(md.x, md.p, md.batches, md.n_patterns, md.n_dropped, md.coverage)
        return cluster_sum(h1_case_scores(rows, sigma, mu) * md.wt[:, None], self.cluster)

    def h1_information(self, meanstructure: bool = True) -> tuple[np.ndarray, np.ndarray]:
        a1 = h1_observed_information(self.md, self.cov, self.mean) / self.n
        s1 = self.case_scores(self.cov, self.mean)
        return a1, s1.T @ s1 / self.n

    def column_moments(self, j: int) -> tuple[float, float]:
        col = self.md.x[:, j]
        seen = np.isfinite(col)
        w, y = self.md.wt[seen], col[seen]
        m = float(np.sum(w * y) / w.sum())
        return m, float(np.sum(w * (y - m) ** 2) / w.sum())


def weighted_patterns(x: np.ndarray, w: np.ndarray) -> WeightedMissingData:
    """:func:`survey.sem.data.missing.missing_patterns` with weighted pattern statistics (rows with every
    value missing dropped, their weights with them)."""
    md = missing_patterns(x)
    keep = np.isfinite(np.asarray(x, dtype=float)).any(axis=1)
    wk = w[keep]
    batches = []
    for b in md.batches:
        n = np.array([wk[c].sum() for c in b.cases], dtype=float)
        sums = np.zeros_like(b.sums)
        cross = np.zeros_like(b.cross)
        for j, (c, o) in enumerate(zip(b.cases, b.obs, strict=True)):
            y = md.x[np.ix_(c, o)]
            wy = y * wk[c][:, None]
            sums[j] = wy.sum(axis=0)
            cross[j] = y.T @ wy
        batches.append(Batch(b.obs, b.mis, n, sums, cross, b.cases))
    return WeightedMissingData(md.x, md.p, batches, md.n_patterns, md.n_dropped, md.coverage, wt=wk)


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = w.sum()
    mean = (w[:, None] * x).sum(axis=0) / total
    c = x - mean
    return mean, (c * w[:, None]).T @ c / total


def weighted_blocks(
    parts: list[tuple[str, np.ndarray, np.ndarray]],
    design: Design,
    names: list[str],
    x_index: list[int],
    kind: str,
    warnings: list[SurveyWarning],
):
    """One weighted/clustered block per (label, x, rows) part (rows: positions in the data)."""
    rows_used = []
    for label, x, rows in parts:
        keep = np.ones(x.shape[0], dtype=bool)
        where = f" in group {label}" if label else ""
        if kind == "listwise":
            keep = ~np.isnan(x).any(axis=1)
        else:
            if kind == "ml" and x_index:
                bad = np.isnan(x[:, x_index]).any(axis=1)
                if bad.any():
                    warnings.append(SurveyWarning(
                        "missing_x", f"{int(bad.sum())} case(s){where} were deleted due to missing values in "
                        "exogenous variable(s), while fixed.x = TRUE (lavaan's default; 'ml.x' keeps them)",
                        "sem"))
                keep &= ~bad
        rows_used.append((label, x[keep], rows[keep]))
    w_all = design.weights if design.weights is not None else None
    raw_w = [np.ones(r.size) if w_all is None else w_all[r] for _, _, r in rows_used]
    for (label, _, _), w in zip(rows_used, raw_w, strict=True):
        if not (w > 0).any():
            where = f" in group {label!r}" if label else " of the rows used"
            raise SurveyInputError(f"every sampling weight{where} is zero", field="sampling_weights")
    n_kept = [int(np.isfinite(x).any(axis=1).sum()) for _, x, _ in rows_used]
    if design.normalization == "total":
        scale = sum(n_kept) / sum(float(w.sum()) for w in raw_w)
        raw_w = [w * scale for w in raw_w]
    elif design.normalization == "group":
        raw_w = [w * (n / w.sum()) if w.sum() > 0 else w for w, n in zip(raw_w, n_kept, strict=True)]
    blocks = []
    for (label, x, rows), w in zip(rows_used, raw_w, strict=True):
        cl = None if design.cluster is None else design.cluster[rows]
        where = f" in group {label!r}" if label else ""
        if kind == "listwise":
            if x.shape[0] < 2:
                raise SurveyInputError(f"only {x.shape[0]} complete case(s) left{where} after listwise "
                                       "deletion", field="data")
            check_cases(x[w > 0], list(names), label=label)
            mean, cov = _weighted_moments(x, w)
            blocks.append(WeightedBlock(label, _snap(w.sum()), cov, mean, x, names=list(names),
                                        x_index=list(x_index), wt=w, cluster=cl, n_rows=int(x.shape[0])))
            continue
        md = weighted_patterns(x, w)
        if md.n_dropped:
            warnings.append(SurveyWarning(
                "all_missing", f"{md.n_dropped} case(s){where} with every model variable missing were "
                "dropped.",
                "sem"))
        keep = np.isfinite(x).any(axis=1)
        if cl is not None:
            cl = cl[keep]
        check_cases(md.x, list(names), label=label, what="cases with observed values")
        if np.any(md.coverage == 0):
            raise SurveyInputError(f"some pairs of variables are never observed together{where} (zero "
                                   "covariance coverage)", field="data")
        mean, cov, _ = em_saturated(md)
        block = WeightedMissingBlock(label, _snap(md.n), cov, mean, md.x, names=list(names),
                                     x_index=list(x_index) if kind == "ml" else [], md=md, cluster=cl,
                                     n_rows=int(md.x.shape[0]))
        block.em_logl = float(loglik(md, cov, mean))
        blocks.append(block)
    return blocks
