"""Robust ML for multi-group models: MLR (lavaan ``estimator="MLR"``), complete data.

With w_g = N_g/N, L_g the rows of K for group g's parameters and Delta_g = d(mu_g', vech(Sigma_g)')'/dtheta_g'
(:func:`survey.sem.robust.moments_jacobian`), g_i the casewise scores of the saturated normal model at the
model-implied moments (:func:`survey.sem.robust.h1_scores`):

    A    = 1/2 d2 F / dtheta dtheta'           (observed information per observation, F = sum_g w_g F_ML,g)
    B0   = 1/N sum_g sum_i s_i s_i',  s_i = (Delta_g L_g)' g_i              (first-order information)
    vcov = A^-1 B0 A^-1 / N                                                  (Huber 1967; White 1982)
    tr(U Gamma) = sum_g tr(A1_g^-1 B1_g) - tr(A^-1 B0),  c = tr(U Gamma) / df,  T_YB = T / c

with A1_g, B1_g the expected and first-order information of group g's saturated model at its sample
moments (Yuan & Bentler 2000; the Mplus variant, lavaan ``test="yuan.bentler.mplus"``). The baseline
(independence) model gets its own factor c_b. Fit measures (lavaan names, multi-group forms):

    chisq.scaled = T / c;  cfi.scaled, tli.scaled on (T/c, T_b/c_b);  rmsea.scaled on T/c (times sqrt(G))
    cfi.robust = 1 - max(T - c df, 0) / max(T - c df, T_b - c_b df_b, 0)      (Brosseau-Liard & Savalei 2014)
    tli.robust = 1 - (T - c df) df_b / ((T_b - c_b df_b) df)
    rmsea.robust = sqrt(max(T/(N df) - c/N, 0)) sqrt(G)                   (Brosseau-Liard, Savalei & Li 2012)

Nested models are compared by the Satorra-Bentler (2001) scaled difference
(:func:`survey.sem.compare.scaled_chisq_difference`), lavaan's ``lavTestLRT`` default for MLR.
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.data import SampleStats
from survey.sem.groups import group_partable
from survey.sem.multigroup import MultiGroupModel, mg_gradient
from survey.sem.robust import (
    TEST_NAMES,
    ScaledTest,
    h1_information,
    h1_scores,
    moments_jacobian,
    symmetric_inverse,
)

MGScaledTest = ScaledTest  # the Yuan-Bentler (Mplus) scaled test of a multi-group fit


def mg_observed_information(mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray) -> np.ndarray:
    """A = 1/2 Hessian of F by central differences of the analytic gradient (symmetrised)."""
    q = theta.size
    h = np.empty((q, q))
    for k in range(q):
        step = 1e-6 * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = step
        h[:, k] = (mg_gradient(mg, stats, theta + e) - mg_gradient(mg, stats, theta - e)) / (2 * step)
    return 0.25 * (h + h.T)


def mg_first_order(mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray) -> np.ndarray:
    """B0 = 1/N sum_g sum_i s_i s_i' with s_i the casewise scores in the shared parameters."""
    full = mg.k @ theta
    b0 = np.zeros((mg.npar, mg.npar))
    for i, (ram, g) in enumerate(zip(mg.models, stats.groups, strict=True)):
        local = mg.local(full, i)
        imp = ram.implied(local)
        delta = moments_jacobian(ram, local, True) @ mg.k[mg.index[i], :]
        s = h1_scores(g.raw, imp.sigma, imp.mean, True) @ delta
        b0 += s.T @ s
    return b0 / stats.ntotal


def h1_trace(stats: SampleStats) -> float:
    """sum_g tr(A1_g^-1 B1_g) of the saturated models at the sample moments."""
    total = 0.0
    for g in stats.groups:
        a1 = h1_information(g.cov, True)
        s1 = h1_scores(g.raw, g.cov, g.mean, True)
        b1 = s1.T @ s1 / g.n
        total += float(np.sum(b1 * np.linalg.inv(a1).T))
    return total


def mlr_multigroup(
    mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray, fml: float, df: float
) -> tuple[np.ndarray, MGScaledTest]:
    """Huber-White vcov and the Yuan-Bentler (Mplus) scaled test of a multi-group ML solution."""
    a_inv = symmetric_inverse(mg_observed_information(mg, stats, theta))
    b0 = mg_first_order(mg, stats, theta)
    vcov = a_inv @ b0 @ a_inv / stats.ntotal
    trace = h1_trace(stats) - float(np.sum(b0 * a_inv.T))
    c = trace / df if df > 0 else float("nan")
    test = ScaledTest(
        TEST_NAMES["MLR"], float(stats.ntotal * fml), float(df), trace, c if c > 0 else float("nan")
    )
    return (vcov + vcov.T) / 2.0, test


def baseline_mlr(stats: SampleStats) -> MGScaledTest:
    """Scaled test of the multi-group independence model (free variances and means in every group)."""
    names = stats.names
    syntax = "\n".join(f"{v} ~~ {v}" for v in names) + "\n" + "\n".join(f"{v} ~ 1" for v in names)
    mg = MultiGroupModel.from_partable(group_partable(syntax, len(stats.groups)))
    theta = np.zeros(mg.npar)
    pt = mg.partable
    for row in pt[pt["free"] > 0].itertuples(index=False):
        g = stats.groups[int(row.group) - 1]
        j = names.index(row.lhs)
        theta[int(row.free) - 1] = g.cov[j, j] if row.op == "~~" else g.mean[j]
    fml = 0.0
    n = stats.ntotal
    for g in stats.groups:
        d = np.diag(np.diag(g.cov))
        fml += g.n / n * (np.linalg.slogdet(d)[1] - g.logdet)
    p = len(names)
    df = len(stats.groups) * p * (p - 1) / 2
    return mlr_multigroup(mg, stats, theta, fml, df)[1]


def robust_fit_measures(test: MGScaledTest, base: MGScaledTest, n: int, n_groups: int) -> dict[str, float]:
    """Scaled and robust fit measures (lavaan names) from the scaled tests of the model and baseline."""
    t, df, c = test.stat, test.df, test.scaling_factor
    tb, dfb, cb = base.stat, base.df, base.scaling_factor
    ts, tbs = t / c, tb / cb
    num = max(ts - df, 0.0)
    den = max(tbs - dfb, ts - df, 0.0)
    cfi_scaled = 1.0 if den == 0 else 1.0 - num / den
    tli_scaled = (tbs / dfb - ts / df) / (tbs / dfb - 1.0) if df > 0 else float("nan")
    num = max(t - c * df, 0.0)
    den = max(t - c * df, tb - cb * dfb, 0.0)
    cfi_robust = 1.0 if den == 0 else 1.0 - num / den
    tli_robust = 1.0 - (t - c * df) * dfb / ((tb - cb * dfb) * df) if df > 0 else float("nan")
    g = np.sqrt(n_groups)
    rmsea_scaled = float(np.sqrt(max(ts / (n * df) - 1.0 / n, 0.0)) * g) if df > 0 else 0.0
    rmsea_robust = float(np.sqrt(max(t / (n * df) - c / n, 0.0)) * g) if df > 0 else 0.0
    return {
        "chisq.scaled": ts,
        "df.scaled": df,
        "pvalue.scaled": test.pvalue_scaled,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": tbs,
        "baseline.df.scaled": dfb,
        "baseline.pvalue.scaled": base.pvalue_scaled,
        "baseline.chisq.scaling.factor": cb,
        "cfi.scaled": cfi_scaled,
        "tli.scaled": tli_scaled,
        "cfi.robust": cfi_robust,
        "tli.robust": tli_robust,
        "rmsea.scaled": rmsea_scaled,
        "rmsea.robust": rmsea_robust,
    }


def check_mlr_model(mg: MultiGroupModel) -> None:
    """MLR here covers models without fixed exogenous covariates (fixed.x) only."""
    if mg.models[0].names.ov_x:
        raise SurveyInputError(
            "estimator='MLR' for multi-group models with exogenous observed covariates is "
            "not available (use ML)",
            field="estimator",
            value=mg.models[0].names.ov_x[0],
        )
