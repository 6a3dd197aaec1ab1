"""Starting values, lavaan-like (``lav_start``, start="default").

- residual variances of observed variables: half the sample variance (lavaan's default);
- free loadings: s_im / phi_f with m the marker indicator and phi_f the marker's common variance,
  estimated from indicator triads as median_{j<k} s_mj s_mk / s_jk (the FABIN idea, Hagglund 1982);
- latent variances: phi_f (exogenous) or phi_f / 2 (residual variances of dependent factors);
- regressions and covariances 0; fixed.x moments and user-fixed values at their values;
- intercepts at the sample means, latent means 0.
"""

from __future__ import annotations

import numpy as np

from survey.sem.data import GroupStats
from survey.sem.model import RAMModel


def _marker_variance(cov: np.ndarray, idx: dict[str, int], marker: str, others: list[str]) -> float:
    m = idx[marker]
    s_mm = cov[m, m]
    vals = []
    for a in range(len(others)):
        for b in range(a + 1, len(others)):
            j, k = idx[others[a]], idx[others[b]]
            if abs(cov[j, k]) > 1e-12:
                vals.append(cov[m, j] * cov[m, k] / cov[j, k])
    if not vals and others:
        vals = [abs(cov[m, idx[others[0]]])]
    phi = float(np.median(vals)) if vals else 0.5 * s_mm
    if not np.isfinite(phi) or phi <= 0.05 * s_mm or phi >= s_mm:
        phi = 0.5 * s_mm
    return phi


def start_values(model: RAMModel, stats: GroupStats) -> np.ndarray:
    """Vector of starting values of the free parameters (length ``model.npar``)."""
    pt = model.partable
    cov = stats.cov
    idx = {v: i for i, v in enumerate(model.ov)}
    theta = np.full(model.npar, np.nan)
    lv_var: dict[str, float] = {}
    lv_scale: dict[str, float] = {}
    loadings = pt[pt["op"] == "=~"]
    for lv in model.lv:
        rows = loadings[loadings["lhs"] == lv]
        ov_inds = [r for r in rows["rhs"] if r in idx]
        fixed = rows[(rows["free"] == 0) & rows["rhs"].isin(ov_inds)]
        if len(fixed) and fixed["ustart"].iloc[0] != 0:
            marker = fixed["rhs"].iloc[0]
            scale = float(fixed["ustart"].iloc[0])
            others = [r for r in ov_inds if r != marker]
            phi = _marker_variance(cov, idx, marker, others) / scale**2
        elif ov_inds:
            marker, scale = ov_inds[0], 1.0
            phi = 1.0
        else:
            marker, scale, phi = "", 1.0, 1.0
        lv_var[lv] = phi
        lv_scale[lv] = scale
        for r in rows.itertuples(index=False):
            if r.free == 0:
                continue
            if r.rhs in idx and marker:
                if np.isclose(phi, 1.0) and (fixed.empty):
                    value = np.sqrt(max(0.5 * cov[idx[r.rhs], idx[r.rhs]], 1e-3))
                else:
                    value = cov[idx[r.rhs], idx[marker]] / (phi * scale)
            else:
                value = 1.0
            if np.isnan(theta[r.free - 1]):
                theta[r.free - 1] = value
    endogenous = set(pt.loc[pt["op"] == "~", "lhs"])
    for r in pt.itertuples(index=False):
        if r.free == 0 or not np.isnan(theta[r.free - 1]):
            continue
        k = r.free - 1
        if r.op == "~~" and r.lhs == r.rhs:
            if r.lhs in idx:
                theta[k] = 0.5 * cov[idx[r.lhs], idx[r.lhs]]
            else:
                phi = lv_var.get(r.lhs, 1.0)
                theta[k] = 0.5 * phi if r.lhs in endogenous else phi
        elif r.op == "~1":
            theta[k] = stats.mean[idx[r.lhs]] if r.lhs in idx else 0.0
        else:
            theta[k] = 0.0
    theta[np.isnan(theta)] = 0.0
    return theta
