"""Modification indices after threshold formulas with labels or fixed values (lavaan 0.6.14 ``modindices()``,
one group of ordered items, delta parameterization).

As :mod:`survey.sem.ordinal.modindices` (Sorbom 1989): with D = [D_f, D_e] the Jacobian of the statistics in
the free parameters and the candidates, W the estimator's weight, r = s - m(theta),

    I = D' W D,   V = I_ee - I_ef I_ff^-1 I_fe,   score_e = (N - 1) / N D_e' W r,
    mi = N score_e^2 / diag(V),   epc = score_e / diag(V).

The free part is the tied one, D_f = Delta K (theta = K theta_free + c, :mod:`threshold_syntax`): lavaan's
information under its equality constraints, ``K (K' I K)^-1 K'`` (its augmented inverse). lavaan scores every
fixed row of its full table and drops those whose diag(V) falls below eps^(1/3) (not identified); the ties and
fixed values identify more of them than in a model without threshold formulas: the fixed thresholds (column 1
at tau*_ik), the items' intercepts ``~1`` (d tau*_ik / d nu_i = -1), the factors' means
(d tau*_ik / d alpha_f = -[(I - B)^-1]_if, the total effect of f on y*_i) and the scale factors ``~*~``
(d tau*_ik / d Delta_i = tau_ik - mu_i, d rho_ij / d Delta_i = rho_ij), besides the loadings and residual
covariances of the model without them. sepc: a threshold's, an intercept's EPC as is; a factor mean's over the
factor's SD; a scale factor's ``sepc.all`` is sign(epc) (lavaan). The theta parameterization scores the
items' fixed residual variances too (its sepc not reproduced yet): refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.estimates import estimates_table
from survey.sem.ordinal.modindices import COLUMNS, _candidates, total_sd_lv
from survey.sem.ordinal.objective import OrdinalStructure, weight_matrix, weighted


def tied_modification_indices(fit) -> pd.DataFrame:
    """``modindices(fit)`` of a one-group fit with threshold formulas (module docstring)."""
    st: OrdinalStructure = fit.structure
    tie = fit.threshold_tie
    if st.parameterization != "delta":
        raise SurveyInputError("modindices() after threshold formulas (item | t1) with labels or fixed "
                               "values and parameterization='theta' is not available yet (available: delta)",
                               field="parameterization")
    ram, pt = st.ram, st.ram.partable
    n_ram, nth = st.npar_ram, st.nth
    theta = np.asarray(fit.theta, dtype=float)  # the full vector [RAM, thresholds]
    t_ram = theta[:n_ram]
    cands = _candidates(pt[pt["op"] != ":="], list(ram.ov), list(ram.lv))
    top = int(pt["free"].max())
    extra = pd.DataFrame([dict(id=int(pt["id"].max()) + k + 1, lhs=a, op=op, rhs=b, user=10, block=1, group=1,
                               free=top + k + 1, ustart=np.nan, exo=0, label="", plabel="")
                          for k, (a, op, b) in enumerate(cands)], columns=pt.columns)
    ext = OrdinalStructure(pd.concat([pt, extra], ignore_index=True), st.nth_per, "delta", st.numeric)
    theta_x = np.concatenate([t_ram, np.zeros(len(cands)), theta[n_ram:]])
    d_ram = ext.jacobian(theta_x)[:, n_ram : n_ram + len(cands)]
    d_free = st.jacobian(theta) @ tie.K
    stats = st.moments(theta).stats
    th_var = np.asarray(st.th_var, dtype=int)  # the item of each threshold statistic
    ov, lv = list(ram.ov), list(ram.lv)
    p = len(ov)
    cols, rows = [], []
    for q in sorted(f - n_ram for f in tie.fixed):  # fixed thresholds
        col = np.zeros(stats.size)
        col[q] = 1.0
        cols.append(col)
        rows.append((ov[th_var[q]], "|", f"t{q - int(np.sum(th_var < th_var[q])) + 1}"))
    for i, v in enumerate(ov):  # scale factors: the statistic over Delta_i (1)
        col = np.zeros(stats.size)
        col[:nth][th_var == i] = stats[:nth][th_var == i]
        pair = nth + np.flatnonzero((st.ii == i) | (st.jj == i))
        col[pair] = stats[pair]
        cols.append(col)
        rows.append((v, "~*~", v))
    a, _, _ = ram.matrices(t_ram)
    total = np.linalg.inv(np.eye(ram.nvar) - a)
    for k, v in enumerate(ov + lv):  # intercepts and factor means: d tau* = -d mu
        pos = ram.index[v]
        col = np.zeros(stats.size)
        col[:nth] = -total[th_var, pos] if k >= p else -(th_var == k).astype(float)
        cols.append(col)
        rows.append((v, "~1", ""))
    delta = np.hstack([d_free, np.column_stack(cols), d_ram])
    cands = rows + cands
    weight = weight_matrix(fit.sample.gamma, {"WLS": "WLS", "ULSMV": "ULS", "ULSM": "ULS", "ULS": "ULS"}.get(
        fit.estimator, "DWLS"))
    resid = fit.sample.wls_obs - stats
    info = delta.T @ weighted(weight, delta)
    f = np.arange(d_free.shape[1])
    e = d_free.shape[1] + np.arange(len(cands))
    schur = info[np.ix_(e, e)] - info[np.ix_(e, f)] @ np.linalg.solve(info[np.ix_(f, f)], info[np.ix_(f, e)])
    v_ee = np.diag(schur)
    n = fit.nobs
    score = (n - 1) / n * (delta[:, e].T @ weighted(weight, resid[:, None])[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        v_ee = np.where(v_ee < np.finfo(float).eps ** (1 / 3), np.nan, v_ee)
        mi = n * score**2 / v_ee
        epc = score / v_ee
    table = estimates_table(st, theta, fit.vcov_matrix, fit.sample, defined=False)
    sd_lv = total_sd_lv(table, list(ram.lv))
    theta_ii = {r.lhs: r.est for r in table.itertuples() if r.op == "~~" and r.lhs == r.rhs and r.lhs in ov}
    out = []
    for (lhs, op, rhs), m, d in zip(cands, mi, epc, strict=True):
        if op == "~*~":
            lv_, all_ = d, np.sign(d)
        elif op == "~1" and lhs in sd_lv:
            lv_ = all_ = d / sd_lv[lhs]
        elif op == "=~":
            lv_ = all_ = d * sd_lv.get(lhs, 1.0)
        elif op == "~~":  # lavaan's cov.std for sepc.all, as modindices
            lv_, all_ = d, d / np.sqrt(theta_ii[lhs] * theta_ii[rhs])
        else:  # thresholds and intercepts (the latent responses' SD is 1)
            lv_ = all_ = d
        out.append(dict(lhs=lhs, op=op, rhs=rhs, mi=float(m), epc=float(d), **{"sepc.lv": float(lv_),
                                                                                "sepc.all": float(all_)}))
    frame = pd.DataFrame(out, columns=COLUMNS)
    return frame[frame["mi"].notna()].reset_index(drop=True)
