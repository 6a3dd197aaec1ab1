"""The route of the continuous least-squares estimators (lavaan 0.6.14 ``estimator = "GLS" | "ULS" |
"DWLS" | "WLS"`` without ordered items): the model's parameter table and complete-data block from the ML
pipeline with lavaan's ``fixed.x = FALSE`` (its setting for these estimators; sampling weights: the
weighted covariance matrix, Gamma of the unweighted rows, as lavaan 0.6.14), then
:func:`survey.sem.estimate.wls.fit_ls` from the ML estimates, wrapped in
:class:`survey.sem.results.ls_result.LSResult`.

lower()/upper() bounds are imposed (:func:`~survey.sem.estimate.wls.fit_ls`); modification indices, score
tests and residuals: :mod:`survey.sem.results.ls_modindices`, :mod:`survey.sem.results.ls_residuals`.

Several groups (group=, group_equal, group_partial) and a mean structure (meanstructure=True) as lavaan
(:func:`~survey.sem.estimate.wls.fit_ls`); the modification indices of several groups, fixed.x covariates
or pairwise moments as lavaan's (:func:`survey.sem.results.ls_modindices.ls_group_modification_indices`),
their residuals too (:func:`survey.sem.results.ls_residuals.ls_residuals`); their score tests are refused
in one line (:func:`survey.sem.results.ls_modindices.require_single_block`).

missing="pairwise": with ULS / DWLS / WLS the pairwise moments (:func:`pairwise_stats`; DWLS / WLS weigh by
the pairwise Gamma, :func:`survey.sem.estimate.wls.gamma_pairwise`); with GLS listwise deletion, as
lavaan 0.6.14 does (its nobs are the complete rows).

Robust: se="robust.sem" (ULS / DWLS / WLS) and test="satorra.bentler" / "scaled.shifted" /
"mean.var.adjusted" (ULS / DWLS), any groups, meanstructure, fixed_x (:mod:`survey.sem.inference.ls_robust`).
information="observed": GLS's observed information, lavaan's warning and the expected one for the
others. fixed_x=True: the covariates' moments fixed at their sample values (divisor N - 1) and out of the
weight and the degrees of freedom (lavaan 0.6.14; :func:`survey.sem.estimate.wls.fixed_x_moments`).

Refused, one line naming the option: missing="ml" (lavaan refuses it too, its reason given), se other than
"standard" / "robust.sem" (GLS robust.sem: lavaan refuses it), the bootstrap, clusters, sampling weights
beside groups / pairwise / meanstructure / fixed_x / robust se or tests,
tests other than standard / satorra.bentler / scaled.shifted / mean.var.adjusted (with GLS / WLS lavaan
refuses every other test), explicit constraints beside information="observed" or sampling weights.

Explicit constraints (==, <, >): :mod:`survey.sem.ls_constrained` (SLSQP on the LS function, lavaan's
augmented-information vcov; robust.sem and the scaled tests with its E^-1).

Sampling weights (one group, listwise): the weighted covariance matrix (divisor sum w, not rescaled), Gamma
of the unweighted rows; se and test stay "standard" (lavaan 0.6.14; tests/fixtures/combos2/).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.estimate.ml import Estimation
from survey.sem.estimate.wls import LS_ESTIMATORS, fit_ls
from survey.sem.inference.ls_robust import ROBUST_TESTS, observed_vcov, robust_vcov, scaled_tests
from survey.sem.inference.vcov import Information


def wants_least_squares(estimator: str, ordered) -> bool:
    """True for GLS / ULS / DWLS / WLS without ordered items (lavaan's continuous least squares)."""
    return str(estimator).upper() in LS_ESTIMATORS and (ordered is None or ordered is False)


def _refuse(est: str, option: str, value: object, available: str) -> None:
    raise SurveyInputError(f"{option}={value!r} is not available with estimator {est} yet "
                           f"(available: {available})", field=option, value=str(value))


def check_ls_options(est: str, *, missing: str, group, se: str, bootstrap, sampling_weights, cluster,
                     test: str, information, partable_options: dict) -> None:
    """The one-line refusals of the module notes."""
    if str(missing).lower() in ("fiml", "ml", "direct", "ml.x"):  # lavaan 0.6.14 refuses it (lav_options)
        raise SurveyInputError(f"missing={missing!r} is not allowed for estimator {est} (lavaan 0.6.14's "
                               "reason: missing=\"ml\" needs estimator ML; available: listwise)",
                               field="missing", value=str(missing))
    pairwise = str(missing).lower() == "pairwise"
    plain = str(se).lower() in ("default", "standard") and str(test).lower() == "standard"
    if sampling_weights and (group is not None or pairwise or not plain or information == "observed"
                             or partable_options.get("meanstructure")
                             or partable_options.get("fixed_x", False) is True):
        _refuse(est, "sampling_weights", sampling_weights, "weights with one group, listwise deletion, se "
                "and test standard, no meanstructure, fixed_x or information observed")
    if pairwise and (group is not None or partable_options.get("meanstructure")
                     or partable_options.get("fixed_x", False) is True or not plain
                     or information == "observed"):
        _refuse(est, "missing", missing, "pairwise with one group, se and test standard, no "
                "meanstructure, fixed_x or information observed; or listwise")
    if str(missing).lower() not in ("listwise", "listwise.deletion", "pairwise"):
        _refuse(est, "missing", missing, "listwise, pairwise")
    robust_se = str(se).lower() == "robust.sem"
    if robust_se and est == "GLS":  # lavaan 0.6.14 refuses it
        raise SurveyInputError(f"se={se!r} is not allowed with estimator GLS (lavaan 0.6.14: \"invalid value "
                               "in se= argument for estimator GLS\"; available: standard)", field="se",
                               value=str(se))
    if str(se).lower() not in ("default", "standard", "robust.sem"):
        _refuse(est, "se", se, "standard, robust.sem")
    if bootstrap:
        _refuse(est, "bootstrap", bootstrap, "se='standard'")
    if cluster:
        _refuse(est, "cluster", cluster, "no clusters")
    if str(test).lower() != "standard" and est in ("GLS", "WLS"):  # lavaan 0.6.14 refuses every other test
        raise SurveyInputError(f"test={test!r} is not allowed with estimator {est} (lavaan 0.6.14: \"invalid "
                               f"value(s) in test= argument when estimator is {est}\"; available: standard)",
                               field="test", value=str(test))
    if str(test).lower() in ("yuan.bentler", "yuan.bentler.mplus"):  # lavaan 0.6.14 refuses them (R-checked)
        raise SurveyInputError(f"lavaan 0.6.14 refuses it: first.order information not available for "
                               f"estimator {est} (available: standard, satorra.bentler, scaled.shifted, "
                               "mean.var.adjusted)", field="test", value=str(test))
    if str(test).lower() not in ("standard", *ROBUST_TESTS):
        _refuse(est, "test", test, "standard, satorra.bentler, scaled.shifted, mean.var.adjusted")
    if information not in (None, "expected", "default", "observed"):
        _refuse(est, "information", information, "expected, observed")
    if information == "observed" and est == "GLS" and (robust_se or group is not None or partable_options.get(
            "meanstructure", False) or partable_options.get("fixed_x", False) is True):
        _refuse(est, "information", information, "observed with one group, se standard, no meanstructure "
                "or fixed_x; or expected")


def pairwise_stats(stats, data: pd.DataFrame):
    """The sample statistics of missing="pairwise" (lavaan 0.6.14, ULS / DWLS / WLS): each covariance from the
    rows observing both variables (divisor n_ij - 1), each mean from the rows observing it, N the rows
    observing any of the model's variables; the complete rows stay as ``raw``."""
    from dataclasses import replace

    values = data[list(stats.names)].apply(pd.to_numeric, errors="coerce")
    values = values[values.notna().any(axis=1)]
    n = len(values)
    block = replace(stats.groups[0], n=n, cov=values.cov().to_numpy() * (n - 1) / n,
                    mean=values.mean().to_numpy())
    block.pairwise_rows = values.to_numpy(float)  # DWLS / WLS: the pairwise Gamma (estimate.wls)
    return replace(stats, groups=[block])


def fit_least_squares(model: str, data: pd.DataFrame, estimator: str, group: str | None = None,
                      group_equal=(), group_partial=(), se: str = "standard", test: str = "standard",
                      information: str | None = None, missing: str = "listwise",
                      sampling_weights: str | None = None, sampling_weights_normalization: str = "total",
                      **partable_options):
    """Fit ``model`` by GLS / ULS / DWLS / WLS (module notes); options already checked.
    ``sampling_weights``: the weighted sample covariance matrix (:func:`survey.sem.estimate.wls.sample_cov`;
    lavaan 0.6.14 keeps se "standard" and the standard test)."""
    from survey.sem.bounded import bounds_in_effect
    from survey.sem.engine import fit_blocks
    from survey.sem.results.ls_result import LSResult

    est = str(estimator).upper()
    fixed_x = partable_options.get("fixed_x", False)
    fixed_x = bool(fixed_x) and fixed_x != "default"
    partable_options = {k: v for k, v in partable_options.items() if k != "fixed_x"}
    design = {"sampling_weights": sampling_weights,
              "sampling_weights_normalization": sampling_weights_normalization} if sampling_weights else {}
    ml = fit_blocks(model, data, estimator="ML", fixed_x=fixed_x, group=group, group_equal=group_equal,
                    group_partial=group_partial, **design, **partable_options)
    if fixed_x:  # lavaan: the covariates' moments fixed at the sample ones, covariances of divisor N - 1
        for ram, block in zip(ml.mg.models, ml.stats.groups, strict=True):
            ram.set_exogenous(np.asarray(block.cov) * block.n / (block.n - 1), block.mean)
    constrained = bool(ml.mg.partable["op"].isin(["==", "<", ">"]).any())  # survey.sem.ls_constrained
    if constrained and (information == "observed" or sampling_weights):
        raise SurveyInputError(f"explicit constraints with estimator {est} are not available beside "
                               "information='observed' or sampling weights yet (available: expected "
                               "information, no weights)", field="estimator", value=est)
    pairwise = str(missing).lower() == "pairwise" and est != "GLS"  # GLS: lavaan 0.6.14 takes listwise
    if pairwise:  # lavaan: the pairwise covariances, N = the rows used
        ml.stats = pairwise_stats(ml.stats, data)
    dropped: list = []  # lavaan drops bounds beside linear equalities, with a warning (survey.sem.bounded)
    bounds = bounds_in_effect(model, ml.mg, dropped)
    res = fit_ls(ml.mg, ml.stats.groups, est, ml.theta, bounds=bounds)
    e_inv, slack, n_eq = None, None, 0
    if constrained:  # imported here: scipy stays out of the plain ML start-up path (tests/test_cli_light.py)
        from survey.sem.ls_constrained import fit_ls_constrained

        res, e_inv, slack, n_eq = fit_ls_constrained(ml.mg, ml.stats.groups, est, res, bounds)
    robust_se = str(se).lower() == "robust.sem"
    if robust_se:  # lavaan's robust.sem sandwich (survey.sem.inference.ls_robust)
        res.vcov = robust_vcov(ml.mg, ml.stats.groups, est, res.theta, e_inv)
    observed = information == "observed" and est == "GLS"
    if observed:  # the Hessian of F (survey.sem.inference.ls_robust)
        res.vcov = observed_vcov(ml.mg, ml.stats.groups[0], est, res.theta)
    info = Information(np.linalg.pinv(res.vcov) / ml.nobs, res.vcov, False)
    estimation = Estimation(res.theta, res.fmin, res.converged, res.iterations, 0.0, "gauss-newton")
    pieces = type(ml.pieces)(ml.mg, res.theta, res.chisq, res.df, info, None)
    base = type(ml.baseline)(ml.baseline.mg, ml.baseline.theta, res.baseline_chisq, res.baseline_df,
                             None, None)
    warnings = [w for w in ml.warnings if w.code not in ("not_converged", "bounds_ignored")] + dropped
    if information == "observed" and not observed:  # lavaan 0.6.14's warning
        from survey.errors import SurveyWarning

        warnings.append(SurveyWarning("information_expected", f"information will be set to \"expected\" "
                                      f"for estimator = \"{est}\" (as lavaan 0.6.14)", "sem"))
    if not res.converged:
        from survey.sem.diagnostics import check_convergence

        warnings += check_convergence(False, res.iterations, f"{est}: Gauss-Newton did not converge")
    out = LSResult(model=model, estimator=est, missing="listwise", group=group,
                   group_equal=ml.group_equal, group_partial=ml.group_partial, mg=ml.mg, stats=ml.stats,
                   estimation=estimation, pieces=pieces, baseline=base, warnings=warnings, start=ml.theta)
    out.ls_fit = res
    out.e_inv = e_inv  # explicit constraints: the augmented inverse (standardized residuals)
    if constrained:  # lavaan: npar - the equalities; each constraint row reports its slack
        out.n_equality = n_eq
        k = out.partable.index[out.partable["op"].isin(["==", "<", ">"])]
        out.partable.loc[k, "est"] = slack
        out.partable.loc[k, "se"] = 0.0
    out.missing = "pairwise" if pairwise else "listwise"
    if str(missing).lower() == "pairwise" and not pairwise:
        from survey.errors import SurveyWarning

        out.warnings.append(SurveyWarning("pairwise_listwise", "missing=\"pairwise\" with estimator GLS: "
                                          "listwise deletion, as lavaan 0.6.14 (its nobs: the complete rows)",
                                          "sem"))
    out.se_options = ("robust.sem" if robust_se else "standard", "observed" if observed else "expected")
    if str(test).lower() in ROBUST_TESTS:  # Satorra-Bentler / scaled-shifted (survey.sem.inference.ls_robust)
        out.scaled_test, out.scaled_baseline = scaled_tests(ml.mg, ml.stats.groups, est, res.theta,
                                                            str(test).lower(), res.chisq, res.df,
                                                            res.baseline_chisq, res.baseline_df, e_inv)
    return out
