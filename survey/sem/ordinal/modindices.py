"""Modification indices of a single-group ordinal fit (lavaan 0.6.14 ``modindices()`` for DWLS / ULS / WLS).

lavaan extends the model by every parameter fixed to zero (``lav_partable_full``; for a model with ordered
items: the loadings of every indicator on every factor not in the model, and the residual covariances of
every pair of observed variables), evaluates the extended model at the estimates (extra parameters 0), and
with Delta_x the extended Jacobian of the statistics, W the estimator's weight and r = s - m(theta):

    I = Delta_x' W Delta_x (the expected unit information),  V = I_ee - I_ef I_ff^-1 I_fe,
    score_e = (N - 1) / N Delta_e' W r,   mi = N score_e^2 / diag(V),   epc = score_e / diag(V),

(Sorbom 1989, Psychometrika 54; lavaan ``modindices``: ``mi = N score^2 / V``, ``epc = mi / (-N score)``
with its score the gradient of ``F / 2``, of the opposite sign). ``sepc.lv`` scales a loading's EPC by the
factor's SD, ``sepc.all`` also by the item's (1 for an ordered item's latent response); a residual
covariance's EPC is divided by ``sqrt(theta_ii theta_jj)`` (lavaan's ``cov.std = TRUE``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.estimates import estimates_table
from survey.sem.ordinal.objective import OrdinalStructure, weight_matrix, weighted

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"]


def _candidates(pt: pd.DataFrame, ov: list[str], lv: list[str]) -> list[tuple[str, str, str]]:
    have = {(r.lhs, r.op, r.rhs) for r in pt.itertuples(index=False)}
    have |= {(r.rhs, r.op, r.lhs) for r in pt.itertuples(index=False) if r.op == "~~"}
    out = [(f, "=~", v) for f in lv for v in ov if (f, "=~", v) not in have]
    out += [(a, "~~", b) for i, a in enumerate(ov) for b in ov[i + 1:] if (a, "~~", b) not in have]
    return out


def modification_indices(fit) -> pd.DataFrame:
    """``modindices(fit)`` of an :class:`~survey.sem.ordinal.fit.OrdinalFit` (module docstring)."""
    structure: OrdinalStructure = fit.structure
    if structure is None or structure.mixed:
        raise SurveyInputError("modification indices are available for models of ordered items only "
                               "(not with continuous variables among them) yet", field="modindices")
    pt = structure.ram.partable
    ram = structure.ram
    cands = _candidates(pt[pt["op"] != ":="], list(ram.ov), list(ram.lv))
    if not cands:
        return pd.DataFrame(columns=COLUMNS)
    top = int(pt["free"].max())
    extra = pd.DataFrame([dict(id=int(pt["id"].max()) + k + 1, lhs=a, op=op, rhs=b, user=10, block=1, group=1,
                               free=top + k + 1, ustart=np.nan, exo=0, label="", plabel="")
                          for k, (a, op, b) in enumerate(cands)], columns=pt.columns)
    ext = OrdinalStructure(pd.concat([pt, extra], ignore_index=True), structure.nth_per,
                           structure.parameterization, structure.numeric)
    n_ram = structure.npar_ram
    t_ram, tau = fit.theta[:n_ram], fit.theta[n_ram:]
    theta_x = np.concatenate([t_ram, np.zeros(len(cands)), tau])
    delta = ext.jacobian(theta_x)
    weight = weight_matrix(fit.sample.gamma, {"WLS": "WLS", "ULSMV": "ULS", "ULSM": "ULS"}.get(fit.estimator,
                                                                                               "DWLS"))
    resid = fit.sample.wls_obs - ext.moments(theta_x).stats
    info = delta.T @ weighted(weight, delta)
    e = n_ram + np.arange(len(cands))
    f = np.setdiff1d(np.arange(delta.shape[1]), e)
    schur = info[np.ix_(e, e)] - info[np.ix_(e, f)] @ np.linalg.solve(info[np.ix_(f, f)], info[np.ix_(f, e)])
    v = np.diag(schur)
    n = fit.nobs  # lavaan's F carries (N - 1) / N (chisq = 2 N fmin = (N - 1) F): so does its score
    score = (n - 1) / n * (delta[:, e].T @ weighted(weight, resid[:, None])[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(v < np.finfo(float).eps ** (1 / 3), np.nan, v)
        mi = n * score**2 / v
        epc = score / v
    table = estimates_table(structure, fit.theta, fit.vcov_matrix, fit.sample, defined=False)
    sd_lv = {r.lhs: np.sqrt(r.est) for r in table.itertuples() if r.op == "~~" and r.lhs == r.rhs
             and r.lhs in ram.lv}
    theta_ii = {r.lhs: r.est for r in table.itertuples()
                if r.op == "~~" and r.lhs == r.rhs and r.lhs in ram.ov}
    sd_ov = {v: 1.0 for v in ram.ov}
    if structure.parameterization == "theta":  # y* variances 1 / Delta^2
        sd_ov = {r.lhs: 1.0 / r.est for r in table.itertuples() if r.op == "~*~"}
    rows = []
    for (a, op, b), m, d in zip(cands, mi, epc, strict=True):
        if op == "=~":
            lv_ = d * sd_lv.get(a, 1.0)
            all_ = lv_ / sd_ov.get(b, 1.0)
        else:
            lv_ = d
            all_ = d / np.sqrt(theta_ii[a] * theta_ii[b])
        rows.append(dict(lhs=a, op=op, rhs=b, mi=float(m), epc=float(d), **{"sepc.lv": float(lv_),
                                                                            "sepc.all": float(all_)}))
    return pd.DataFrame(rows, columns=COLUMNS)
