"""Robust ML: MLR (Huber-White sandwich + Yuan-Bentler test) and MLM (robust.sem + Satorra-Bentler test).

Notation (unit, i.e. per-observation, matrices; lavaan 0.6 ``lav_model_information*``, ``lav_test_*``):
``s = (mu', vech(Sigma)')'`` the saturated (h1) moments, ``Delta = ds/dtheta'`` (p* x q),
``W(Sigma) = blockdiag(Sigma^-1, 1/2 D'(Sigma^-1 (x) Sigma^-1) D)`` the normal-theory h1 information,
``g_i = dl_i/ds`` the casewise h1 scores
``(Sigma^-1 d_i, vech-score of 1/2 Sigma^-1 (d_i d_i' - Sigma) Sigma^-1)``,
``Gamma`` the ADF covariance of ``(y_i, vech((y_i - ybar)(y_i - ybar)'))`` (divisor N).

MLR (lavaan ``estimator="MLR"``: ``se="robust.huber.white"``, ``test="yuan.bentler.mplus"``,
``information="observed"``, ``observed.information="hessian"``):

    A  = -1/N d2 logl / dtheta dtheta'  (observed information of the model, at theta_hat)
    B0 = 1/N sum_i (Delta' g_i)(Delta' g_i)'  (first-order information, scores at the model-implied moments)
    vcov = A^-1 B0 A^-1 / N                                          (Huber 1967; White 1982)
    tr(U Gamma) = tr(A1^-1 B1) - tr(A^-1 B0),  c = tr(U Gamma) / df,  T_YB = T / c
      with A1, B1 the observed and first-order information of the saturated model at the sample moments
      (Yuan & Bentler 2000, Sociological Methodology 30; the Mplus variant, Muthen & Muthen; lavaan's
      ``lav_test_yuan_bentler_mplus_trace``); scaling.factor.h1 = tr(A1^-1 B1) / p*, scaling.factor.h0 =
      tr(A^-1 B0) / q.

MLM (lavaan ``estimator="MLM"``: ``se="robust.sem"``, ``test="satorra.bentler"``, expected information):

    E = Delta' W Delta (W at the model-implied Sigma),  vcov = E^-1 (Delta' W Gamma W Delta) E^-1 / N
    U = W - W Delta E^-1 Delta' W,   c = tr(U Gamma) / df,  T_SB = T / c      (Satorra & Bentler 1994)

Fit measures with lavaan's names (``fitMeasures()``): the ``.scaled`` versions apply the usual formulas to
the scaled statistics (baseline scaled with its own factor); the ``.robust`` versions are those of
Brosseau-Liard, Savalei & Li (2012, MBR 47) for the RMSEA and Brosseau-Liard & Savalei (2014, MBR 49)
for CFI/TLI/RNI:

    rmsea.robust = sqrt(max(T / (N df) - c / N, 0)), CI from the noncentral chi2 of T/c times sqrt(c)
    cfi.robust   = 1 - max(T - c df, 0) / max(T - c df, T_b - c_b df_b, 0)
    tli.robust   = 1 - (T - c df) df_b / ((T_b - c_b df_b) df)
    rmsea.scaled = RMSEA of T with df = tr(U Gamma) (lavaan's definition), CI likewise.

``scaled_difference(fit0, fit1)`` is the Satorra-Bentler (2001) scaled difference test
(:func:`survey.sem.compare.scaled_chisq_difference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import stats as sps

from survey.errors import EstimationError, SurveyInputError
from survey.sem.compare import scaled_chisq_difference
from survey.sem.data import GroupStats
from survey.sem.estimate import observed_hessian
from survey.sem.fitmeasures import cfi as cfi_index
from survey.sem.fitmeasures import ifi as ifi_index
from survey.sem.fitmeasures import nfi as nfi_index
from survey.sem.fitmeasures import rfi as rfi_index
from survey.sem.fitmeasures import rni as rni_index
from survey.sem.fitmeasures import tli as tli_index
from survey.sem.measures.robust import (  # noqa: F401 - re-exported
    cfi_robust,
    rmsea_ci_scaled,
    rmsea_close_pvalue,
    rmsea_value,
    rni_robust,
    tli_robust,
)
from survey.sem.model import RAMModel
from survey.sem.model.moments import (  # noqa: F401 - re-exported (moved to survey.sem.model.moments)
    duplication_matrix,
    gamma_adf,
    h1_information,
    h1_scores,
    moments_jacobian,
    vech_index,
)
from survey.sem.result import SEMResult
from survey.sem.syntax import lavaanify
from survey.sem.vcov import Information

ROBUST_ESTIMATORS = ("MLR", "MLM")
TEST_NAMES = {"MLR": "yuan.bentler.mplus", "MLM": "satorra.bentler"}


# ---------------------------------------------------------------------------------------------- moments
# ---------------------------------------------------------------------------------------------- robust pieces
@dataclass
class ScaledTest:
    """A scaled chi-square test (lavaan ``lavInspect(fit, "test")[[2]]``)."""

    method: str
    stat: float
    df: float
    trace: float
    scaling_factor: float
    scaling_factor_h1: float = float("nan")
    scaling_factor_h0: float = float("nan")

    @property
    def stat_scaled(self) -> float:
        return self.stat / self.scaling_factor

    @property
    def pvalue_scaled(self) -> float:
        return float(sps.chi2.sf(self.stat_scaled, self.df)) if self.df > 0 else float("nan")


def symmetric_inverse(info: np.ndarray) -> np.ndarray:
    """(A^-1 + A^-T) / 2 of an information matrix; singular -> EstimationError."""
    try:
        inv = np.linalg.inv(info)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "the information matrix is singular; robust statistics cannot be computed"
        ) from exc
    return (inv + inv.T) / 2.0


def mlr_pieces(
    model: RAMModel, stats: GroupStats, theta: np.ndarray, df: float
) -> tuple[np.ndarray, ScaledTest]:
    """Sandwich vcov (Huber-White) and the Yuan-Bentler (Mplus) scaled test, complete data."""
    x = stats.raw
    n = x.shape[0]
    ms = model.meanstructure
    imp = model.implied(theta)
    mu = imp.mean if ms else stats.mean
    a = 0.5 * observed_hessian(model, stats, theta)
    a_inv = symmetric_inverse(a)
    delta = moments_jacobian(model, theta, ms)
    scores = h1_scores(x, imp.sigma, mu, ms) @ delta
    b0 = scores.T @ scores / n
    vcov = a_inv @ b0 @ a_inv / n
    a1 = h1_information(stats.cov, ms)
    g1 = h1_scores(x, stats.cov, stats.mean, ms)
    b1 = g1.T @ g1 / n
    trace_h1 = float(np.sum(b1 * np.linalg.inv(a1).T))
    trace_h0 = float(np.sum(b0 * a_inv.T))
    trace = trace_h1 - trace_h0
    c = trace / df if df > 0 else float("nan")
    test = ScaledTest(
        TEST_NAMES["MLR"],
        float(n * _fml(model, stats, theta)),
        df,
        trace,
        c if c > 0 else float("nan"),
        trace_h1 / a1.shape[0],
        trace_h0 / max(theta.size, 1),
    )
    return (vcov + vcov.T) / 2.0, test


def mlm_pieces(
    model: RAMModel, stats: GroupStats, theta: np.ndarray, df: float
) -> tuple[np.ndarray, ScaledTest]:
    """robust.sem vcov and the Satorra-Bentler scaled test, complete data, expected information."""
    x = stats.raw
    n = x.shape[0]
    ms = model.meanstructure
    imp = model.implied(theta)
    w = h1_information(imp.sigma, ms)
    delta = moments_jacobian(model, theta, ms)
    e = delta.T @ w @ delta
    e_inv = symmetric_inverse(e)
    gamma = gamma_adf(x, ms)
    wd = w @ delta
    vcov = e_inv @ (wd.T @ gamma @ wd) @ e_inv / n
    u = w - wd @ e_inv @ wd.T
    trace = float(np.sum(u * gamma))
    c = trace / df if df > 0 else float("nan")
    test = ScaledTest(
        TEST_NAMES["MLM"], float(n * _fml(model, stats, theta)), df, trace, c if c > 0 else float("nan")
    )
    return (vcov + vcov.T) / 2.0, test


def _fml(model: RAMModel, stats: GroupStats, theta: np.ndarray) -> float:
    from survey.sem.estimate import objective

    return objective(model, stats, theta)[0]


def independence_model(names: list[str], meanstructure: bool) -> RAMModel:
    """The baseline (independence) model: free variances (and intercepts), zero covariances."""
    syntax = "\n".join(f"{v} ~~ {v}" for v in names)
    if meanstructure:
        syntax += "\n" + "\n".join(f"{v} ~ 1" for v in names)
    return RAMModel(lavaanify(syntax, meanstructure=meanstructure))


def independence_theta(model: RAMModel, cov: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Closed-form ML estimates of the independence model: the sample variances (and means)."""
    theta = np.zeros(model.npar)
    idx = {v: i for i, v in enumerate(model.ov)}
    for row in model.partable.itertuples(index=False):
        if row.free > 0:
            j = idx[row.lhs]
            theta[row.free - 1] = cov[j, j] if row.op == "~~" else mean[j]
    return theta


def robust_pieces(
    estimator: str, model: RAMModel, stats: GroupStats, theta: np.ndarray, df: float
) -> tuple[np.ndarray, ScaledTest]:
    """vcov and scaled test of ``estimator`` ("MLR" or "MLM")."""
    if estimator == "MLR":
        return mlr_pieces(model, stats, theta, df)
    if estimator == "MLM":
        return mlm_pieces(model, stats, theta, df)
    raise SurveyInputError("robust estimator must be MLR or MLM", value=estimator, field="estimator")


# ---------------------------------------------------------------------------------------------- fit measures
def scaled_measures(
    test: ScaledTest,
    base: ScaledTest,
    n: int,
    *,
    robust: ScaledTest | None = None,
    robust_base: ScaledTest | None = None,
) -> dict[str, float]:
    """The ``.scaled`` and ``.robust`` fit measures of lavaan's ``fitMeasures()`` from two scaled tests.

    ``robust``/``robust_base`` default to ``test``/``base`` (complete data); with missing data they are the
    FIML-corrected tests (Savalei 2018) that lavaan uses for the robust measures.
    """
    robust = robust if robust is not None else test
    robust_base = robust_base if robust_base is not None else base
    t, df, c = test.stat, test.df, test.scaling_factor
    ts, tbs = test.stat_scaled, base.stat_scaled
    dfb = base.df
    out = {
        "chisq.scaled": ts,
        "df.scaled": df,
        "pvalue.scaled": test.pvalue_scaled,
        "chisq.scaling.factor": c,
        "baseline.chisq.scaled": tbs,
        "baseline.df.scaled": dfb,
        "baseline.pvalue.scaled": base.pvalue_scaled,
        "baseline.chisq.scaling.factor": base.scaling_factor,
        "cfi.scaled": cfi_index(ts, df, tbs, dfb),
        "tli.scaled": tli_index(ts, df, tbs, dfb),
        "nnfi.scaled": tli_index(ts, df, tbs, dfb),
        "rfi.scaled": rfi_index(ts, df, tbs, dfb),
        "nfi.scaled": nfi_index(ts, tbs),
        "pnfi.scaled": df / dfb * nfi_index(ts, tbs) if dfb else float("nan"),
        "ifi.scaled": ifi_index(ts, df, tbs),
        "rni.scaled": rni_index(ts, df, tbs, dfb),
    }
    rt, rdf, rc = robust.stat, robust.df, robust.scaling_factor
    rtb, rcb = robust_base.stat, robust_base.scaling_factor
    out.update(
        {
            "cfi.robust": cfi_robust(rt, df, rtb, dfb, rc, rcb),
            "tli.robust": tli_robust(rt, df, rtb, dfb, rc, rcb),
            "nnfi.robust": tli_robust(rt, df, rtb, dfb, rc, rcb),
            "rni.robust": rni_robust(rt, df, rtb, dfb, rc, rcb),
        }
    )
    if test.method == TEST_NAMES["MLR"]:
        out["scaling.factor.h1"] = test.scaling_factor_h1
        out["scaling.factor.h0"] = test.scaling_factor_h0
    lo, hi = rmsea_ci_scaled(t, test.trace, n)
    rlo, rhi = rmsea_ci_scaled(robust.stat_scaled, rdf, n, rc)
    out.update(
        {
            "rmsea.scaled": rmsea_value(t, test.trace, n),
            "rmsea.ci.lower.scaled": lo,
            "rmsea.ci.upper.scaled": hi,
            "rmsea.pvalue.scaled": rmsea_close_pvalue(t, test.trace, n),
            "rmsea.robust": rmsea_value(rt, rdf, n, rc),
            "rmsea.ci.lower.robust": rlo,
            "rmsea.ci.upper.robust": rhi,
            "rmsea.pvalue.robust": rmsea_close_pvalue(robust.stat_scaled, rdf, n, rc),
        }
    )
    return {k: float(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------- result
class RobustSEMResult(SEMResult):
    """:class:`SEMResult` of an MLR/MLM fit: sandwich standard errors and scaled/robust fit measures."""

    def __init__(self, *args, scaled_test: ScaledTest, **kwargs) -> None:
        self.scaled_test = scaled_test
        super().__init__(*args, **kwargs)

    @cached_property
    def baseline_test(self) -> ScaledTest:
        """The scaled test of the independence model (same estimator)."""
        g = self.group_stats
        base = independence_model(self.ram.ov, self.ram.meanstructure)
        theta_b = independence_theta(base, g.cov, g.mean)
        p = self.ram.p
        dfb = p * (p - 1) // 2
        _, test = robust_pieces(self.estimator, base, g, theta_b, dfb)
        return test

    @cached_property
    def _fit(self) -> dict[str, float]:
        out = dict(SEMResult._fit.func(self))
        out.update(scaled_measures(self.scaled_test, self.baseline_test, self.nobs))
        return out


def fit_robust(model: str, data, *, estimator: str) -> RobustSEMResult:
    """Fit ``model`` by ML with robust (``estimator`` MLR or MLM) standard errors and test, complete data.

    The point estimates are the ML ones; the standard errors are the estimator's (lavaan's defaults:
    Huber-White sandwich with the observed information for MLR, robust.sem for MLM).
    """
    est = str(estimator).upper()
    if est not in ROBUST_ESTIMATORS:
        raise SurveyInputError("robust estimator must be MLR or MLM", value=estimator, field="estimator")
    from survey.sem.api import prepare_ml

    parts = prepare_ml(model, data)
    ram, g, theta = parts["ram"], parts["stats"].groups[0], parts["estimation"].theta
    if ram.names.ov_x:
        raise SurveyInputError(
            "robust (MLR/MLM) statistics are not available for models with observed "
            "exogenous covariates (fixed.x); model them as ~~ variables",
            value=", ".join(ram.names.ov_x),
            field="model",
        )
    from survey.sem.test import n_moments

    df = n_moments(ram.p, 0, ram.meanstructure) - ram.npar
    info = parts["information"]
    vcov, test = robust_pieces(est, ram, g, theta, df)
    if info is not None and not info.singular:
        info = Information(info.information, vcov, False, info.min_eigenvalue)
    return RobustSEMResult(
        model=model,
        partable=parts["partable"],
        ram=ram,
        stats=parts["stats"],
        estimation=parts["estimation"],
        information=info,
        warnings=parts["warnings"],
        estimator=est,
        start=parts["start"],
        scaled_test=test,
    )


def scaled_difference(fit0: SEMResult, fit1: SEMResult) -> dict[str, float]:
    """Satorra-Bentler (2001) scaled chi-square difference of nested robust fits (``fit0`` restricted).

    Returns ``{"chisq.diff", "df.diff", "pvalue"}`` as lavaan's ``lavTestLRT(method="satorra.bentler.2001")``.
    """
    m0, m1 = fit0.fit_measures(), fit1.fit_measures()
    for m in (m0, m1):
        if "chisq.scaling.factor" not in m:
            raise SurveyInputError("scaled_difference needs two robust (MLR/MLM) fits", field="estimator")
    stat, ddf = scaled_chisq_difference(
        m0["chisq"],
        int(m0["df"]),
        m0["chisq.scaling.factor"],
        m1["chisq"],
        int(m1["df"]),
        m1["chisq.scaling.factor"],
    )
    stat = max(stat, 0.0)
    return {"chisq.diff": float(stat), "df.diff": float(ddf), "pvalue": float(sps.chi2.sf(stat, ddf))}


def fit_extended(
    model: str,
    data,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    se: str = "standard",
    bootstrap: int | None = None,
    seed: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> SEMResult:
    """:func:`survey.sem.fit` for the options beyond plain ML: ``estimator`` MLR/MLM, ``missing="fiml"``
    (lavaan ``"ml"``), ``se="bootstrap"`` (``bootstrap`` replicates, default 1000 as lavaan).

    MLR/MLM always report their robust standard errors (``se="robust"`` is their default; lavaan's);
    ``se="bootstrap"`` replaces the standard errors and CIs by bootstrap ones (with FIML the replicates
    resample whole rows, missing values included, and refit by FIML: lavaan ``missing="ml", se="bootstrap"``).
    """
    from survey.sem.api import fit as fit_ml

    est = str(estimator).upper()
    miss = str(missing).lower()
    se_name = str(se).lower()
    fiml = miss in ("fiml", "ml")
    if est not in ("ML", *ROBUST_ESTIMATORS):
        raise SurveyInputError(f"estimator={estimator!r} is not available (ML, MLR, MLM)", field="estimator")
    if se_name not in ("standard", "robust", "bootstrap"):
        raise SurveyInputError(f"se={se!r} is not available (standard, robust, bootstrap)", field="se")
    if se_name == "robust" and est == "ML":
        raise SurveyInputError(
            "se='robust' needs estimator='MLR' (sandwich) or 'MLM' (robust.sem)", field="se"
        )
    if fiml and est == "MLM":
        raise SurveyInputError(
            "estimator='MLM' needs complete data; use estimator='MLR' with missing='fiml'", field="estimator"
        )
    n_boot = int(bootstrap) if bootstrap else (1000 if se_name == "bootstrap" else 0)
    if fiml:
        from survey.sem.fiml import fit_fiml

        result = fit_fiml(model, data, estimator=est)
    elif est in ROBUST_ESTIMATORS:
        result = fit_robust(model, data, estimator=est)
    else:
        result = fit_ml(model, data)
    if n_boot:
        from survey.sem.bootstrap import bootstrap as run_bootstrap

        boot = run_bootstrap(result, n_boot, seed=seed, scheduler=scheduler, workers=workers)
        result.warnings += boot.warnings
        names = list(result.vcov().index)
        ok = boot.ok
        if len(ok) > 1 and result.information is not None:
            cov = np.cov(ok[names].to_numpy().T, ddof=1).reshape(len(names), len(names))
            result.information = Information(
                result.information.information, cov, False, result.information.min_eigenvalue
            )
            result.partable = result._fill_partable(result.partable)
        result.bootstrap = boot
    return result
