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
    rows = list(
        zip(pt["lhs"], pt["op"], pt["rhs"], pt["free"].astype(int), pt["ustart"].astype(float), strict=True)
    )
    cov = stats.cov
    idx = {v: i for i, v in enumerate(model.ov)}
    theta = np.full(model.npar, np.nan)
    lv_var: dict[str, float] = {}
    for lv in model.lv:
        loadings = [r for r in rows if r[1] == "=~" and r[0] == lv]
        ov_inds = [r[2] for r in loadings if r[2] in idx]
        fixed = [r for r in loadings if r[3] == 0 and r[2] in idx and r[4] != 0]
        if fixed:
            marker, scale = fixed[0][2], fixed[0][4]
            others = [v for v in ov_inds if v != marker]
            phi = _marker_variance(cov, idx, marker, others) / scale**2
        else:  # no marker (e.g. NA* with a fixed latent variance): loadings at sqrt(s_ii / 2)
            marker, scale, phi = "", 1.0, 1.0
        lv_var[lv] = phi
        for _, _, rhs, free, _ in loadings:
            if free == 0 or not np.isnan(theta[free - 1]):
                continue
            if rhs in idx and marker:
                theta[free - 1] = cov[idx[rhs], idx[marker]] / (phi * scale)
            elif rhs in idx:
                theta[free - 1] = np.sqrt(max(0.5 * cov[idx[rhs], idx[rhs]], 1e-3))
            else:
                theta[free - 1] = 1.0
    endogenous = {r[0] for r in rows if r[1] == "~"}
    for lhs, op, rhs, free, _ in rows:
        if free == 0 or not np.isnan(theta[free - 1]):
            continue
        k = free - 1
        if op == "~~" and lhs == rhs:
            if lhs in idx:
                theta[k] = 0.5 * cov[idx[lhs], idx[lhs]]
            else:
                phi = lv_var.get(lhs, 1.0)
                theta[k] = 0.5 * phi if lhs in endogenous else phi
        elif op == "~1":
            theta[k] = stats.mean[idx[lhs]] if lhs in idx else 0.0
        else:
            theta[k] = 0.0
    theta[np.isnan(theta)] = 0.0
    return theta
