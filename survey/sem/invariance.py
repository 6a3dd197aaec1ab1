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

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.progress import Progress
from survey.sem.engine import ESTIMATORS
from survey.sem.invariance_groups import choose_groups
from survey.sem.invariance_result import InvarianceResult, InvarianceStep
from survey.sem.invariance_rules import (
    ADJUSTMENTS,
    COLUMNS,
    CRITERIA,
    CUTOFFS,
    RULES,
    STEPS,
    _passes,
    _step_class,
    adjust_pvalues,
    chen_decision,
    lr_test,
    reported_measures,
    rules_for,
)
from survey.sem.mgresult import MultiGroupResult
from survey.sem.multigroup import fit_multigroup, single_thread

__all__ = [
    "COLUMNS",
    "CUTOFFS",
    "RULES",
    "STEPS",
    "InvarianceResult",
    "InvarianceStep",
    "adjust_pvalues",
    "chen_decision",
    "invariance",
    "lr_test",
    "reported_measures",
    "rules_for",
]

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
        Satorra-Bentler (2001) scaled differences, lavaan ``lavTestLRT``'s default for MLR); "MLF" (ML with
        first-order standard errors: the ML table and chi-square differences, latent means with MLF SEs).
    steps : the steps to run, in order (a subset of configural, metric, scalar, strict).
    partial : release constraints by the largest score test when a step fails (partial invariance).
    max_free : at most this many constraints released per step.
    criterion : the global decision on a step: "chen" (Chen 2007 change-in-fit rule; default), "lrt"
        (likelihood-ratio test significant at ``alpha`` fails), "both" (fails when either does).
    missing : "listwise" (lavaan's default) or "fiml" (casewise likelihood over every analytic respondent;
        with ``estimator="MLR"`` robust FIML), or "two.stage" / "robust.two.stage" (ML on the EM moments,
        :mod:`survey.sem.two_stage`; lavaan's test is then Satorra-Bentler scaled: the table reports the
        scaled and robust measures and Satorra-Bentler (2001) differences, as under MLR, and the score
        tests take the expected information at the EM moments, as lavaan's ``lavTestScore``).
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
    if est_name not in (*ESTIMATORS, "MLF"):  # MLF: ML with first-order SEs, plain LR differences (lavaan)
        raise SurveyInputError(
            f"estimator={estimator!r} is not available for invariance testing (available: ML, MLR, MLM, MLF; "
            "MLMV/MLMVS: their LR tests need Satorra (2000), not available)",
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
