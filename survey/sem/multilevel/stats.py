"""Sample statistics of two-level data (lavaan ``lav_samplestats_cluster_patterns``): the pooled
within-cluster covariance S_PW of the level-1 variables (divisor N - J), and per cluster size n the
number of clusters, the mean and the covariance (divisor = that number) of the cluster means of
(between-only z, level-1 y), in that order; plus the fixed.x moments lavaan uses per level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError


@dataclass
class ClusterStats:
    """Two-level sample statistics; ``y`` = level-1 variables (within-only and both), ``z`` = between-only."""

    y: list[str]
    z: list[str]
    n: int  # observations
    nclusters: int
    s_pw: np.ndarray  # p_y x p_y, divisor N - J
    sizes: np.ndarray  # distinct cluster sizes
    counts: np.ndarray  # clusters of each size
    mean_d: list[np.ndarray]  # (z, y) cluster means, mean over the clusters of that size
    cov_d: list[np.ndarray]  # their covariance (divisor = count)
    cluster_size: np.ndarray  # size of each cluster (J)
    ybar: np.ndarray  # J x (p_z + p_y) cluster means (z, y)
    cluster_index: np.ndarray  # N: cluster number (0..J-1) of each row
    yc: np.ndarray  # N x p_y, y minus its cluster mean
    total_cov: np.ndarray  # p_y x p_y, divisor N (lavaan's fixed.x values of within-only covariates)
    total_mean: np.ndarray  # p_y
    between_cov: np.ndarray  # p_z x p_z of the cluster values, divisor J
    between_mean: np.ndarray  # p_z
    y1y1: np.ndarray  # p_y x p_y, sum over rows of y y' (raw, for lavaan's EM)

    @property
    def p_y(self) -> int:
        return len(self.y)

    @property
    def p_z(self) -> int:
        return len(self.z)


def cluster_stats(data: pd.DataFrame, cluster: str, y: list[str], z: list[str]) -> tuple[ClusterStats, int]:
    """Statistics of the complete rows (lavaan's listwise default); also the number of rows dropped."""
    if cluster not in data.columns:
        raise SurveyInputError(f"cluster column {cluster!r} is not in the data", field="cluster",
                               value=cluster)
    cols = list(y) + [v for v in z if v not in y]
    missing = [v for v in cols if v not in data.columns]
    if missing:
        raise SurveyInputError(f"model variable {missing[0]!r} is not a column of the data",
                               field="model", value=missing[0])
    frame = data[cols + [cluster]]
    for v in cols:
        if not pd.api.types.is_numeric_dtype(frame[v]):
            raise SurveyInputError(f"column {v!r} is not numeric", field=v, value=str(frame[v].dtype))
    keep = frame.notna().all(axis=1).to_numpy()
    frame = frame[keep]
    if len(frame) == 0:
        raise SurveyInputError("no complete row for the two-level model", field="data")
    codes, uniques = pd.factorize(frame[cluster], sort=False)  # clusters in order of appearance
    jn = len(uniques)
    if jn < 2:
        raise SurveyInputError("a two-level model needs at least two clusters", field="cluster", value=jn)
    x = frame[cols].to_numpy(dtype=float)
    size = np.bincount(codes, minlength=jn).astype(float)
    sums = np.zeros((jn, x.shape[1]))
    np.add.at(sums, codes, x)
    means = sums / size[:, None]
    yi = [cols.index(v) for v in y]
    zi = [cols.index(v) for v in z]
    for v, k in zip(z, zi, strict=True):  # lavaan 0.6.14 (lav_data_full) refuses these too
        dev = np.abs(x[:, k] - means[codes, k])
        bad = np.flatnonzero(dev > 1e-8 * max(1.0, float(np.abs(x[:, k]).max())))
        if bad.size:
            row = int(np.flatnonzero(keep)[bad[0]])
            raise SurveyInputError(f"the between-level (only) variable {v!r} varies within cluster "
                                   f"{uniques[codes[bad[0]]]} (lavaan: some between-level (only) variables "
                                   "have non-zero variance at the within-level)", column=v,
                                   row=row + 1, field="data")
    yc = x[:, yi] - means[codes][:, yi]
    n = x.shape[0]
    if n - jn <= 0:
        raise SurveyInputError("every cluster has one member: no within-cluster variation", field="cluster")
    s_pw = yc.T @ yc / (n - jn)
    zy = means[:, zi + yi]
    sizes = np.unique(size)
    counts, mean_d, cov_d = [], [], []
    for nj in sizes:
        block = zy[size == nj]
        counts.append(len(block))
        m = block.mean(axis=0)
        dev = block - m
        mean_d.append(m)
        cov_d.append(dev.T @ dev / len(block))
    xy = x[:, yi]
    tm = xy.mean(axis=0)
    tc = (xy - tm).T @ (xy - tm) / n
    zv = means[:, zi]
    bm = zv.mean(axis=0)
    bc = (zv - bm).T @ (zv - bm) / jn
    stats = ClusterStats(list(y), list(z), n, jn, s_pw, sizes, np.array(counts, dtype=float), mean_d, cov_d,
                         size, zy, codes, yc, tc, tm, bc, bm, xy.T @ xy)
    return stats, int((~keep).sum())
