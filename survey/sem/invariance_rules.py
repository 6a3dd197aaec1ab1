"""The rules of the measurement invariance sequence (:mod:`survey.sem.invariance`): the steps and their
lavaan ``group.equal`` classes, Chen's (2007) cut-offs, the likelihood-ratio test of nested steps and
the family-wise adjustment of score tests (see :mod:`survey.sem.invariance` for the references)."""


from __future__ import annotations

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.mgresult import MultiGroupResult

STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}
# Chen (2007) cut-offs per step: (delta CFI lower bound, delta RMSEA upper bound, delta SRMR upper bound)
CUTOFFS = {
    "metric": (-0.010, 0.015, 0.030),
    "scalar": (-0.010, 0.015, 0.010),
    "strict": (-0.010, 0.015, 0.010),
}
RULES = {
    step: f"pass if delta.cfi >= {c:.3f} and (delta.rmsea <= {r:.3f} or delta.srmr <= {s:.3f}) (Chen 2007)"
    for step, (c, r, s) in CUTOFFS.items()
}
CRITERIA = ("chen", "lrt", "both")
ADJUSTMENTS = ("holm", "bonferroni")
SCORE_COLUMNS = ["step", "model", "lhs", "op", "rhs", "group.a", "group.b", "X2", "df", "p.value", "p.adj",
                 "flagged"]
COLUMNS = [
    "model",
    "chisq",
    "df",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "aic",
    "bic",
    "delta.cfi",
    "delta.rmsea",
    "delta.srmr",
    "lrt.chisq",
    "lrt.df",
    "lrt.pvalue",
    "decision",
]


def _step_class(op: str, lhs: str, step: str, lv: set[str]) -> bool:
    """Is the (lhs, op) constraint one the step adds (loadings / intercepts / residual variances)?"""
    if step == "metric":
        return op == "=~"
    if step == "scalar":
        return op == "~1" and lhs not in lv
    if step == "strict":
        return op == "~~" and lhs not in lv
    return False


def adjust_pvalues(pvalues: np.ndarray | pd.Series, method: str = "holm") -> np.ndarray:
    """Family-wise adjusted p-values of m tests (R ``p.adjust``): Bonferroni min(1, m p); Holm (1979)
    step-down, with the p-values sorted increasingly p_(1) <= ... <= p_(m),
    p_adj(i) = max_(j <= i) min(1, (m - j + 1) p_(j)). NaN p-values stay NaN and do not count in m."""
    if method not in ADJUSTMENTS:
        raise SurveyInputError(f"unknown p-value adjustment (use {', '.join(ADJUSTMENTS)})", value=method,
                               field="adjust")
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, m * p[ok])
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def rules_for(criterion: str = "chen", alpha: float = 0.05, adjust: str | None = None) -> dict[str, str]:
    """The decision rule of every step, in words, for :func:`invariance`'s options."""
    lrt = f"likelihood-ratio test p >= {alpha:g}"
    out = {}
    for step, chen in RULES.items():
        rule = {"chen": chen, "lrt": f"pass if {lrt}", "both": f"{chen} and {lrt}"}[criterion]
        if adjust is not None:
            rule += (f"; and no univariate score test of the step's constraints significant at {alpha:g} "
                     f"after {adjust.capitalize()} adjustment (lavTestScore)")
        out[step] = rule
    return out


def chen_decision(step: str, delta_cfi: float, delta_rmsea: float, delta_srmr: float) -> bool:
    """Chen (2007) rule for ``step`` (see :data:`RULES`): True when the constraints are tenable."""
    c, r, s = CUTOFFS[step]
    eps = 1e-12
    return bool(delta_cfi >= c - eps and (delta_rmsea <= r + eps or delta_srmr <= s + eps))


# under MLR the table reports the scaled chi-square and the robust CFI/TLI/RMSEA (Brosseau-Liard & Savalei)
MLR_NAMES = {"chisq": "chisq.scaled", "cfi": "cfi.robust", "tli": "tli.robust", "rmsea": "rmsea.robust"}


def reported_measures(fit: MultiGroupResult) -> dict[str, float]:
    """chisq df cfi tli rmsea srmr aic bic of a fit: ML values, or under MLR the scaled chi-square and the
    robust CFI, TLI and RMSEA (with ``chisq.ml`` and ``chisq.scaling.factor`` added)."""
    f = fit.fit_measures()
    out = {k: f[k] for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}
    if robust_fit(fit):
        out.update({k: f[v] for k, v in MLR_NAMES.items()})
        out["chisq.ml"] = f["chisq"]
        out["chisq.scaling.factor"] = f["chisq.scaling.factor"]
    return out


def robust_fit(fit: MultiGroupResult) -> bool:
    """A fit whose test lavaan scales: MLR / MLM, or missing = "two.stage" / "robust.two.stage" (lavaan's
    test "satorra.bentler" beside the standard one; ``lavTestLRT`` then takes the Satorra-Bentler (2001)
    scaled difference)."""
    return fit.estimator in ("MLR", "MLM") or getattr(fit, "two_stage", None) is not None


def lr_test(restricted: MultiGroupResult, free: MultiGroupResult) -> tuple[float, float, float]:
    """Chi-square difference test of nested fits (lavaan ``lavTestLRT``): (stat, df, p-value).

    ML: T_0 - T_1 on df_0 - df_1. MLR: the Satorra-Bentler (2001) scaled difference of the ML statistics
    with the scaling factors c_0, c_1 (:func:`survey.sem.compare.scaled_chisq_difference`); NaN when its
    correction is not positive.
    """
    a, b = restricted.fit_measures(), free.fit_measures()
    ddf = a["df"] - b["df"]
    if ddf <= 0:
        return float("nan"), ddf, float("nan")
    if robust_fit(restricted) and robust_fit(free) and free.estimator == restricted.estimator:
        from survey.sem.compare import scaled_chisq_difference

        try:
            stat, _ = scaled_chisq_difference(
                a["chisq"],
                int(a["df"]),
                a["chisq.scaling.factor"],
                b["chisq"],
                int(b["df"]),
                b["chisq.scaling.factor"],
            )
        except SurveyInputError:
            return float("nan"), ddf, float("nan")
    else:
        stat = a["chisq"] - b["chisq"]
    stat = max(stat, 0.0)
    return stat, ddf, float(sps.chi2.sf(stat, ddf))


def _op_lhs(label: str) -> tuple[str, str]:
    for op in ("=~", "~~", "~1", "~"):
        if op in label:
            return op, label.split(op, 1)[0]
    return "", label


DELTA_COLUMNS = ("delta.cfi", "delta.rmsea", "delta.srmr", "lrt.chisq", "lrt.df", "lrt.pvalue")

def _passes(step: str, fit: MultiGroupResult, reference: MultiGroupResult) -> bool:
    f, r = reported_measures(fit), reported_measures(reference)
    return chen_decision(step, f["cfi"] - r["cfi"], f["rmsea"] - r["rmsea"], f["srmr"] - r["srmr"])
