"""Modification indices: univariate score tests for parameters not in the model (lavaan ``modindices()``).

Candidates as lavaan's: the fixed parameters of the model (e.g. marker loadings), then
``lav_partable_full``: every loading of a factor on an observed variable that is not in a regression,
every residual covariance among indicators, every latent (co)variance, and every regression among the
variables of the structural part. Under fixed.x the covariate block of the moments gets no weight in the
information (as lavaan's expected information with x.idx), and the covariate moments themselves, fitted
exactly, are not listed (lavaan lists some of them with mi ~ 1e-30 and others not, by rounding). For the
candidate j, with unit expected information I of the extended model (free parameters 2, candidates 1)
and the score s = d logL/N / d theta at the estimates (Sorbom 1989, J Econometrics 40):

    V    = I_11 - I_12 I_22^-1 I_21
    mi   = N s_j^2 / V_jj                  epc = s_j / V_jj
    sepc.lv, sepc.all = epc standardized with the fitted model's SDs (residual variances for ~~)
    sepc.nox = sepc.all with observed covariates (fixed.x) left in their metric (lavaan's std.nox)

Candidates with V_jj < eps^(1/3) (equivalent to a free parameter) are dropped, as lavaan does. With
missing data (FIML) s is the gradient of the FIML log-likelihood and I the missing-data expected information
at the implied moments (lavaan's default ``information = "expected"``; :func:`_fiml_score_and_information`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from survey.sem.model import RAMModel
from survey.sem.results.std_nox import nox_adjust
from survey.sem.standardize import standardize

if TYPE_CHECKING:
    from survey.sem.result import SEMResult


def _lower_pairs(names: list[str]) -> list[tuple[str, str]]:
    return [(names[j], names[i]) for j in range(len(names)) for i in range(j, len(names))]


def candidates(model: RAMModel) -> pd.DataFrame:
    """Candidate parameters (lhs, op, rhs) in lavaan's ``lav_partable_full`` order."""
    n = model.names
    eqs = list(dict.fromkeys(n.eqs_y + n.eqs_x))
    rows: list[tuple[str, str, str]] = []
    rows += [(f, "=~", x) for f in n.lv for x in n.ov_nox if x not in eqs]
    other = {v for v in n.ov if v not in n.ov_ind}
    rows += [(a, "~~", b) for a, b in _lower_pairs(n.ov_nox) if a not in other and b not in other]
    rows += [(a, "~~", b) for a, b in _lower_pairs(n.ov_x)]
    rows += [(a, "~~", b) for a, b in _lower_pairs(n.lv)]
    rows += [(y, "~", x) for y in eqs for x in eqs if x != y and not (y in n.ov_ind and x in n.lv)]
    return pd.DataFrame(rows, columns=["lhs", "op", "rhs"])


def score_and_information(model: RAMModel, stats, theta: np.ndarray, x_index: list[int],
                           unstructured: bool = False):
    """Score (d logL/N) and unit expected information; under fixed.x the covariate block of the moments
    carries no weight in the information (lavaan's expected information with ``x.idx``); ``unstructured``
    (missing = "two.stage"): the information weighted at S, lavaan's h1.information "unstructured"."""
    imp = model.implied(theta)
    inv = np.linalg.inv(imp.sigma)
    w_inv = np.linalg.inv(stats.cov) if unstructured else inv
    d = model.delta(theta, imp)
    means = model.meanstructure and imp.mean is not None and stats.mean is not None
    resid = np.asarray(stats.mean, dtype=float) - imp.mean if means else np.zeros(model.p)
    w = inv @ (imp.sigma - stats.cov - np.outer(resid, resid)) @ inv
    score = -0.5 * np.einsum("ij,kij->k", w, d)
    if x_index:
        ix = np.ix_(x_index, x_index)
        d[:, ix[0], ix[1]] = 0.0
    m = np.einsum("ij,kjl->kil", w_inv, d)
    info = 0.5 * np.einsum("kij,lji->kl", m, m)
    if means:  # d logL / d mu = Sigma^-1 (ybar - mu), information Sigma^-1 (its fixed.x rows zeroed, lavaan)
        dmu = model.delta_mean(theta, imp)
        g_mu = inv @ resid
        w_mu = w_inv.copy()
        if x_index:
            w_mu[x_index, :] = 0.0
            w_mu[:, x_index] = 0.0
        score = score + dmu @ g_mu
        info = info + dmu @ w_mu @ dmu.T
    return score, info


def _fiml_score_and_information(model: RAMModel, block, theta: np.ndarray, x_index: list[int]):
    """FIML: the score d logL/N of the missing-data likelihood and the unit missing-data expected
    information Delta' W_e Delta at the implied moments (lavaan's ``modindices(information = "expected")``
    on a ``missing = "ml"`` fit: ``lav_mvnorm_missing_information_expected``, ``gradient.logl``);
    fixed.x covariate moments carry no weight."""
    from survey.sem.data.missing_info import h1_case_scores, h1_expected_information
    from survey.sem.model.moments import moments_jacobian

    imp = model.implied(theta)
    mu = imp.mean if imp.mean is not None else block.mean
    delta = moments_jacobian(model, theta, True)
    scores = h1_case_scores(block.md, imp.sigma, mu)
    wt = getattr(block.md, "wt", None)
    if wt is not None:
        scores = scores * wt[:, None]
    w = h1_expected_information(block.md, imp.sigma) / block.n
    if x_index:
        from survey.sem.data.blocks import x_mask

        m = x_mask(model.p, x_index, True)
        w[m, :] = 0.0
        w[:, m] = 0.0
    return delta.T @ scores.sum(axis=0) / block.n, delta.T @ w @ delta


def extended_model(ram: RAMModel, theta: np.ndarray, cov: np.ndarray, mean, exo: bool = False):
    """lavaan's ``lav_object_extended(all.free=TRUE)`` of one block: the model's free parameters first
    (theta), then its fixed rows (not fixed.x moments, not intercepts) at their values, then the
    ``lav_partable_full`` candidates at 0. ``exo``: the fixed.x moments (their intercepts too) are
    candidates as well (ULS: lavaan lists them, with mi ~ 0). Returns (extended model, its theta, the
    candidate rows)."""
    pt = ram.partable
    ext = pt[pt["op"].isin(["=~", "~", "~~", "~1"])].copy().reset_index(drop=True)
    values = ram.parameter_values(theta)[: len(ext)]
    theta_ext = list(theta)
    keep: list[tuple[str, str, str]] = []
    free = ext["free"].to_numpy().copy()
    for k, r in enumerate(ext.itertuples(index=False)):
        # fixed.x moments are reproduced exactly (score 0): not candidates (lavaan lists some with mi ~ 1e-30)
        if r.free == 0 and (r.exo != 1 or (exo and r.exo == 1)):
            theta_ext.append(values[k])
            free[k] = len(theta_ext)
            keep.append((r.lhs, r.op, r.rhs))
    ext["free"] = free
    present = {(r.lhs, r.op, r.rhs) for r in ext.itertuples(index=False)}
    new_rows = []
    for r in candidates(ram).itertuples(index=False):
        if (r.lhs, r.op, r.rhs) in present or (r.op == "~~" and (r.rhs, r.op, r.lhs) in present):
            continue
        theta_ext.append(0.0)
        new_rows.append(
            dict(lhs=r.lhs, op=r.op, rhs=r.rhs, user=10, free=len(theta_ext), ustart=0.0, exo=0, label="")
        )
        keep.append((r.lhs, r.op, r.rhs))
    if new_rows:
        ext = pd.concat([ext, pd.DataFrame(new_rows)], ignore_index=True)
    if "group" in ext.columns:
        ext["group"] = ext["group"].ffill()
    ext["exo"] = ext["exo"].fillna(0).astype(int)
    ext["ustart"] = ext["ustart"].astype(float)
    ext_model = RAMModel(ext, names=ram.names)
    ext_model.set_exogenous(cov, mean)
    return ext_model, np.asarray(theta_ext, dtype=float), keep


def modification_indices(res: SEMResult, score_information=None, scale: float = 1.0) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` columns lhs op rhs mi epc sepc.lv sepc.all.

    As lavaan (``lav_object_extended(all.free=TRUE)``), the candidates are the fixed parameters of the model
    (marker loadings), then the ``lav_partable_full`` rows not in the model. ``score_information(model,
    theta)``: the score and unit information of another estimator (least squares,
    :func:`survey.sem.results.ls_modindices.ls_score_information`), I_22 then taken from the extended
    model too; ``scale`` multiplies the score (lavaan's (N - 1) / N there).
    """
    ram = res.ram
    cols = ["lhs", "op", "rhs", "mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"]
    if res.information is None or res.information.singular:
        return pd.DataFrame(columns=cols)
    q = ram.npar
    ext_model, theta, keep = extended_model(ram, res.theta, res.group_stats.cov, res.group_stats.mean)
    if not keep:
        return pd.DataFrame(columns=cols)
    # fixed.x covariates only (fixed.x = FALSE: lavaan's exo column is 0, their moments are parameters)
    fixed_x = "exo" in ram.partable and bool((ram.partable["exo"] == 1).any())
    x_index = [ram.ov.index(v) for v in ram.names.ov_x] if fixed_x else []
    if score_information is None:
        fiml = getattr(res.group_stats, "kind", "complete") == "fiml"
        scorer = _fiml_score_and_information if fiml else score_and_information
        extra = {"unstructured": True} if getattr(res, "two_stage", None) and not fiml else {}
        score_all, info = scorer(ext_model, res.group_stats, np.asarray(theta), x_index, **extra)
        i22 = info[:q, :q] if fiml else res.information.information  # FIML: the expected one, as lavaan
    else:
        score_all, info = score_information(ext_model, np.asarray(theta))
        i22 = info[:q, :q]
    score = scale * score_all[q:]
    i11 = info[q:, q:]
    i12 = info[q:, :q]
    i22_inv = np.linalg.inv(i22) if q else np.zeros((0, 0))
    jac = getattr(res.pieces, "constraint_jacobian", None)
    if jac is not None and q:  # efa() blocks (survey.sem.efa) and explicit ==, active <, > constraints:
        from survey.sem.inference.vcov import augmented_inverse  # lavaan's augmented (bordered) inverse

        i22_inv = augmented_inverse(i22, np.vstack(jac))
    v = np.diag(i11 - i12 @ i22_inv @ i12.T).copy()
    ok = v >= np.finfo(float).eps ** (1 / 3)
    n = res.group_stats.n
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, n * score**2 / v, np.nan)
        epc = np.where(ok, score / v, np.nan)
    out = pd.DataFrame(keep, columns=["lhs", "op", "rhs"])
    out["mi"] = mi
    out["epc"] = epc
    sign = np.sign(epc)
    size = np.abs(epc)
    out["sepc.lv"] = sign * standardize(ram, res.theta, "std.lv", rows=out, values=size)
    out["sepc.all"] = sign * standardize(ram, res.theta, "std.all", rows=out, values=size)
    cov = res.group_stats.cov
    sd_x = {v: float(np.sqrt(cov[ram.ov.index(v), ram.ov.index(v)])) for v in ram.names.ov_x}
    out["sepc.nox"] = nox_adjust(out, out["epc"].to_numpy(), out["sepc.all"].to_numpy(),
                                 list(ram.names.ov_x), sd_x)
    # lavaan: a variance candidate whose epc is ~0 standardizes to 0
    tiny = (out["op"] == "~~") & (out["lhs"] == out["rhs"]) & (size < np.sqrt(np.finfo(float).eps))
    out.loc[tiny, ["sepc.lv", "sepc.all", "sepc.nox"]] = 0.0
    return out[ok].reset_index(drop=True)[cols]
