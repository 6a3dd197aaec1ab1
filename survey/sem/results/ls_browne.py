"""Browne's residual-based tests of a continuous least-squares fit (lavaan 0.6.14 ``test =
"browne.residual.adf" | "browne.residual.nt"`` with GLS / ULS / WLS / DWLS, ``lav_test_browne``), any
groups, group / label equalities, explicit linear equalities, fixed.x covariates, sampling weights (S the
weighted one, Gamma of the unweighted rows), complete data (lavaan refuses missing="pairwise").

With r_g = s_g - m_g (lavaan's sample statistics of these estimators, S of divisor N - 1, means first under
a mean structure), Gamma_g the ADF covariance of the moments (divisor N_g, under fixed.x lavaan's fixed.x
Gamma; the estimator's own NACOV) or the normal-theory one at S_g (``nt``; under fixed.x
Gamma(S) - Gamma(R) of :func:`survey.sem.inference.browne_model.gamma_nt`), G^- =
bdiag(Gamma_g^- (N_g - 1) / N) (Gamma_g^- the inverse without its zero rows, lavaan's ``MASS::ginv`` on the
fixed.x Gamma) and Delta = (Delta_1; ...; Delta_G) K the stacked Jacobian in the free parameters (Browne
1984, eq. 2.20a; lavaan's ``lineq`` form, which equals the per-group one without constraints):

    T_B = N (r' G^- r - r' G^- Delta (Delta' G^- Delta)^+ Delta' G^- r)   on the fit's df

(the GLS fit's T_B of ``nt`` is its chisq, the WLS fit's T_B of ``adf`` is its chisq).
"""

from __future__ import annotations

import numpy as np

from survey.sem.estimate.wls import sample_cov, sample_moments
from survey.sem.inference.browne_model import gamma_nt
from survey.sem.model.moments import moments_jacobian, vech_index

BROWNE = ("browne.residual.adf", "browne.residual.nt", "browne.residual.adf.model",
          "browne.residual.nt.model")


def _inverse_nonzero(a: np.ndarray) -> np.ndarray:
    keep = ~(np.all(a == 0, axis=0) & np.all(a == 0, axis=1))
    out = np.zeros_like(a)
    out[np.ix_(keep, keep)] = np.linalg.pinv(a[np.ix_(keep, keep)], hermitian=True)
    return out


def equality_null_space(mg, theta: np.ndarray) -> np.ndarray | None:
    """K_eq with theta = K_eq u spanning the explicit linear equality constraints (``a == b``; lavaan's
    ``eq.constraints.K``): the null space of their Jacobian; None without them. Inequalities and nonlinear
    equalities: a SurveyInputError (lavaan refuses the latter, "Browne's test is not available (yet) when
    nonlinear equality constraints are involved")."""
    from scipy.linalg import null_space

    from survey.errors import SurveyInputError
    from survey.sem.constrained import constraint_functions
    from survey.sem.results.values import values_at
    from survey.sem.standardize import numerical_jacobian

    pt = mg.partable
    if not pt["op"].isin(["==", "<", ">"]).any():
        return None
    if pt["op"].isin(["<", ">"]).any():
        raise SurveyInputError("Browne's residual-based test beside inequality constraints is not available "
                               "yet (available: equality constraints)", field="test")
    eq, _, _, _ = constraint_functions(pt, lambda t: values_at(mg, t))
    jac = numerical_jacobian(eq, np.asarray(theta, float))
    other = numerical_jacobian(eq, np.asarray(theta, float) * 1.1 + 0.05)
    if np.max(np.abs(jac - other)) > 1e-6 * max(1.0, float(np.max(np.abs(jac)))):
        raise SurveyInputError("lavaan 0.6.14 refuses it (\"Browne's test is not available (yet) when "
                               "nonlinear equality constraints are involved\"; available: linear equality "
                               "constraints)", field="test")
    return null_space(jac)


def browne_residual(mg, blocks, theta: np.ndarray, adf: bool, model: bool = False,
                    mg_estimator: str = "GLS") -> tuple[float, list[float]]:
    """T_B of the module notes (explicit linear equalities: Delta K K_eq, :func:`equality_null_space`) and
    lavaan's ``stat.group``: N e_g' W_g e_g of the residuals e = r - Delta u left by the projection (the
    per-group statistics), or T_B N_g / N when the model has equality constraints (lavaan's proxy).
    ``model``: Gamma_g at the implied moments (lavaan's ``.model`` tests, survey.sem.inference.browne_model);
    with ``adf`` only under ``mg_estimator`` GLS, as ULS / DWLS / WLS carry lavaan's sample NACOV."""
    from scipy.linalg import block_diag

    from survey.sem.inference.browne_model import gamma_adf_model
    from survey.sem.inference.ls_robust import _gamma

    ms = bool(mg.meanstructure)
    n_total = float(sum(b.n for b in blocks))
    constrained = mg.free_rows > mg.npar or bool(mg.partable["op"].isin(["=="]).any())
    rows, cols = vech_index(len(mg.ov))
    res, gis, deltas = [], [], []
    for g, block in enumerate(blocks):
        local = mg.local(mg.k @ theta, g)
        imp = mg.models[g].implied(local)
        m = imp.sigma[rows, cols]
        res.append(sample_moments(block, ms) - (np.concatenate([imp.mean, m]) if ms else m))
        x_index = list(getattr(block, "x_index", []) or [])
        if ms and x_index and not constrained:  # lavaan: rounding noise there (its singular inverse)
            from survey.sem.inference.adjusted import refuse_unstable_fixed_x

            refuse_unstable_fixed_x(f"browne.residual.{'adf' if adf else 'nt'}{'.model' if model else ''}")
        if adf:
            # ULS / DWLS / WLS keep the sample NACOV, which lavaan then uses for ".adf.model" too (R-checked)
            structured = model and mg_estimator == "GLS"
            gamma = gamma_adf_model(block.raw, imp.mean, imp.sigma, ms, x_index) if structured else \
                _gamma(block, ms)
        else:  # lavaan's normal-theory Gamma at S (fixed.x: Gamma(S) - Gamma(R), lav_samplestats_Gamma_NT)
            gamma = gamma_nt(imp.sigma if model else sample_cov(block), ms, x_index)
        gis.append(_inverse_nonzero(gamma) * (block.n - 1) / n_total)
        deltas.append(moments_jacobian(mg.models[g], local, ms) @ mg.k[mg.index[g], :])
    r, gi, d = np.concatenate(res), block_diag(*gis), np.vstack(deltas)
    k_eq = equality_null_space(mg, theta)
    d = d if k_eq is None else d @ k_eq
    gi_r, gi_d = gi @ r, gi @ d
    c = d.T @ gi_r
    u = np.linalg.pinv(d.T @ gi_d, hermitian=True) @ c
    stat = max(n_total * float(r @ gi_r - c @ u), 0.0)
    if k_eq is not None or mg.free_rows > mg.npar:  # equality constraints: lavaan's proxy T_B N_g / N
        return stat, [stat * b.n / n_total for b in blocks]
    e, ends = r - d @ u, np.cumsum([len(x) for x in res])
    starts = np.r_[0, ends[:-1]]
    parts = [n_total * float(e[a:b] @ w @ e[a:b]) for a, b, w in zip(starts, ends, gis, strict=True)]
    return stat, parts if stat > 0 else [0.0] * len(parts)


def browne_test(test: str, mg, blocks, theta: np.ndarray, df: float,
                estimator: str = "GLS") -> dict[str, float]:
    """lavaan's ``lavInspect(fit, "test")$browne.residual.*`` entry (stat, df, pvalue)."""
    from survey import distributions as sps

    stat, groups = browne_residual(mg, list(blocks), theta, adf=".adf" in test, model=test.endswith(".model"),
                                   mg_estimator=str(estimator).upper())
    return {"test": test, "stat": stat, "stat.group": groups, "df": float(df),
            "pvalue": float(sps.chi2.sf(stat, df)) if df > 0 else float("nan")}
