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

With observed covariates (lavaan ``conditional.x``) the extended model is the conditional one
(:class:`~survey.sem.ordinal.conditional.ConditionalStructure`: thresholds, slopes, residual polychorics),
the candidates are lavaan's (:func:`_candidates`: loadings, residual covariances, factor covariances and
the regressions among the variables of the model's regressions, an item regressed on a covariate scored as
regressions, not as loadings); a regression's ``sepc.lv`` scales its EPC by SD(predictor factor) /
SD(outcome factor) (total SDs), ``sepc.all`` by the SDs of the predictor and the outcome whatever they are,
and ``sepc.nox`` is ``sepc.all`` except for covariates (not scaled by their SD).

With continuous items among them (lavaan's mixed ``WLS.obs``; with covariates
:class:`~survey.sem.ordinal.mixed_cx_model.MixedConditionalStructure`) the extension is the same, and an
item's ``sepc.all`` divides by its model-implied total SD: a continuous item's ``sqrt(Sigma_ii)``, an
ordered y*'s 1 (delta; given x it is 1, in total ``1 + explained by x``) or ``1 / Delta`` (theta). As lavaan
(``na.remove = TRUE``) candidates whose ``diag(V)`` falls below ``eps^(1/3)`` (not identified) are dropped.
With covariates and ``parameterization = "theta"`` lavaan also scores the fixed scale factors ``~*~``:
refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal.estimates import estimates_table
from survey.sem.ordinal.objective import OrdinalStructure, weight_matrix, weighted

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all"]


def total_sd_lv(table: pd.DataFrame, lv: list[str]) -> dict:
    """Each factor's model-implied total SD, as lavaan's std.lv scales by it (a nonzero loading's
    ``std.lv / est``; else the SD of its variance row): for an endogenous factor its variance row is a
    residual one."""
    own = {r.lhs: np.sqrt(r.est) for r in table.itertuples() if r.op == "~~" and r.lhs == r.rhs
           and r.lhs in lv}
    loads = table[(table["op"] == "=~") & (table["est"] != 0)]
    return own | dict(zip(loads["lhs"], loads["std.lv"] / loads["est"], strict=True))


def _candidates(pt: pd.DataFrame, ov: list[str], lv: list[str],
                covariates=()) -> list[tuple[str, str, str]]:
    """The fixed-to-zero candidates lavaan 0.6.14 adds (``lav_partable_full`` with ``strict.exo``, as under
    lavaan's ``conditional.x``, always so with ordered items), those of the model left out: every factor's
    loading on every item ``ov`` that is not an outcome of a regression (``eqs.y``: such a loading is scored
    as the regression instead), every pair of items' residual covariance, every pair of factors' (residual)
    covariance, and among the variables of the regressions (``eqs``: their outcomes and predictors) each
    one not a ``covariate`` regressed on each other one, except an indicator on a factor."""
    have = {(r.lhs, r.op, r.rhs) for r in pt.itertuples(index=False)}
    have |= {(r.rhs, r.op, r.lhs) for r in pt.itertuples(index=False) if r.op == "~~"}
    reg = pt[pt["op"].isin(["~", "<~"])]
    eqs = list(dict.fromkeys([*pt.loc[pt["op"] == "~", "lhs"], *reg["rhs"]]))
    eqs_y = [v for v in eqs if v not in set(covariates)]
    indicators = set(pt.loc[pt["op"] == "=~", "rhs"])
    out = [(f, "=~", v) for f in lv for v in ov if v not in eqs_y and (f, "=~", v) not in have]
    out += [(a, "~~", b) for i, a in enumerate(ov) for b in ov[i + 1:] if (a, "~~", b) not in have]
    out += [(a, "~~", b) for i, a in enumerate(lv) for b in lv[i + 1:] if (a, "~~", b) not in have]
    out += [(a, "~", b) for a in eqs_y for b in eqs if b != a and (a, "~", b) not in have
            and not (a in indicators and b in lv)]
    return out


def modification_indices(fit) -> pd.DataFrame:
    """``modindices(fit)`` of an :class:`~survey.sem.ordinal.fit.OrdinalFit` (module docstring)."""
    structure: OrdinalStructure = fit.structure
    covariates = [list(structure.ram.ov)[k] for k in structure.x_idx] if getattr(structure, "q", 0) else []
    if structure is None:  # pragma: no cover - every ordinal fit has its structure
        raise SurveyInputError("this fit has no ordinal structure to score", field="modindices")
    pt = structure.ram.partable
    ram = structure.ram
    items = [v for v in ram.ov if v not in covariates]
    cands = _candidates(pt[pt["op"] != ":="], items, list(ram.lv), covariates)
    if not cands:
        return pd.DataFrame(columns=COLUMNS)
    top = int(pt["free"].max())
    extra = pd.DataFrame([dict(id=int(pt["id"].max()) + k + 1, lhs=a, op=op, rhs=b, user=10, block=1, group=1,
                               free=top + k + 1, ustart=np.nan, exo=0, label="", plabel="")
                          for k, (a, op, b) in enumerate(cands)], columns=pt.columns)
    full = pd.concat([pt, extra], ignore_index=True)
    if getattr(structure, "cx_mixed", False):
        from survey.sem.ordinal.mixed_cx_model import MixedConditionalStructure

        numeric = [ram.ov[k] for k in structure.y_idx[structure.num_idx]]
        ext = MixedConditionalStructure(full, structure.nth_per, covariates, numeric,
                                        structure.parameterization)
    elif covariates:
        from survey.sem.ordinal.conditional import ConditionalStructure

        ext = ConditionalStructure(full, structure.nth_per, covariates, structure.parameterization)
    else:
        ext = OrdinalStructure(full, structure.nth_per, structure.parameterization, structure.numeric)
    n_ram = structure.npar_ram
    t_ram, tau = fit.theta[:n_ram], fit.theta[n_ram:]
    theta_x = np.concatenate([t_ram, np.zeros(len(cands)), tau])
    delta = ext.jacobian(theta_x)
    scale_rows: list[tuple[str, str, str]] = []
    if covariates and structure.parameterization == "theta":  # the scale factors ~*~ (module docstring)
        cols, scale_rows = _scale_columns(ext, theta_x)
        delta = np.hstack([delta, cols])
    weight = weight_matrix(fit.sample.gamma, {"WLS": "WLS", "ULSMV": "ULS", "ULSM": "ULS"}.get(fit.estimator,
                                                                                               "DWLS"))
    resid = fit.sample.wls_obs - ext.moments(theta_x).stats
    info = delta.T @ weighted(weight, delta)
    e = np.concatenate([n_ram + np.arange(len(cands)), theta_x.size + np.arange(len(scale_rows))]).astype(int)
    cands = cands + scale_rows
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
    sd_lv = total_sd_lv(table, list(ram.lv))
    theta_ii = {r.lhs: r.est for r in table.itertuples() if r.op == "~~" and r.lhs == r.rhs}
    sd_ov = {v: 1.0 for v in ram.ov}
    if structure.parameterization == "theta":  # y* variances 1 / Delta^2
        sd_ov = {r.lhs: 1.0 / r.est for r in table.itertuples() if r.op == "~*~"}
    if structure.mixed or covariates:  # an item's model-implied total SD (lavaan's cov.all of y*, x)
        total = np.diag(ram.implied(t_ram).sigma)
        y_pos = np.asarray(structure.y_idx if covariates else np.arange(len(ram.ov)), dtype=int)
        var = total[y_pos]
        if structure.parameterization == "delta":  # an ordered y*'s variance given x is 1, not the RAM's
            ordered = ~np.asarray(structure.numeric, bool)
            var[ordered] += 1.0 - np.diag(structure.conditional_sigma(t_ram))[ordered]
        sd_ov |= {ram.ov[k]: float(np.sqrt(w)) for k, w in zip(y_pos, var, strict=True)}
    sd_x = {}
    if covariates:  # the covariates' SDs
        sd_x = dict(zip(covariates, np.sqrt(np.diag(fit.sample.x_cov)), strict=True))
    rows = []
    for (a, op, b), m, d in zip(cands, mi, epc, strict=True):
        if op == "~*~":  # a scale factor standardizes to 1 (lavaan: sepc.all = sign(epc))
            lv_ = d
            all_ = np.sign(d)
        elif op == "=~":
            lv_ = d * sd_lv.get(a, 1.0)
            all_ = lv_ / sd_ov.get(b, 1.0)
        elif op == "~":  # std.lv scales the factors, std.all every variable (sepc.nox: not x)
            lv_ = d * sd_lv.get(b, 1.0) / sd_lv.get(a, 1.0)
            sd_b = sd_x[b] if b in sd_x else sd_lv.get(b, sd_ov.get(b, 1.0))
            all_ = d * sd_b / sd_lv.get(a, sd_ov.get(a, 1.0))
        else:  # lavaan's cov.std: a factor covariance in the (residual) SDs in sepc.lv too
            all_ = d / np.sqrt(theta_ii[a] * theta_ii[b])
            lv_ = all_ if a in sd_lv else d
        row = dict(lhs=a, op=op, rhs=b, mi=float(m), epc=float(d), **{"sepc.lv": float(lv_),
                                                                     "sepc.all": float(all_)})
        if covariates:
            row["sepc.nox"] = float(all_ / sd_x[b] if b in sd_x and op == "~" else all_)
        rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS + (["sepc.nox"] if covariates else []))
    return out[out["mi"].notna()].reset_index(drop=True)  # lavaan's na.remove: unidentified candidates


def _scale_columns(structure, theta: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """The Jacobian columns of the ordered items' scale factors in a conditional theta-parameterized map:
    ``d m / d Delta_i`` of its thresholds and slopes (the statistic over Delta_i), 0 for the correlations
    (module docstring); with the rows ``(item, "~*~", item)``."""
    stats, scale = structure.moments(theta).stats, structure.moments(theta).scale
    mixed = getattr(structure, "cx_mixed", False)
    p, q = structure.p, structure.q
    th_pos = structure.th_slot if mixed else np.arange(structure.nth)
    slope0 = structure.nslots if mixed else structure.nth
    slope_item = np.tile(np.arange(p), q)  # vec(Pi): covariate-major
    ov = list(structure.ram.ov)
    items = [ov[k] for k in structure.y_idx]
    ordered = np.flatnonzero(~np.asarray(structure.numeric, bool)) if mixed else np.arange(p)
    cols = np.zeros((stats.size, ordered.size))
    for c, i in enumerate(ordered):
        sel = th_pos[structure.th_var == i]
        cols[sel, c] = stats[sel] / scale[i]
        sel = slope0 + np.flatnonzero(slope_item == i)
        cols[sel, c] = stats[sel] / scale[i]
    return cols, [(items[i], "~*~", items[i]) for i in ordered]
