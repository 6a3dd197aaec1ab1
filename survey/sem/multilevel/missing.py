"""Two-level full-information ML with incomplete rows (lavaan 0.6.14 ``missing = "ml"`` with ``level:``
blocks, ``lav_mvnorm_cluster_missing_loglik_samplestats_2l``): the exact normal loglik of every cluster's
observed values. Cluster j stacks its observed between-only values z_j and each row's observed level-1
values y_ij[o_i]; with u_j the cluster effect and e_ij the within deviation,

    Cov(y_ij[a], y_kj[b]) = Sigma_B[a, b] + [i = k] Sigma_W[a, b],  Cov(z_j, y_ij[a]) = Sigma_zy[:, a],
    Cov(z_j) = Sigma_zz,  E y_ij = mu_y,  E z_j = mu_z

(McDonald & Goldstein 1989; Rosseel 2021), so -2 logl_j = log|V_j| + d_j' V_j^-1 d_j + dim_j log 2 pi.
Clusters without a missing value go through the cluster-size blocks of :mod:`.loglik` (the same value);
the others through their dense V_j, grouped by dimension and missing pattern and
vectorised (:mod:`.missing_batch`). lavaan's h1 is the unrestricted two-level model fitted by the same
FIML (``lav_h1_implied_logl``: ``lav_partable_unrestricted_chol``, nlminb): :func:`fit_saturated_missing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.multilevel.loglik import Moments, minus2_logl, moment_gradient
from survey.sem.multilevel.missing_batch import build_batches, gradient_batches, minus2_logl_batches
from survey.sem.multilevel.missing_woodbury import RowLayout, build_rows, gradient_rows, minus2_logl_rows
from survey.sem.multilevel.stats import ClusterStats, cluster_stats


@dataclass
class _Cluster:
    """One incomplete cluster: observed z (index, value), observed y (row number, index, value)."""

    z_idx: np.ndarray
    z_val: np.ndarray
    row: np.ndarray
    y_idx: np.ndarray
    y_val: np.ndarray


@dataclass
class MissingStats(ClusterStats):
    """Two-level data with missing values: ``n``/``nclusters`` count every used row/cluster; the other
    ClusterStats fields are those of the complete rows (start values only); ``complete`` = the clusters
    without a missing value, ``parts`` = the others."""

    complete: ClusterStats | None = None
    parts: list = field(default_factory=list)
    n_values: int = 0  # observed values (level-1 values of the rows, between-only values of the clusters)
    _batches: object = field(default=None, repr=False)  # the parts' layout (lazily)

    def _batched(self):
        """Without between-only variables the Woodbury row layout (:mod:`.missing_woodbury`), else the
        pattern batches (:mod:`.missing_batch`)."""
        if self._batches is None:
            self._batches = (build_rows(self.parts, len(self.y)) if not self.z
                             else build_batches(self.parts, len(self.z)))
        return self._batches

    def minus2_logl(self, m: Moments) -> float:
        out = 0.0 if self.complete is None else minus2_logl(m, self.complete)
        if not np.isfinite(out):
            return np.inf
        lay = self._batched()
        if isinstance(lay, RowLayout):
            return float(out + minus2_logl_rows(m, lay))
        return float(out + minus2_logl_batches(m, lay))

    def moment_gradient(self, m: Moments) -> Moments:
        py, pz = m.sw.shape[0], m.szz.shape[0]
        if self.complete is not None:
            g = moment_gradient(m, self.complete)
            gw, gb, gzz, gyz, gmz, gmy = g.sw, g.sb, g.szz, g.syz, g.mu_z, g.mu_y
        else:
            gw, gb, gzz = np.zeros((py, py)), np.zeros((py, py)), np.zeros((pz, pz))
            gyz, gmz, gmy = np.zeros((py, pz)), np.zeros(pz), np.zeros(py)
        lay = self._batched() if self.parts else None
        if isinstance(lay, RowLayout):
            rw, rb, rmu = gradient_rows(m, lay)
            return Moments(gw + rw, gb + rb, gzz, gyz, gmz, gmy + rmu)
        if lay is not None:
            bb, ww, mu = gradient_batches(m, lay)
            gzz = gzz + bb[:pz, :pz]
            gb = gb + bb[pz:, pz:]
            gw = gw + ww[pz:, pz:]
            gyz = gyz + bb[pz:, :pz] + bb[:pz, pz:].T
            gmz = gmz + mu[:pz]
            gmy = gmy + mu[pz:]
        return Moments(gw, gb, gzz, gyz, gmz, gmy)


def missing_stats(data: pd.DataFrame, cluster: str, y: list[str], z: list[str]) -> tuple[MissingStats, int]:
    """The FIML statistics; also the number of rows dropped (every level-1 variable missing: lavaan drops
    these empty cases, 0.6.14 checked). A between-only value
    is its cluster's (mean of the non-missing rows)."""
    listwise, _ = cluster_stats(data, cluster, y, z)  # validates the columns; complete rows for the starts
    cols = list(y) + [v for v in z if v not in y]
    frame = data[cols + [cluster]]
    if frame[cluster].isna().any():
        row = int(np.flatnonzero(frame[cluster].isna().to_numpy())[0])
        raise SurveyInputError("missing cluster id", column=cluster, row=row + 1, field="data")
    keep = frame[list(y)].notna().any(axis=1).to_numpy()  # lavaan: rows with no level-1 value are empty
    frame = frame[keep]
    codes, uniques = pd.factorize(frame[cluster], sort=False)
    x = frame[cols].to_numpy(dtype=float)
    ymat = x[:, [cols.index(v) for v in y]]
    zmat = x[:, [cols.index(v) for v in z]]
    complete_cluster = np.ones(len(uniques), dtype=bool)
    np.logical_and.at(complete_cluster, codes, ~np.isnan(x).any(axis=1))
    parts = []
    for j in np.flatnonzero(~complete_cluster):
        rows = np.flatnonzero(codes == j)
        zj = np.array([np.nanmean(zmat[rows, c]) if np.isfinite(zmat[rows, c]).any() else np.nan
                       for c in range(len(z))])
        obs = ~np.isnan(ymat[rows])
        r, a = np.nonzero(obs)
        zi = np.flatnonzero(np.isfinite(zj))
        parts.append(_Cluster(zi, zj[zi], r, a, ymat[rows][r, a]))
    complete = None
    if complete_cluster.any():
        sub = frame[np.isin(codes, np.flatnonzero(complete_cluster))]
        try:
            complete, _ = cluster_stats(sub, cluster, y, z)
        except SurveyInputError:  # < 2 complete clusters or no within variation there: all dense
            complete = None
            parts = _dense_all(ymat, zmat, codes, len(uniques), z)
    base = {f.name: getattr(listwise, f.name) for f in fields(ClusterStats)}
    base.update(n=int(len(frame)), nclusters=int(len(uniques)))
    zsum = pd.DataFrame(zmat).groupby(codes).count().to_numpy() > 0 if z else np.zeros((0, 0))
    n_values = int(np.isfinite(ymat).sum() + zsum.sum())
    return MissingStats(**base, complete=complete, parts=parts, n_values=n_values), int((~keep).sum())


def _dense_all(ymat, zmat, codes, jn, z) -> list[_Cluster]:
    out = []
    for j in range(jn):
        rows = np.flatnonzero(codes == j)
        zj = np.array([np.nanmean(zmat[rows, c]) if np.isfinite(zmat[rows, c]).any() else np.nan
                       for c in range(len(z))])
        r, a = np.nonzero(~np.isnan(ymat[rows]))
        zi = np.flatnonzero(np.isfinite(zj))
        out.append(_Cluster(zi, zj[zi], r, a, ymat[rows][r, a]))
    return out


def fit_saturated_missing(ms: MissingStats, y_both: np.ndarray):
    """lavaan's h1 with missing values: every within/between covariance and mean free, fitted by FIML
    (from the complete-row EM h1); returns a :class:`survey.sem.multilevel.h1.Saturated`."""
    from survey.sem.multilevel.estimate import estimate
    from survey.sem.multilevel.h1 import Saturated, SaturatedModel, fit_saturated

    listwise = ClusterStats(**{f.name: getattr(ms, f.name) for f in fields(ClusterStats)})
    listwise.n = int(listwise.cluster_size.sum())
    listwise.nclusters = int(listwise.cluster_size.size)
    start = fit_saturated(listwise, y_both)
    model = SaturatedModel(ms, y_both)
    res = estimate(model, theta0=model.pack(start.moments))
    return Saturated(model.moments(res.theta), res.minus2, model.npar, res.converged)
