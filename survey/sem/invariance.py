"""Measurement invariance: configural -> metric -> scalar -> strict, with partial invariance.

Each step adds lavaan ``group.equal`` classes to the previous one (Meredith 1993; Vandenberg & Lance 2000):

    configural  same pattern, all parameters free per group (latent means 0)
    metric      + loadings                          (weak invariance)
    scalar      + intercepts   (latent means free in groups 2..G)   (strong invariance)
    strict      + residuals    (residual variances)

Successive steps are compared by the likelihood-ratio test (chi-square difference, lavaan ``lavTestLRT``:
T_k - T_(k-1) on df_k - df_(k-1)) and by the change in fit, with Chen's (2007) cut-offs:

    metric:         pass if dCFI >= -.010 and (dRMSEA <= .015 or dSRMR <= .030)
    scalar, strict: pass if dCFI >= -.010 and (dRMSEA <= .015 or dSRMR <= .010)

The global decision on a step (``criterion``):

    "chen"  (default) Chen's (2007) rule above;
    "lrt"   the likelihood-ratio test: the step fails when p < alpha;
    "both"  the step fails when either Chen's rule fails or the likelihood-ratio test is significant.

Chen's change-in-fit rules were proposed because the chi-square difference rejects trivial differences in
large samples (Cheung & Rensvold 2002; Chen 2007); but a change in CFI averages the misfit over all the
step's constraints, so one clearly non-invariant parameter among many (one intercept of 25, say) can pass
it. Localized non-invariance is found by the univariate score tests of the step's constraints (lavaan
``lavTestScore(fit)$uni``, one 1-df test per constraint, i.e. per parameter and group against group 1),
adjusted for testing all m of them (``adjust``): Holm (1979) step-down, p_(i) -> max_(j<=i) min(1,
(m - j + 1) p_(j)), or Bonferroni, min(1, m p). With ``adjust`` set, a step is tenable only when its global
criterion passes AND no adjusted score test of its (still constrained) parameters is below alpha; the
constraints flagged this way are reported (``InvarianceResult.score_tests()``) also when the global rule
passes. ``adjust=None`` (default) keeps the global rule alone.

Partial invariance (Byrne, Shavelson & Muthen 1989): when a step is not tenable, the equality constraint of
that step with the largest univariate score test (:mod:`survey.sem.score`) is released (``group_partial``,
which frees the parameter in every group, as lavaan's ``group.partial``), the model refitted, its score
tests recomputed, and this is repeated until the step is tenable or ``max_free`` constraints of the step
are released. Released constraints stay released in later steps. The score tests use the expected
information of the ML solution (also under MLR, whose point estimates are the ML ones).

References: Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement invariance.
*Structural Equation Modeling, 14*, 464-504. Cheung, G. W., & Rensvold, R. B. (2002). Evaluating
goodness-of-fit indexes for testing measurement invariance. *Structural Equation Modeling, 9*, 233-255.
Byrne, B. M., Shavelson, R. J., & Muthen, B. (1989). Testing for the equivalence of factor covariance and
mean structures. *Psychological Bulletin, 105*, 456-466. Holm, S. (1979). A simple sequentially
rejective multiple test procedure. *Scandinavian Journal of Statistics, 6*, 65-70. Meredith, W. (1993).
Measurement invariance, factor analysis and factorial invariance. *Psychometrika, 58*, 525-543.
Rosseel, Y. (2012). lavaan (``lavTestScore``), *Journal of Statistical Software, 48*(2).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError, SurveyWarning
from survey.progress import Progress
from survey.sem.invariance_groups import choose_groups, latent_means
from survey.sem.mgresult import MultiGroupResult
from survey.sem.multigroup import fit_multigroup, single_thread

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
    if fit.estimator in ("MLR", "MLM"):
        out.update({k: f[v] for k, v in MLR_NAMES.items()})
        out["chisq.ml"] = f["chisq"]
        out["chisq.scaling.factor"] = f["chisq.scaling.factor"]
    return out


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
    if restricted.estimator in ("MLR", "MLM") and free.estimator == restricted.estimator:
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


@dataclass
class InvarianceStep:
    """One fitted model of the sequence, compared with the accepted model of the previous step."""

    model: str
    step: str
    fit: MultiGroupResult
    freed: list[str] = field(default_factory=list)
    reference: MultiGroupResult | None = None
    passed: bool | None = None
    final: bool = True
    score_tests: pd.DataFrame | None = None
    global_passed: bool | None = None

    def row(self) -> dict[str, Any]:
        f = reported_measures(self.fit)
        extra = {k: f.pop(k) for k in ("chisq.ml", "chisq.scaling.factor") if k in f}
        if not self.fit.converged:  # no numbers from an optimizer that did not finish
            f = dict.fromkeys(f)
            extra = dict.fromkeys(extra)
        out: dict[str, Any] = {"model": self.model, **f}
        if not self.fit.converged or (self.reference is not None and not self.reference.converged):
            out.update(dict.fromkeys(DELTA_COLUMNS))
            out["decision"] = self.decision
        elif self.reference is None:
            out.update(
                {
                    "delta.cfi": None,
                    "delta.rmsea": None,
                    "delta.srmr": None,
                    "lrt.chisq": None,
                    "lrt.df": None,
                    "lrt.pvalue": None,
                    "decision": "reference",
                }
            )
        else:
            r = reported_measures(self.reference)
            stat, ddf, p = lr_test(self.fit, self.reference)
            out.update(
                {
                    "delta.cfi": f["cfi"] - r["cfi"],
                    "delta.rmsea": f["rmsea"] - r["rmsea"],
                    "delta.srmr": f["srmr"] - r["srmr"],
                    "lrt.chisq": stat,
                    "lrt.df": ddf,
                    "lrt.pvalue": p,
                    "decision": self.decision,
                }
            )
        out["freed"] = list(self.freed)
        out.update(extra)
        return out

    @property
    def decision(self) -> str:
        if not self.fit.converged:
            return "not converged"
        if self.reference is None:
            return "reference"
        own = [f for f in self.freed if _step_class(*_op_lhs(f), self.step, set(self.fit.mg.models[0].lv))]
        if self.passed:
            return f"partially invariant (freed: {', '.join(own)})" if own else "invariant"
        if own:
            return f"not invariant (freed: {', '.join(own)})"
        return "not invariant (score test)" if self.global_passed and self.score_tests is not None else (
            "not invariant"
        )


def _op_lhs(label: str) -> tuple[str, str]:
    for op in ("=~", "~~", "~1", "~"):
        if op in label:
            return op, label.split(op, 1)[0]
    return "", label


class InvarianceResult:
    """Result of :func:`invariance`: one row per fitted model (``to_frame()``), the fits, the freed items."""

    def __init__(
        self,
        steps: list[InvarianceStep],
        group: str,
        estimator: str,
        warnings: list[SurveyWarning],
        criterion: str = "chen",
        alpha: float = 0.05,
        adjust: str | None = None,
    ) -> None:
        self.steps = steps
        self.group = group
        self.estimator = estimator
        self.warnings = warnings
        self.criterion = criterion
        self.alpha = alpha
        self.adjust = adjust
        self.rules = rules_for(criterion, alpha, adjust)

    def score_tests(self, flagged_only: bool = False) -> pd.DataFrame:
        """Univariate score tests of the constraints each fitted step adds (still constrained ones), with
        the ``adjust``-ed p-value ``p.adj`` and ``flagged`` (p.adj < alpha), largest first per model; empty
        when the sequence ran without ``adjust`` (then only models that led to a release carry tests)."""
        frames = []
        for s in self.steps:
            if s.score_tests is None or s.score_tests.empty:
                continue
            frame = s.score_tests.copy()
            if "flagged" not in frame:
                frame["flagged"] = False
            frame.insert(0, "model", s.model)
            frame.insert(0, "step", s.step)
            frames.append(frame.reindex(columns=SCORE_COLUMNS))
        if not frames:
            return pd.DataFrame(columns=SCORE_COLUMNS)
        out = pd.concat(frames, ignore_index=True)
        if flagged_only:
            out = out[out["flagged"].astype(bool)].reset_index(drop=True)
        return out

    def latent_means(self) -> pd.DataFrame:
        """Latent mean differences (groups 2..G vs group 1) from the accepted scalar (or strict) model, once
        (partial) scalar invariance holds; empty otherwise."""
        for s in reversed(self.steps):
            if s.final and s.step in ("scalar", "strict") and s.passed and s.fit.converged:
                return latent_means(s.fit)
        return pd.DataFrame(columns=["lhs", "group", "reference", "group.label", "est", "se", "z", "pvalue",
                                     "ci.lower", "ci.upper", "d"])

    @property
    def fits(self) -> dict[str, MultiGroupResult]:
        """The accepted (final) fit of every step, by step name."""
        return {s.step: s.fit for s in self.steps if s.final}

    @property
    def freed(self) -> dict[str, list[str]]:
        """Constraints released (``group_partial``) in the final model of every step."""
        return {s.step: list(s.freed) for s in self.steps if s.final}

    def to_frame(self) -> pd.DataFrame:
        """One row per fitted model: chisq df cfi tli rmsea srmr aic bic, deltas, LRT, decision, freed."""
        rows = [s.row() for s in self.steps]
        frame = pd.DataFrame(rows, columns=COLUMNS + ["freed"])
        for col in COLUMNS[1:-1]:
            frame[col] = frame[col].astype(float)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The ``survey invariance --json`` object (DESIGN.md): {"steps": [...]} plus rules and warnings."""

        def clean(v: Any) -> Any:
            if isinstance(v, (float, np.floating)):
                return None if not math.isfinite(float(v)) else float(v)
            return v

        steps = [{k: clean(v) for k, v in s.row().items()} for s in self.steps]
        return {
            "steps": steps,
            "group": self.group,
            "estimator": self.estimator,
            "group_labels": self.steps[0].fit.group_labels if self.steps else [],
            "rules": self.rules,
            "criterion": self.criterion,
            "alpha": self.alpha,
            "adjust": self.adjust,
            "flagged": [
                {k: clean(v) for k, v in r.items()}
                for r in self.score_tests(flagged_only=True).to_dict(orient="records")
            ],
            "measures": self.measures,
            "latent_means": [{k: clean(v) for k, v in r.items()}
                             for r in self.latent_means().to_dict(orient="records")],
            "warnings": [w.message for w in self.warnings],
        }

    @property
    def measures(self) -> dict[str, str]:
        """Which lavaan fit measure each reported column holds (robust versions under MLR)."""
        names = {k: k for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}
        if self.estimator in ("MLR", "MLM"):
            names.update(MLR_NAMES)
            names["lrt.chisq"] = "Satorra-Bentler (2001) scaled chi-square difference"
        else:
            names["lrt.chisq"] = "chi-square difference"
        return names

    def summary(self) -> str:
        """Text table of the sequence with the decision rules."""
        frame = self.to_frame().drop(columns="freed")
        lines = [
            f"Measurement invariance across {self.group!r} ({self.estimator}); groups: "
            + ", ".join(self.steps[0].fit.group_labels if self.steps else []),
            "",
            frame.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""),
            "",
            "Measures: " + ", ".join(f"{k} = {v}" for k, v in self.measures.items() if k != v),
            f"Decision rules ({'Chen 2007' if self.criterion == 'chen' else self.criterion}):",
        ] + [f"  {k}: {v}" for k, v in self.rules.items()]
        flagged = self.score_tests(flagged_only=True)
        if self.adjust is not None and not flagged.empty:
            head = f"Score tests significant after {self.adjust} adjustment (localized non-invariance):"
            lines += ["", head]
            lines += [
                f"  {r['model']}: {r['lhs']}{r['op']}{r['rhs']} (groups {r['group.a']} vs {r['group.b']}), "
                f"X2 = {r['X2']:.2f}, p.adj = {r['p.adj']:.3g}"
                for r in flagged.to_dict(orient="records")
            ]
        freed = {k: v for k, v in self.freed.items() if v}
        if freed:
            lines += ["", "Released equality constraints (partial invariance, largest score test first):"]
            lines += [f"  {k}: {', '.join(v)}" for k, v in freed.items()]
        means = self.latent_means()
        if len(means):
            lines += ["", f"Latent mean differences (vs group {means['reference'].iloc[0]}, scalar model):",
                      means.drop(columns=["reference"]).to_string(index=False,
                                                                  float_format=lambda v: f"{v:.3f}")]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w.message}" for w in self.warnings]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return (
            f"<InvarianceResult {len(self.steps)} models: "
            + ", ".join(f"{s.model}={s.decision}" for s in self.steps)
            + ">"
        )

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        frame["freed"] = frame["freed"].map(", ".join)
        rules = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in self.rules.items())
        return (
            f"<p><b>Measurement invariance</b> across {html.escape(self.group)}</p>"
            + frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
            + f"<ul>{rules}</ul>"
        )


def _candidates(
    fit: MultiGroupResult, step: str, freed: list[str], adjust: str | None = None, alpha: float = 0.05
) -> pd.DataFrame:
    """Score tests of the step's still-constrained parameters, largest first; with ``adjust``, the
    family-wise adjusted p-value ``p.adj`` over these m tests and ``flagged`` = p.adj < alpha."""
    tests = fit.score_tests()
    if tests.empty:
        return tests
    lv = set(fit.mg.models[0].lv)
    keep = [
        (src == "group_equal" and _step_class(op, lhs, step, lv) and f"{lhs}{op}{rhs}" not in freed)
        for lhs, op, rhs, src in zip(tests["lhs"], tests["op"], tests["rhs"], tests["source"], strict=True)
    ]
    out = tests[np.asarray(keep, dtype=bool)].copy()
    if adjust is not None:
        out["p.adj"] = adjust_pvalues(out["p.value"], adjust)
        out["flagged"] = out["p.adj"] < alpha
    return out.sort_values("X2", ascending=False, kind="stable")


def invariance(
    model: str,
    data: pd.DataFrame,
    group: str,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    steps: tuple[str, ...] | list[str] = ("configural", "metric", "scalar", "strict"),
    partial: bool = True,
    max_free: int = 3,
    criterion: str = "chen",
    alpha: float = 0.05,
    adjust: str | None = None,
    groups: list | None = None,
    min_group_size: int | None = None,
) -> InvarianceResult:
    """Run the invariance sequence (configural -> metric -> scalar -> strict) across the groups of ``group``.

    Parameters
    ----------
    model : lavaan syntax of the measurement model (user labels are shared by all groups, as in lavaan).
    data, group : the data and its grouping column.
    estimator : "ML" (lavaan's multi-group ML, expected information), "MLR" or "MLM" (robust; the table
        reports chisq.scaled, cfi.robust, tli.robust, rmsea.robust, and the likelihood-ratio tests are
        Satorra-Bentler (2001) scaled differences, lavaan ``lavTestLRT``'s default for MLR).
    steps : the steps to run, in order (a subset of configural, metric, scalar, strict).
    partial : release constraints by the largest score test when a step fails (partial invariance).
    max_free : at most this many constraints released per step.
    criterion : the global decision on a step: "chen" (Chen 2007 change-in-fit rule; default), "lrt"
        (likelihood-ratio test significant at ``alpha`` fails), "both" (fails when either does).
    missing : "listwise" (lavaan's default) or "fiml" (casewise likelihood over every analytic respondent;
        with ``estimator="MLR"`` robust FIML).
    groups, min_group_size : the groups to compare and the smallest number of analytic cases a group needs
        (smaller groups are left out with a warning; :mod:`survey.sem.invariance_groups`).
    alpha : significance level of the likelihood-ratio and the adjusted score tests.
    adjust : None (default: the global criterion alone), or "holm" / "bonferroni": a step is also not
        tenable while any univariate score test of its constraints is significant after this adjustment
        (localized non-invariance, lavaan ``lavTestScore``); the partial procedure then releases the
        largest one and refits until none is (at most ``max_free``).

    Returns
    -------
    InvarianceResult with ``to_frame()``, ``to_dict()`` (DESIGN.md JSON), ``summary()``, ``fits``, ``freed``.

    Examples
    --------
    >>> res = invariance("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9",
    ...                  hs, "school")  # doctest: +SKIP
    >>> res.to_frame()[["model", "chisq", "df", "decision"]]  # doctest: +SKIP
    """
    steps = list(steps)
    unknown = [s for s in steps if s not in STEPS]
    if unknown or not steps:
        raise SurveyInputError(
            f"unknown invariance step (use {', '.join(STEPS)})",
            value=unknown[0] if unknown else "",
            field="steps",
        )
    order = list(STEPS)
    if [order.index(s) for s in steps] != sorted(order.index(s) for s in steps):
        raise SurveyInputError(
            "invariance steps must be in the order configural, metric, scalar, strict", field="steps"
        )
    est_name = str(estimator).upper()
    if est_name not in ("ML", "MLR", "MLM"):
        raise SurveyInputError(
            f"estimator={estimator!r} is not available for invariance testing (available: ML, MLR, MLM)",
            field="estimator",
        )
    if criterion not in CRITERIA:
        raise SurveyInputError(
            f"unknown invariance criterion (use {', '.join(CRITERIA)})", value=criterion, field="criterion"
        )
    if adjust is not None and adjust not in ADJUSTMENTS:
        raise SurveyInputError(
            f"unknown p-value adjustment (use {', '.join(ADJUSTMENTS)})", value=adjust, field="adjust"
        )
    if not 0.0 < float(alpha) < 1.0:
        raise SurveyInputError("alpha must lie strictly between 0 and 1", value=alpha, field="alpha")
    rule = _Rule(criterion, float(alpha), adjust)
    chosen, group_warnings = choose_groups(model, data, group, missing, groups, min_group_size)
    with single_thread():
        result = _sequence(model, data, group, est_name, missing, steps, partial, max_free, rule, chosen)
    result.warnings[:0] = group_warnings
    return result


@dataclass(frozen=True)
class _Rule:
    criterion: str = "chen"
    alpha: float = 0.05
    adjust: str | None = None

    def assess(self, current: InvarianceStep, freed: list[str]) -> None:
        """Set ``current.global_passed``, ``current.score_tests`` (with ``adjust``) and ``current.passed``."""
        if current.reference is None:
            return
        chen = _passes(current.step, current.fit, current.reference)
        _, _, p = lr_test(current.fit, current.reference)
        lrt = not (math.isfinite(p) and p < self.alpha)
        current.global_passed = {"chen": chen, "lrt": lrt, "both": chen and lrt}[self.criterion]
        current.passed = current.global_passed
        if self.adjust is not None:
            current.score_tests = _candidates(current.fit, current.step, freed, self.adjust, self.alpha)
            if not current.score_tests.empty and bool(current.score_tests["flagged"].any()):
                current.passed = False


def _sequence(
    model: str,
    data: pd.DataFrame,
    group: str,
    est_name: str,
    missing: str,
    steps: list[str],
    partial: bool,
    max_free: int,
    rule: _Rule | None = None,
    groups: list | None = None,
) -> InvarianceResult:
    rule = rule or _Rule()
    out: list[InvarianceStep] = []
    warnings: list[SurveyWarning] = []
    freed: list[str] = []
    reference: MultiGroupResult | None = None

    def refit(step: str, released: list[str]) -> MultiGroupResult:
        """The step's model with the ``released`` constraints freed; its new warnings are collected."""
        fit = fit_multigroup(model, data, group, group_equal=STEPS[step], group_partial=released,
                             missing=missing, estimator=est_name, groups=groups)
        seen = {v.message for v in warnings}
        warnings.extend([w for w in fit.warnings if w.message not in seen])
        return fit

    bar = Progress("invariance", len(steps))
    for step in steps:
        fit = refit(step, freed)
        bar.stage(f"{step} fitted")  # after the fit: an input error stays the only line on stderr
        current = InvarianceStep(step, step, fit, list(freed), reference)
        if not fit.converged:
            out.append(current)
            warnings.append(_stopped(step))
            break
        if reference is None or step == "configural":
            out.append(current)
            reference = fit
            continue
        rule.assess(current, freed)
        n_freed = 0
        while not current.passed and partial and n_freed < max_free:
            cand = current.score_tests if current.score_tests is not None else _candidates(
                current.fit, step, freed, rule.adjust, rule.alpha
            )
            if cand.empty or not np.isfinite(cand["X2"].iloc[0]):
                break
            top = cand.iloc[0]
            label = f"{top['lhs']}{top['op']}{top['rhs']}"
            current.final = False
            current.score_tests = cand
            out.append(current)
            freed = freed + [label]
            n_freed += 1
            fit = refit(step, freed)
            current = InvarianceStep(f"{step} (partial {n_freed})", step, fit, list(freed), reference)
            if not fit.converged:
                break
            rule.assess(current, freed)
        out.append(current)
        if not current.fit.converged:
            warnings.append(_stopped(current.model))
            break
        if not current.passed:  # no later step is declared after a step that fails (even partially)
            if step != steps[-1]:
                warnings.append(_not_tenable(current.model, steps[steps.index(step) + 1:]))
            break
        reference = current.fit
    bar.close()
    return InvarianceResult(out, group, est_name, warnings, rule.criterion, rule.alpha, rule.adjust)


DELTA_COLUMNS = ("delta.cfi", "delta.rmsea", "delta.srmr", "lrt.chisq", "lrt.df", "lrt.pvalue")


def _not_tenable(model: str, later: list[str]) -> SurveyWarning:
    return SurveyWarning(
        "invariance_not_tenable",
        f"The {model} model is not tenable (even after partial release), so the sequence stopped there: "
        f"{', '.join(later)} invariance cannot be tested on top of it.",
        "sem",
    )


def _stopped(model: str) -> SurveyWarning:
    return SurveyWarning(
        "invariance_not_converged",
        f"The {model} model did not converge, so the invariance sequence stopped there: no fit measures, "
        "differences or decisions are reported for it or for later steps. Check group sizes and data "
        "quality.",
        "sem",
    )


def _passes(step: str, fit: MultiGroupResult, reference: MultiGroupResult) -> bool:
    f, r = reported_measures(fit), reported_measures(reference)
    return chen_decision(step, f["cfi"] - r["cfi"], f["rmsea"] - r["rmsea"], f["srmr"] - r["srmr"])
