"""residuals() of a continuous least-squares fit (GLS / ULS / DWLS / WLS), as lavaan 0.6.14 gives them
(tests/fixtures/language/make_ls_residuals.R; several groups, a mean structure, fixed.x covariates and
pairwise moments: tests/fixtures/ls_groups/make_ls_groups.R).

lavaan's sample statistics for these estimators have divisor N - 1 (missing="pairwise": the pairwise
ones): per group g, with S_g that covariance matrix, m_g the means and W_g the estimator's weight
(:func:`survey.sem.estimate.wls.weight_matrix`; means first under a mean structure; fixed.x: lavaan's
weight has zero rows for the covariates' own moments, GLS's too),

* ``raw``, ``cor`` (``cor.bollen``), ``cor.bentler``: as :mod:`survey.sem.results.residuals`, from S_g
  (and m_g - mu_g, over sd(S_g) for the correlation types);
* ``normalized``: e_g / sqrt(diag(ACOV_g)), ACOV_g = W_g^- / N_g (lavaan ``lav_model_h1_acov``: the h1
  information of these estimators is W_g, its inverse taken without the zero rows);
* ``standardized``: e_g / sqrt(diag(Q_g ACOV_g Q_g')), Q_g = I - w_g Delta_g A0^-1 Delta_g' W_g, w_g =
  N_g / N, A0 = sum_g w_g Delta_g' W_g Delta_g the unit information of the free parameters (group
  equalities in Delta_g; explicit constraints: its augmented inverse, survey.sem.ls_constrained)
  (lavaan ``lav_residuals_acov``, Browne 1984); residuals with zero variance are 0.

Under ULS and DWLS lavaan refuses both of the last two ("could not invert h1 information matrix"): so do
we, with its reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.results import residuals as res_mod


def _inverse_nonzero(a: np.ndarray) -> np.ndarray:
    """The inverse of ``a`` without its zero rows and columns, which stay 0 (lavaan
    ``lav_matrix_symmetric_inverse``)."""
    keep = ~(np.all(a == 0, axis=0) & np.all(a == 0, axis=1))
    out = np.zeros_like(a)
    sub = np.ix_(keep, keep)
    inv = np.linalg.inv(a[sub])
    out[sub] = (inv + inv.T) / 2.0
    return out


def _weights(result) -> list[np.ndarray]:
    """W_g of every group, the covariates' own moments zeroed under fixed.x (module notes)."""
    from survey.sem.estimate.wls import fixed_x_moments, p_of, weight_matrix

    ms = result.mg.meanstructure
    out = []
    for block in result.stats.groups:
        w = weight_matrix(result.estimator, block, ms).copy()
        x_index = list(getattr(block, "x_index", []) or [])
        if x_index:
            fixed = fixed_x_moments(p_of(block), x_index, ms)
            w[fixed, :] = 0.0
            w[:, fixed] = 0.0
        out.append(w)
    return out


def _a0_inverse(result, ws: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A0^-1 (module notes) and every group's Delta_g over the free parameters."""
    from survey.sem.model.moments import moments_jacobian

    mg, blocks = result.mg, result.stats.groups
    ns = np.array([b.n for b in blocks], float)
    deltas = [moments_jacobian(mg.models[g], mg.local(mg.k @ result.theta, g), mg.meanstructure)
              @ mg.k[mg.index[g], :] for g in range(len(blocks))]
    e_inv = getattr(result, "e_inv", None)
    if e_inv is None:
        a0 = sum(n / ns.sum() * d.T @ w @ d for n, w, d in zip(ns, ws, deltas, strict=True))
        e_inv = np.linalg.pinv(a0, hermitian=True)
    return e_inv, deltas


def ls_residuals(result, kind: str) -> list:
    """``residuals(fit, type = kind)`` of an LSResult: one :class:`survey.sem.results.residuals.Residuals`
    per group (its ``mean`` under a mean structure)."""
    from survey.sem.conditional_x import refuse_conditional

    refuse_conditional(result, "residuals()")
    from survey.sem.estimate.wls import sample_cov
    from survey.sem.model.moments import vech_index

    mg, blocks = result.mg, result.stats.groups
    ms = mg.meanstructure
    names = list(mg.models[0].ov)
    p = len(names)
    imps = [ram.implied(mg.local(result.theta_full, g)) for g, ram in enumerate(mg.models)]
    covs = [sample_cov(b) for b in blocks]  # divisor N - 1; weighted: lavaan's weighted S
    means = [np.asarray(b.mean, float) if ms else None for b in blocks]
    mus = [np.asarray(imp.mean, float) if ms else None for imp in imps]
    if kind in ("raw", "cor", "cor.bollen", "cor.bentler"):
        fun = {"raw": res_mod.raw, "cor": res_mod.cor_bollen, "cor.bollen": res_mod.cor_bollen,
               "cor.bentler": res_mod.cor_bentler}[kind]
        parts = [fun(s, imp.sigma, m, mu) for s, imp, m, mu in zip(covs, imps, means, mus, strict=True)]
    else:
        if result.estimator in ("ULS", "DWLS"):
            raise SurveyInputError(f"{kind} residuals are not available with estimator {result.estimator}: "
                                   "lavaan 0.6.14 'could not invert h1 information matrix' (available: raw, "
                                   "cor, cor.bentler; or estimator GLS / WLS)", field="type", value=kind)
        ws = _weights(result)
        if kind == "standardized":
            a0_inv, deltas = _a0_inverse(result, ws)
        n_total = float(sum(b.n for b in blocks))
        rows, cols = vech_index(p)
        parts = []
        for g, (block, s, imp, w) in enumerate(zip(blocks, covs, imps, ws, strict=True)):
            e = (s - imp.sigma)[rows, cols]
            if ms:
                e = np.concatenate([means[g] - mus[g], e])
            acov = _inverse_nonzero(w) / block.n
            if kind == "standardized":
                d = deltas[g]
                q = np.eye(len(e)) - block.n / n_total * d @ a0_inv @ d.T @ w
                acov = q @ acov @ q.T
            var = np.diag(acov)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(var > 1e-14, e / np.sqrt(np.abs(var)), 0.0)
            parts.append((res_mod._unvech(z[p:] if ms else z, p), z[:p] if ms else None))
    return [res_mod.Residuals(pd.DataFrame(c, index=names, columns=names),
                              None if m is None else pd.Series(m, index=names)) for c, m in parts]
