"""Modification indices of a continuous least-squares fit (GLS / ULS / DWLS / WLS), as lavaan 0.6.14's
``modindices()`` gives them (tests/fixtures/language/make_ls_modindices.R).

For F(theta) = (s - sigma(theta))' W (s - sigma(theta)) (s = vech(S), S with divisor N - 1, W the estimator's
weight, :func:`survey.sem.estimate.wls.weight_matrix`) the unit information is I = Delta' W Delta and the
score Delta' W (s - sigma) (-1/2 the gradient of F); lavaan scales the score by (N - 1) / N (its sample
statistics of these estimators have divisor N - 1, the score test divides by N), so with
V = I_11 - I_12 I_22^-1 I_21 (Sorbom 1989):

    mi = N ((N - 1) / N)^2 s_j^2 / V_jj        epc = ((N - 1) / N) s_j / V_jj

The candidates, V's threshold and the standardized epc are those of :mod:`survey.sem.results.modindices`.
Several groups, a mean structure, fixed.x covariates or pairwise moments:
:func:`ls_group_modification_indices` (tests/fixtures/mg_modindices/make_mg_modindices.R,
tests/fixtures/ls_groups/make_ls_groups.R); score tests of the equality constraints: :func:`ls_score_tests`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.sem.model.moments import vech_index


def ls_group_modification_indices(res) -> pd.DataFrame:
    """``modindices(fit)`` of a least-squares fit with several groups, a mean structure, fixed.x covariates
    or pairwise moments: per block the score ((N_g - 1) / N_g) Delta_g' W_g (s_g - m_g) and information
    Delta_g' W_g Delta_g over the moments m_g (means first under the mean structure), assembled over the
    groups as :mod:`survey.sem.results.mg_modindices` does. fixed.x: the covariates' moments take S (divisor
    N - 1) in the extended model; GLS's W has their rows zeroed (lavaan 0.6.14
    ``lav_samplestats_Gamma_inverse_NT`` with fixed.x: vech rows among the covariates, and their means, 0);
    under ULS (identity W) lavaan lists the covariates' moments and regressions as candidates too (mi ~ 0)."""
    from survey.sem.estimate.wls import fixed_x_moments, p_of, sample_cov, sample_moments, weight_matrix
    from survey.sem.model.moments import moments_jacobian
    from survey.sem.results.mg_modindices import group_modification_indices

    ms = res.mg.meanstructure

    def score_information(model, block, theta: np.ndarray):
        imp = model.implied(theta)
        d = moments_jacobian(model, theta, ms)
        m = imp.sigma[vech_index(model.p)]
        m = np.concatenate([imp.mean, m]) if ms else m
        w = weight_matrix(res.estimator, block, ms)
        x_index = list(getattr(block, "x_index", []) or [])
        if x_index and res.estimator == "GLS":
            fixed = fixed_x_moments(p_of(block), x_index, ms)
            w = w.copy()
            w[fixed, :] = 0.0
            w[:, fixed] = 0.0
        wd = w @ d
        return (block.n - 1) / block.n * (wd.T @ (sample_moments(block, ms) - m)), d.T @ wd

    exo = res.estimator == "ULS"
    return group_modification_indices(res, score_information, cov_of=sample_cov, exo=exo)


def ls_modification_indices(res) -> pd.DataFrame:
    """lavaan's ``modindices(fit)`` of an :class:`survey.sem.results.ls_result.LSResult` (module notes)."""
    from survey.sem.estimate.wls import sample_cov, weight_matrix
    from survey.sem.results.modindices import modification_indices

    fixed_x = any(len(b.x_index) for b in res.stats.groups)
    if len(res.mg.models) > 1 or res.mg.meanstructure or fixed_x or res.missing != "listwise":
        out = ls_group_modification_indices(res)  # one block with a mean structure: lavaan has no group
        return out.drop(columns="group") if len(res.mg.models) == 1 else out
    block = res.stats.groups[0]
    n = block.n
    w = weight_matrix(res.estimator, block)
    s_cov = sample_cov(block)  # divisor N - 1; weighted: lavaan's weighted S
    rows, cols = vech_index(s_cov.shape[0])

    def score_information(model, theta: np.ndarray):
        imp = model.implied(theta)
        d = model.delta(theta, imp)[:, rows, cols].T  # moments x parameters
        e = (s_cov - imp.sigma)[rows, cols]
        wd = w @ d
        return wd.T @ e, d.T @ wd

    return modification_indices(res, score_information, scale=(n - 1) / n)


def _ls_weight(res, block, ms: bool) -> np.ndarray:
    """W of one block for the score statistics: GLS's with the fixed.x covariates' rows zeroed (lavaan
    0.6.14 ``lav_samplestats_Gamma_inverse_NT``; the others' weights have them zero already)."""
    from survey.sem.estimate.wls import fixed_x_moments, p_of, weight_matrix

    w = weight_matrix(res.estimator, block, ms)
    x_index = list(getattr(block, "x_index", []) or [])
    if x_index and res.estimator == "GLS":
        fixed = fixed_x_moments(p_of(block), x_index, ms)
        w = w.copy()
        w[fixed, :] = 0.0
        w[:, fixed] = 0.0
    return w


def ls_score_tests(res) -> pd.DataFrame:
    """lavaan's ``lavTestScore(fit)$uni`` of a least-squares fit: the equality constraints (group_equal,
    shared labels) released one at a time (:func:`survey.sem.score.score_statistics`) in the
    parameterization with one parameter per free row, with the unit score
    -sum_g (N_g / N) ((N_g - 1) / N_g) Delta_g' W_g (s_g - m_g) and information
    sum_g (N_g / N) Delta_g' W_g Delta_g (moments m_g with the means first under a mean structure; any
    groups, fixed.x, pairwise moments; tests/fixtures/ls_groups/make_ls_score.R)."""
    from survey import distributions as sps
    from survey.sem.estimate.wls import sample_cov, sample_moments
    from survey.sem.model.moments import moments_jacobian
    from survey.sem.score import equality_constraints, score_statistics, unshared_single_block

    cols = ["lhs", "op", "rhs", "group.a", "group.b", "X2", "df", "p.value", "source"]
    pt = res.mg.partable
    if equality_constraints(pt).empty:
        return pd.DataFrame(columns=cols)
    blocks, ms = res.stats.groups, res.mg.meanstructure
    if len(res.mg.models) == 1:
        full_mg, theta_full, k, cons = unshared_single_block(res.mg, blocks[0], res.theta)
        full_mg.models[0].set_exogenous(sample_cov(blocks[0]), blocks[0].mean)  # lavaan's S (N - 1)
    else:
        full_mg, theta_full, k = res.mg, res.theta_full, res.mg.k
        cons = equality_constraints(pt)
    n_total = float(sum(b.n for b in blocks))
    q = len(theta_full)
    grad, info = np.zeros(q), np.zeros((q, q))
    for g, block in enumerate(blocks):
        ram, local, idx = full_mg.models[g], full_mg.local(theta_full, g), full_mg.index[g]
        imp = ram.implied(local)
        d = moments_jacobian(ram, local, ms)
        m = imp.sigma[vech_index(ram.p)]
        m = np.concatenate([imp.mean, m]) if ms else m
        wd = _ls_weight(res, block, ms) @ d
        c = block.n / n_total
        grad[idx] -= c * (block.n - 1) / block.n * (wd.T @ (sample_moments(block, ms) - m))
        info[np.ix_(idx, idx)] += c * d.T @ wd
    x2 = score_statistics(grad, info, k, cons, n_total)
    a, b = pt.loc[cons["row_a"]], pt.loc[cons["row_b"]]
    group_of = (lambda r: r["group"].to_numpy().astype(int)) if "group" in pt else (lambda r: 1)
    return pd.DataFrame({"lhs": a["lhs"].to_numpy(), "op": a["op"].to_numpy(), "rhs": a["rhs"].to_numpy(),
                         "group.a": group_of(a), "group.b": group_of(b), "X2": x2, "df": 1,
                         "p.value": sps.chi2.sf(x2, 1), "source": b["eqsource"].to_numpy()})
