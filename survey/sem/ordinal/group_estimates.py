"""Parameter estimates of a multi-group ordinal fit (:mod:`survey.sem.ordinal.multigroup`): per group the
RAM rows, the thresholds and the scale factors with robust SEs, ``std.all`` (the latent responses'
implied variances ``1 / Delta^2``) and ``std.lv``, as lavaan's ``parameterEstimates(standardized = TRUE)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.distributions import norm
from survey.sem.ordinal.estimates import latent_sd, std_lv


def group_estimates(groups, theta, vcov, local) -> pd.DataFrame:
    """Rows of every group (lavaan's parameterEstimates order: user rows, thresholds, the rest, scale
    factors, means), ``std.all`` / ``std.lv`` from the delta map (:mod:`survey.sem.ordinal.multigroup`);
    ``local`` maps the global vector to a group's (RAM parameters, thresholds, scale factors)."""
    ses = np.sqrt(np.clip(np.diag(vcov), 0, None))
    rows = []
    for k, grp in enumerate(groups, start=1):
        ram, pt = grp.ram, grp.ram.partable
        t_ram, tau, scale = local(grp, theta)
        p = ram.p
        a, s, _ = ram.matrices(t_ram)
        sigma0 = ram.implied(t_ram).sigma
        ordered = ~grp.sample.numeric if grp.sample.mixed else np.ones(p, bool)
        if grp.sample.slopes is not None:  # covariates: 1 - [Sigma_y|x]_ii, x's variances fixed
            from survey.sem.ordinal.group_conditional import item_sigma

            sigma0 = item_sigma(grp, t_ram)
            ordered = np.isin(np.arange(p), grp.layout.y_idx[~grp.layout.numeric])
            scale = np.where(ordered, scale, 1.0)
        if grp.theta_param:  # theta: residual variances are RAM parameters, Delta = 1 / sd(y*)
            scale = np.where(ordered, 1.0 / np.sqrt(np.diag(sigma0)), 1.0)
            resid = np.diag(s)[:p]
        else:
            resid = np.where(ordered, 1.0 / scale**2 - np.diag(sigma0), np.diag(s)[:p])  # continuous: free
        s = s.copy()
        s[np.arange(p), np.arange(p)] = resid
        t = np.linalg.inv(np.eye(ram.nvar) - a)
        sd = np.sqrt(np.diag(t @ s @ t.T))
        values = ram.parameter_values(t_ram)
        idx = ram.index
        sd_of = latent_sd(ram, sd)

        def se_of(local_pos: int, index: np.ndarray = grp.index) -> float:
            gi = index[local_pos]
            return float(ses[gi]) if gi >= 0 else 0.0

        def free_of(local_pos: int, index: np.ndarray = grp.index) -> int:
            return int(index[local_pos]) + 1 if local_pos >= 0 else 0  # lavaan's free: global index + 1

        user, rest = [], []
        for q, r in enumerate(pt.itertuples(index=False)):
            est = float(values[q])
            if r.op == "~~" and r.lhs == r.rhs and r.lhs in idx and idx[r.lhs] < p:
                est = float(resid[idx[r.lhs]])
            se = se_of(int(r.free) - 1) if r.free > 0 else 0.0
            i, j = idx[r.lhs], idx.get(r.rhs, 0)
            if r.op == "=~":
                std = est * sd[i] / sd[j]
            elif r.op == "~":
                std = est * sd[j] / sd[i]
            elif r.op == "~1":
                std = est / sd[i]
            elif r.lhs == r.rhs:
                std = est / sd[i] ** 2
            else:
                std = est / np.sqrt(abs(s[i, i] * s[j, j]))
            row = dict(lhs=r.lhs, op=r.op, rhs=r.rhs, label=r.label or "", group=k,
                       free=free_of(int(r.free) - 1), est=est, se=se,
                       **{"std.all": std,
                       "std.lv": std if (r.op == "~~" and r.lhs != r.rhs and r.lhs in ram.lv
                                         and r.rhs in ram.lv) else std_lv(r.op, r.lhs, r.rhs, est, sd_of)})
            (user if r.user == 1 else rest).append(row)
        names = [v for v, o in zip(grp.sample.names, ordered[: len(grp.sample.names)], strict=True) if o]
        th, pos = [], ram.npar
        for v, tv in zip(names, grp.sample.thresholds, strict=True):
            for c in range(tv.size):
                value = float(tau[pos - ram.npar])
                th.append(dict(lhs=v, op="|", rhs=f"t{c + 1}", label="", group=k, free=free_of(pos),
                               est=value, se=se_of(pos),
                               **{"std.all": value * float(scale[idx[v]]) if grp.sample.slopes is None
                                  else value / sd[idx[v]], "std.lv": value}))  # covariates: marginal SD
                pos += 1
        sc = [dict(lhs=v, op="~*~", rhs=v, label="", group=k, free=free_of(pos + idx[v]),
                   est=float(scale[idx[v]]),
                   se=se_of(pos + idx[v]), **{"std.all": 1.0, "std.lv": float(scale[idx[v]])}) for v in names]
        rows += user + th + [r for r in rest if r["op"] != "~1"] + sc + [r for r in rest if r["op"] == "~1"]
    table = pd.DataFrame(rows)
    if any(g.sample.slopes is not None for g in groups):  # the covariates' fixed means
        from survey.sem.ordinal.group_conditional import covariate_rows

        table = covariate_rows(table, groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = np.where(table["se"] > 0, table["est"] / table["se"], np.nan)
    table["pvalue"] = 2 * norm.sf(np.abs(table["z"]))
    return table
