"""Modification indices of a multi-group ordinal fit with equality constraints (lavaan 0.6.14
``modindices()`` with ``group.equal``; tests/fixtures/mg_modindices/make_ordinal_mg_modindices.R).

As lavaan's extended model (``lav_object_extended(all.free = TRUE)``), every group's fixed marker
loadings, the items' fixed intercepts and fixed scale factors (~*~) are freed at their values and every
loading and residual covariance not in the model is added at 0 (parameterization "theta": the items'
fixed residual variances are freed, the scale factors are derived), and the fixed latent means
(lavaan scores them: group.equal "means" keeps them at 0 in every group; sepc.lv = epc / SD of the factor in
its group), and candidates that are not identified when freed (V < eps^(1/3), e.g. the intercepts
when the thresholds are free) are dropped, as lavaan does. With J_g the Jacobian of group g's
statistics in the extended global parameters (:func:`survey.sem.ordinal.group_moments.moments`), W_g its
weight, r_g = s_g - m_g and f_g = N_g / N (lavaan ``lav_model_information``, ``lav_model_gradient``):

    I = sum_g f_g J_g' W_g J_g,   score = sum_g f_g (N_g - 1) / N_g J_g' W_g r_g,
    V = I_ee - I_ef I_ff^-1 I_fe,   mi = N score_e^2 / diag(V),   epc = score_e / diag(V)

(Sorbom 1989). Under "theta" lavaan also scores every group's ordered items' scale factors ``~*~`` (derived,
Delta_i = 1 / sqrt(Sigma*_ii)) freed at their values, differentiated directly in the scaled thresholds
(``d tau*_ik / d Delta_i = tau*_ik / Delta_i``; lavaan ``computeDelta``: its theta covariance part does not
carry Delta, so the correlations' derivative is 0); they are identified, and kept, where the thresholds are
equal across groups. sepc.lv scales a loading's epc by the factor's SD in its group, sepc.all also divides by
the latent response's SD 1 / Delta_i (an intercept's epc by that SD only); a residual covariance's epc
is divided by sqrt(theta_ii theta_jj) (lavaan's ``cov.std = TRUE``). A continuous item (mixed data)
has no scale factor, and its SD is its model-implied ``sqrt(Sigma_ii)``. After threshold formulas
(``item | 0*t1``, ``c(-0.2, -0.3)*t1``) the fixed thresholds are freed at their values too, as lavaan scores
them (sepc.lv = epc, sepc.all = epc over the latent response's SD, as an intercept's;
tests/fixtures/audit16/make_audit16_thgroups.R).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from survey.sem.ordinal._engine import RAMModel
from survey.sem.ordinal.group_moments import _local, moments
from survey.sem.ordinal.modindices import _candidates
from survey.sem.ordinal.objective import weighted

COLUMNS = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]


def _extended(group, start: int):
    """Group g's extended model: (the extended Group, the values of its new parameters, their rows)."""
    pt = group.ram.partable.copy()
    lv = list(group.ram.lv)
    items = [v for v in group.ram.ov if v not in _covariates(group)]  # observed covariates: never candidates
    n_ram = group.ram.npar
    freed = (pt["op"] == "=~") | ((pt["op"] == "~1") & pt["lhs"].isin(items + lv))
    if group.theta_param:  # the items' residual variances, fixed at 1 (delta: not parameters)
        freed |= (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(items)
    freed &= pt["free"] == 0
    values = list(pt.loc[freed, "ustart"].fillna(0.0).astype(float))
    rows = [(r.lhs, r.op, r.rhs) for r in pt[freed].itertuples(index=False)]
    pt.loc[freed, "free"] = n_ram + 1 + np.arange(int(freed.sum()))
    cands = _candidates(pt[pt["op"] != ":="], items, lv, _covariates(group))
    top = int(pt["free"].max())
    extra = pd.DataFrame([dict(id=int(pt["id"].max()) + k + 1, lhs=a, op=op, rhs=b, user=10, block=1, group=1,
                               free=top + k + 1, ustart=0.0, exo=0, label="", plabel="")
                          for k, (a, op, b) in enumerate(cands)], columns=pt.columns)
    ext = pd.concat([pt, extra], ignore_index=True)
    new = len(rows) + len(cands)
    rest = group.index[n_ram:].copy()
    nth = sum(t.size for t in group.sample.thresholds)
    # Delta_i fixed at 1: freed at 1 (theta: derived from Sigma*, not a parameter)
    numeric = set(group.layout.num_idx.tolist())  # a continuous item has no scale factor
    fixed_scale = [] if group.theta_param else [i for i in range(len(items))
                                                if rest[nth + i] < 0 and i not in numeric]
    rest[nth + np.array(fixed_scale, dtype=int)] = start + new + np.arange(len(fixed_scale))
    index = np.concatenate([group.index[:n_ram], start + np.arange(new), rest]).astype(int)
    scale_rows = [(items[i], "~*~", items[i]) for i in fixed_scale]
    values = values + [0.0] * len(cands) + [1.0] * len(fixed_scale)
    # fixed thresholds of threshold formulas (item | 0*t1): freed at their values, as lavaan scores them
    fixed_th = sorted((group.fixed or {}).items())
    th_var = np.asarray(group.layout.th_var, dtype=int)
    ov = list(group.ram.ov)
    th_rows = []
    for k, (pos, value) in enumerate(fixed_th):
        index[n_ram + new + pos] = start + new + len(fixed_scale) + k
        th_rows.append((ov[th_var[pos]], "|", f"t{pos - int(np.sum(th_var < th_var[pos])) + 1}"))
        values.append(float(value))
    return (replace(group, ram=RAMModel(ext), index=index, fixed=None), values,
            rows + cands + scale_rows + th_rows)


def _standardized(table: pd.DataFrame, g: int, rows, epc: np.ndarray, sd_ov: dict) -> pd.DataFrame:
    """sepc.lv / sepc.all of group g's rows from the fit's estimates table and the latent responses' SDs
    ``sd_ov`` (module notes)."""
    own = table[table["group"] == g + 1]
    var = {r.lhs: r.est for r in own.itertuples() if r.op == "~~" and r.lhs == r.rhs}
    # a factor's total SD (its loadings' std.lv / est): with covariates its variance row is a residual one
    loads = own[(own["op"] == "=~") & (own["est"] != 0)]
    sd_lv = dict(zip(loads["lhs"], loads["std.lv"] / loads["est"], strict=True))
    out = []
    for (a, op, b), d in zip(rows, epc, strict=True):
        if op == "~~" and a == b:  # theta: a residual variance, lavaan's cov.std (its value, standardized)
            out.append((np.sign(d) * var[a], np.sign(d) * var[a] / sd_ov[a] ** 2))
            continue
        if op == "=~":
            lv_ = d * sd_lv.get(a, np.sqrt(var[a]))
            all_ = lv_ / sd_ov.get(b, 1.0)
        elif op == "~1" and a in sd_lv:  # a latent mean: in the factor's SD units (sepc.all the same)
            lv_ = all_ = d / sd_lv[a]
        elif op in ("~1", "|"):  # an intercept, a threshold: in the latent response's SD
            lv_, all_ = d, d / sd_ov.get(a, 1.0)
        elif op == "~*~":  # a scale factor standardizes to 1 (lavaan: sepc.all = sign(epc))
            lv_, all_ = d, np.sign(d)
        elif op == "~":  # std.lv scales the factors, std.all every variable (sepc.nox: not x, _with_nox)
            lv_ = d * sd_lv.get(b, 1.0) / sd_lv.get(a, 1.0)
            all_ = d * sd_lv.get(b, sd_ov.get(b, 1.0)) / sd_lv.get(a, sd_ov.get(a, 1.0))
        else:  # lavaan's cov.std: a factor covariance in the (residual) SDs in sepc.lv too
            all_ = d / np.sqrt(var[a] * var[b])
            lv_ = all_ if a in sd_lv else d
        out.append((lv_, all_))
    return pd.DataFrame(out, columns=["sepc.lv", "sepc.all"])


def _covariates(group) -> list[str]:
    """The group's observed covariates (lavaan conditional.x), in model order."""
    if group.sample.slopes is None:
        return []
    return [group.ram.ov[k] for k in group.layout.x_idx]


def _sd_ov(group, theta: np.ndarray) -> dict:
    """SD of every item's latent response: 1 / Delta_i (delta), sqrt(Sigma*_ii) (theta); with observed
    covariates its total SD, the variance given x (1 / Delta_i^2 under delta) plus the part x explains."""
    t_ram, _, scale = _local(group, theta)
    sigma = np.diag(group.ram.implied(t_ram).sigma)
    if group.sample.slopes is not None:
        y = group.layout.y_idx
        explained = sigma[y] - np.diag(group.layout.conditional_sigma(t_ram))
        var = sigma.copy()
        if not group.theta_param:  # a continuous item: its implied total variance
            ordered = ~np.asarray(getattr(group.layout, "numeric", np.zeros(y.size, bool)), bool)[: y.size]
            var[y[ordered]] = 1.0 / scale[y[ordered]] ** 2 + explained[ordered]
        sd = np.sqrt(var)
        return dict(zip(group.ram.ov, sd, strict=True))
    if group.theta_param:
        scale = 1.0 / np.sqrt(sigma)
    sd = 1.0 / scale
    sd[group.layout.num_idx] = np.sqrt(sigma[group.layout.num_idx])  # a continuous item's implied SD
    return dict(zip(group.ram.ov, sd, strict=True))


def _scale_candidates(group) -> list[int]:
    """Under "theta": the ordered items (their positions) whose scale factors lavaan scores."""
    if not group.theta_param:
        return []
    numeric = set(group.layout.num_idx.tolist())
    if group.sample.slopes is not None:
        numeric = set(group.layout.x_idx.tolist())
    return [i for i in range(group.ram.p) if i not in numeric and i in set(group.layout.th_var.tolist())]


def equal_group_modification_indices(fit) -> pd.DataFrame:
    """``modindices(fit)`` of a :class:`~survey.sem.ordinal.multigroup.GroupFit` (module notes)."""
    _, weights, _, fg = fit.parts
    q = fit.theta.size
    groups, values, rows = [], [], []
    for grp in fit.blocks:
        ext, vals, cand = _extended(grp, q + len(values))
        groups.append(ext)
        values += vals
        rows.append(cand)
    theta = np.concatenate([fit.theta, values])
    scales = [_scale_candidates(grp) for grp in groups]  # theta: the ~*~ candidates (module notes)
    total = theta.size + sum(len(c) for c in scales)
    info = np.zeros((total, total))
    score = np.zeros(total)
    start = theta.size
    for grp, w, f, cand in zip(groups, weights, fg, scales, strict=True):
        stats, jac = moments(grp, theta, jacobian=True)
        jac = np.hstack([jac, np.zeros((jac.shape[0], total - theta.size))])
        if cand:
            lay = grp.layout
            scale = 1.0 / np.sqrt(np.diag(lay.conditional_sigma(_local(grp, theta)[0])))
            for k, i in enumerate(cand):
                sel = lay.th_slot[lay.th_var == i]
                if grp.sample.slopes is not None:  # and its slopes on x (vec(Pi), covariate-major)
                    first = lay.nslots if getattr(lay, "cx_mixed", False) else lay.nth
                    sel = np.concatenate([sel, first + np.arange(lay.q) * lay.p + i])
                jac[sel, start + k] = stats[sel] / scale[i]
            start += len(cand)
        wj = weighted(w, jac)
        info += f * jac.T @ wj
        score += f * (grp.nobs - 1) / grp.nobs * (wj.T @ (grp.sample.wls_obs - stats))
    labels = [(g, r) for g, cand in enumerate(rows) for r in cand]  # in theta's order
    labels += [(g, (groups[g].ram.ov[i], "~*~", groups[g].ram.ov[i]))
               for g, c in enumerate(scales) for i in c]
    e = np.arange(q, total)
    f_ = np.arange(q)
    v = np.diag(info[np.ix_(e, e)] - info[np.ix_(e, f_)] @ np.linalg.solve(info[np.ix_(f_, f_)],
                                                                          info[np.ix_(f_, e)]))
    ok = v >= np.finfo(float).eps ** (1 / 3)
    n = float(sum(fit.nobs))
    s = score[e]
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, n * s**2 / v, np.nan)
        epc = np.where(ok, s / v, np.nan)
    group_of = np.array([g for g, _ in labels])
    frames = []
    for g in range(len(groups)):
        mine = np.flatnonzero(group_of == g)
        cand = [labels[k][1] for k in mine]
        out = pd.DataFrame(cand, columns=["lhs", "op", "rhs"])
        out["group"], out["mi"], out["epc"] = g + 1, mi[mine], epc[mine]
        std = _standardized(fit.parameter_table, g, cand, epc[mine], _sd_ov(fit.blocks[g], fit.theta))
        out["sepc.lv"], out["sepc.all"] = std["sepc.lv"].to_numpy(), std["sepc.all"].to_numpy()
        out["sepc.nox"] = out["sepc.all"]
        xs = _covariates(fit.blocks[g])
        on_x = ((out["op"] == "~") & out["rhs"].isin(xs)).to_numpy()
        if on_x.any():  # sepc.nox: a regression on a covariate is not scaled by the covariate's SD
            sd_x = dict(zip(xs, np.sqrt(np.diag(fit.blocks[g].sample.x_cov)), strict=True))
            out.loc[on_x, "sepc.nox"] = out.loc[on_x, "sepc.all"] / out.loc[on_x, "rhs"].map(sd_x)
        frames.append(out[ok[mine]])
    return pd.concat(frames, ignore_index=True)[COLUMNS]
