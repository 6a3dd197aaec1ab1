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
their residuals and score tests too (:func:`survey.sem.results.ls_residuals.ls_residuals`,
:func:`survey.sem.results.ls_modindices.ls_score_tests`).

missing="pairwise" (= "available.cases"): with ULS / DWLS / WLS the pairwise moments of each group
(:func:`pairwise_stats`; DWLS / WLS weigh by the pairwise Gamma, :func:`survey.sem.estimate.wls.
gamma_pairwise`, also the Gamma of robust.sem and the scaled tests), any groups and meanstructure; with
GLS listwise deletion, as lavaan 0.6.14 does (its nobs are the complete rows).

Robust: se="robust.sem" (ULS / DWLS / WLS) and test="satorra.bentler" / "scaled.shifted" /
"mean.var.adjusted" (ULS / DWLS), any groups, meanstructure, fixed_x, pairwise, sampling weights
(:mod:`survey.sem.inference.ls_robust`). information="observed": GLS's observed information (any groups,
meanstructure, fixed_x, explicit constraints), lavaan's warning and the expected one for the others (and
for information / se "first.order"). fixed_x=True: the covariates' moments fixed at their sample values
(S of divisor N - 1, weighted: the weighted S) and out of the weight and the degrees of freedom (lavaan
0.6.14; :func:`survey.sem.estimate.wls.fixed_x_moments`). Checked: tests/fixtures/ls_options/.

Sampling weights: the weighted covariance matrix per group (divisor sum w, not rescaled), Gamma of the
unweighted rows (lavaan 0.6.14; tests/fixtures/combos2/, tests/fixtures/ls_options/).

Refused, one line naming the option, with lavaan's reason where lavaan refuses (R-checked): missing="ml"
and "doubly.robust", se="robust.huber.white", GLS with se="robust.sem" or information "first.order",
clusters, pairwise moments beside fixed_x or sampling weights, tests other than standard and
browne.residual.* with GLS / WLS, Browne's tests with pairwise moments. Not available yet:
test="bollen.stine" (ULS / DWLS: lavaan fits it), Browne's tests beside inequality constraints,
se="bootstrap" beside pairwise, weights, fixed_x, constraints or bounds. se="none": the estimates
without standard errors (lavaan); se="bootstrap": :mod:`survey.sem.ls_bootstrap`. Browne's residual-based
tests: :mod:`survey.sem.results.ls_browne`.

conditional.x = TRUE (ULS / DWLS / WLS, se standard, the standard test): the statistics of y given x and
their Gamma (:mod:`survey.sem.estimate.wls_conditional`); its modindices, score tests, residuals, robust
se and scaled tests are refused in one line (survey.sem.conditional_x).

Explicit constraints (==, <, >): :mod:`survey.sem.ls_constrained` (SLSQP on the LS function, lavaan's
augmented-information vcov; robust.sem and the scaled tests with its E^-1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.estimate.ml import Estimation
from survey.sem.estimate.wls import LS_ESTIMATORS, fit_ls
from survey.sem.inference.ls_robust import ROBUST_TESTS, observed_vcov, robust_vcov, scaled_tests
from survey.sem.inference.vcov import Information
from survey.sem.results.ls_browne import BROWNE


def wants_least_squares(estimator: str, ordered) -> bool:
    """True for GLS / ULS / DWLS / WLS without ordered items (lavaan's continuous least squares)."""
    return str(estimator).upper() in LS_ESTIMATORS and (ordered is None or ordered is False)


def _refuse(est: str, option: str, value: object, available: str) -> None:
    raise SurveyInputError(f"{option}={value!r} is not available with estimator {est} yet "
                           f"(available: {available})", field=option, value=str(value))


def _lavaan_refuses(option: str, value: object, reason: str, available: str) -> None:
    raise SurveyInputError(f"{option}={value!r}: lavaan 0.6.14 refuses it (\"{reason}\"; available: "
                           f"{available})", field=option, value=str(value))


PAIRWISE = ("pairwise", "available.cases")  # lavaan 0.6.14: available.cases is pairwise


def check_ls_options(est: str, *, missing: str, group, se: str, bootstrap, sampling_weights, cluster,
                     test: str, information, partable_options: dict) -> None:
    """The one-line refusals of the module notes (lavaan's reason where lavaan refuses)."""
    miss = str(missing).lower()
    if miss in ("fiml", "ml", "direct", "ml.x"):  # lavaan 0.6.14 refuses it (lav_options)
        raise SurveyInputError(f"missing=\"ml\" is not allowed for estimator {est} (lavaan 0.6.14's words, "
                               f"for missing={missing!r}: it needs estimator ML; available: listwise)",
                               field="missing", value=str(missing))
    if miss == "doubly.robust":
        _lavaan_refuses("missing", missing, "doubly.robust option only available for estimator PML",
                        "listwise, pairwise")
    if miss not in ("listwise", "listwise.deletion", *PAIRWISE):
        _refuse(est, "missing", missing, "listwise, pairwise")
    pairwise = miss in PAIRWISE and est != "GLS"  # GLS: lavaan 0.6.14 takes listwise deletion
    if pairwise and partable_options.get("fixed_x", False) is True:  # lavaan 0.6.14 fails (R-checked)
        _lavaan_refuses("missing", missing, "NA/NaN/Inf in foreign function call (arg 5)",
                        "pairwise with fixed_x=False, or listwise")
    if pairwise and sampling_weights:  # lavaan 0.6.14 fails (R-checked)
        _lavaan_refuses("sampling_weights", sampling_weights, "'x' must contain finite values only",
                        "weights with listwise deletion")
    robust_se = str(se).lower() in ("robust.sem", "robust")  # lavaan: "robust" is robust.sem here
    if robust_se and est == "GLS":  # lavaan 0.6.14 refuses it
        raise SurveyInputError(f"se={se!r} is not allowed with estimator GLS (lavaan 0.6.14: \"invalid value "
                               "in se= argument for estimator GLS\"; available: standard)", field="se",
                               value=str(se))
    if str(se).lower() == "robust.huber.white":
        _lavaan_refuses("se", se, f"invalid value in se= argument for estimator {est}: robust.huber.white",
                        "standard, robust.sem" if est != "GLS" else "standard")
    first_order = "first.order" in (str(se).lower(), str(information).lower())
    if first_order and est == "GLS":
        _lavaan_refuses("information", "first.order", "information = 'first.order' not available for "
                        "estimator GLS", "expected, observed")
    boot = str(se).lower() == "bootstrap"
    if str(se).lower() not in ("default", "standard", "robust.sem", "robust", "first.order", "none",
                               "bootstrap"):
        _refuse(est, "se", se, "standard, robust.sem, none, bootstrap")
    if bootstrap and not boot:
        _refuse(est, "bootstrap", bootstrap, "with se='bootstrap'")
    if boot and (miss in PAIRWISE or sampling_weights or str(test).lower() != "standard"
                 or partable_options.get("fixed_x", False) is True or information == "observed"):
        _refuse(est, "se", se, "bootstrap with listwise deletion, one or several groups; no sampling "
                "weights, fixed_x, observed information or test other than standard")
    if cluster:  # lavaan 0.6.14 refuses every least-squares fit with clusters (R-checked)
        reason = (f"invalid value(s) in test= argument when estimator is {est}: yuan.bentler.mplus"
                  if est in ("GLS", "WLS") else f"information = 'first.order' not available for estimator "
                  f"{est}")
        _lavaan_refuses("cluster", cluster, reason, "no clusters")
    if str(test).lower() in BROWNE and miss in PAIRWISE:  # lavaan 0.6.14 refuses it (lav_test_browne)
        _lavaan_refuses("test", test, "Browne's test is not available when data is missing", "listwise")
    if str(test).lower() not in ("standard", *BROWNE) and est in ("GLS", "WLS"):  # lavaan refuses the others
        raise SurveyInputError(f"test={test!r} is not allowed with estimator {est} (lavaan 0.6.14: \"invalid "
                               f"value(s) in test= argument when estimator is {est}\"; available: standard)",
                               field="test", value=str(test))
    if str(test).lower() in ("yuan.bentler", "yuan.bentler.mplus"):  # lavaan 0.6.14 refuses them (R-checked)
        raise SurveyInputError(f"lavaan 0.6.14 refuses it: first.order information not available for "
                               f"estimator {est} (available: standard, satorra.bentler, scaled.shifted, "
                               "mean.var.adjusted)", field="test", value=str(test))
    if str(test).lower() not in ("standard", *ROBUST_TESTS, *BROWNE):
        _refuse(est, "test", test, "standard, satorra.bentler, scaled.shifted, mean.var.adjusted, "
                "browne.residual.adf, browne.residual.nt, browne.residual.adf.model, "
                "browne.residual.nt.model")
    if information not in (None, "expected", "default", "observed", "first.order"):
        _refuse(est, "information", information, "expected, observed")


def pairwise_stats(stats, data: pd.DataFrame, group: str | None = None):
    """The sample statistics of missing="pairwise" (lavaan 0.6.14, ULS / DWLS / WLS), per group: each
    covariance from the rows observing both variables (divisor n_ij - 1), each mean from the rows observing
    it, N the rows observing any of the model's variables; the complete rows stay as ``raw``."""
    from dataclasses import replace

    from survey.sem.data.blocks import group_label

    out = []
    for block in stats.groups:
        rows = data if group is None else data[data[group].map(group_label) == block.label]
        values = rows[list(stats.names)].apply(pd.to_numeric, errors="coerce")
        values = values[values.notna().any(axis=1)]
        n = len(values)
        new = replace(block, n=n, cov=values.cov().to_numpy() * (n - 1) / n, mean=values.mean().to_numpy())
        new.pairwise_rows = values.to_numpy(float)  # DWLS / WLS: the pairwise Gamma (estimate.wls)
        out.append(new)
    return replace(stats, groups=out)


def fit_least_squares(model: str, data: pd.DataFrame, estimator: str, group: str | None = None,
                      group_equal=(), group_partial=(), se: str = "standard", test: str = "standard",
                      information: str | None = None, missing: str = "listwise",
                      sampling_weights: str | None = None, sampling_weights_normalization: str = "total",
                      bootstrap: int | None = None, seed: int | None = None, **partable_options):
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
        from survey.sem.estimate.wls import sample_cov

        for ram, block in zip(ml.mg.models, ml.stats.groups, strict=True):  # weighted: lavaan's weighted S
            ram.set_exogenous(sample_cov(block), block.mean)
    constrained = bool(ml.mg.partable["op"].isin(["==", "<", ">"]).any())  # survey.sem.ls_constrained
    if constrained and getattr(ml.stats.groups[0], "conditional_x", False):
        _refuse(est, "conditional_x", True, "conditional.x without explicit constraints (==, <, >)")
    observed = information == "observed" and est == "GLS"
    pairwise = str(missing).lower() in PAIRWISE and est != "GLS"  # GLS: lavaan 0.6.14 takes listwise
    if pairwise:  # lavaan: the pairwise covariances, N = the rows used
        ml.stats = pairwise_stats(ml.stats, data, group)
    dropped: list = []  # lavaan drops bounds beside linear equalities, with a warning (survey.sem.bounded)
    bounds = bounds_in_effect(model, ml.mg, dropped)
    res = fit_ls(ml.mg, ml.stats.groups, est, ml.theta, bounds=bounds)
    e_inv, slack, n_eq = None, None, 0
    if constrained:  # imported here: scipy stays out of the plain ML start-up path (tests/test_cli_light.py)
        from survey.sem.ls_constrained import fit_ls_constrained

        res, e_inv, slack, n_eq = fit_ls_constrained(ml.mg, ml.stats.groups, est, res, bounds, observed)
    robust_se = str(se).lower() in ("robust.sem", "robust")  # lavaan: se="robust" is robust.sem here
    if robust_se:  # lavaan's robust.sem sandwich (survey.sem.inference.ls_robust)
        res.vcov = robust_vcov(ml.mg, ml.stats.groups, est, res.theta, e_inv)
    boot_warnings: list = []
    boot_reps = None
    if str(se).lower() == "bootstrap":  # survey.sem.ls_bootstrap
        if constrained or bounds is not None:
            _refuse(est, "se", se, "bootstrap without explicit constraints or bounds")
        from survey.sem.ls_bootstrap import ls_bootstrap

        res.vcov, boot_reps, boot_warnings = ls_bootstrap(ml.mg, ml.stats.groups, est, res.theta,
                                                  int(bootstrap or 1000), seed)
    if observed and not constrained:  # the Hessian of F (survey.sem.inference.ls_robust)
        res.vcov = observed_vcov(ml.mg, ml.stats.groups, est, res.theta)
    info = Information(np.linalg.pinv(res.vcov) / ml.nobs, res.vcov, False)
    if str(se).lower() == "none":  # lavaan: estimates without standard errors
        res.vcov = np.full_like(res.vcov, np.nan)
        info.vcov = res.vcov
    estimation = Estimation(res.theta, res.fmin, res.converged, res.iterations, 0.0, "gauss-newton")
    pieces = type(ml.pieces)(ml.mg, res.theta, res.chisq, res.df, info, None)
    base = type(ml.baseline)(ml.baseline.mg, ml.baseline.theta, res.baseline_chisq, res.baseline_df,
                             None, None)
    warnings = [w for w in ml.warnings if w.code not in ("not_converged", "bounds_ignored")] + dropped
    warnings += boot_warnings
    asked = {str(information).lower(), str(se).lower()}
    if ({"observed", "first.order"} & asked) and not observed:  # lavaan 0.6.14's warning
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
    out.boot_replicates = boot_reps  # se="bootstrap": B x q replicate estimates (NaN rows: failed)
    if boot_reps is not None:  # lavaan's se="bootstrap" table: bootstrap SEs, z, percentile limits
        from survey.sem.ls_bootstrap import bootstrap_result

        out.bootstrap = bootstrap_result(out, boot_reps, seed, boot_warnings)
    out.e_inv = e_inv  # explicit constraints: the augmented inverse (standardized residuals)
    if constrained:  # lavaan: npar - the equalities; each constraint row reports its slack
        out.n_equality = n_eq
        k = out.partable.index[out.partable["op"].isin(["==", "<", ">"])]
        out.partable.loc[k, "est"] = slack
        out.partable.loc[k, "se"] = 0.0
    out.missing = "pairwise" if pairwise else "listwise"
    if str(missing).lower() in PAIRWISE and not pairwise:
        from survey.errors import SurveyWarning

        out.warnings.append(SurveyWarning("pairwise_listwise", "missing=\"pairwise\" with estimator GLS: "
                                          "listwise deletion, as lavaan 0.6.14 (its nobs: the complete rows)",
                                          "sem"))
    se_kind = "robust.sem" if robust_se else str(se).lower() if str(se).lower() in ("none", "bootstrap") \
        else "standard"
    out.se_options = (se_kind, "observed" if observed else "expected")
    if str(test).lower() in BROWNE:  # Browne's residual-based test beside the standard one (lavaan)
        from survey.sem.results.ls_browne import browne_test

        out.browne_test = browne_test(str(test).lower(), ml.mg, ml.stats.groups, res.theta, res.df, est)
    if str(test).lower() in ROBUST_TESTS:  # Satorra-Bentler / scaled-shifted (survey.sem.inference.ls_robust)
        out.scaled_test, out.scaled_baseline = scaled_tests(ml.mg, ml.stats.groups, est, res.theta,
                                                            str(test).lower(), res.chisq, res.df,
                                                            res.baseline_chisq, res.baseline_df, e_inv)
    return out


ROBUST_LS = {"WLSM": ("DWLS", "satorra.bentler"), "WLSMVS": ("DWLS", "mean.var.adjusted"),
             "WLSMV": ("DWLS", "scaled.shifted"), "ULSM": ("ULS", "satorra.bentler"),
             "ULSMVS": ("ULS", "mean.var.adjusted"), "ULSMV": ("ULS", "scaled.shifted")}


def continuous_robust_ls(estimator: str, ordered, se: str, options: dict) -> tuple[str, str]:
    """lavaan 0.6.14's robust least-squares names on continuous items (no ordered ones): WLSMV is DWLS with
    se = "robust.sem" and test = "scaled.shifted", WLSM / WLSMVS the Satorra-Bentler / mean-and-variance
    adjusted tests, ULS* the same with ULS (lav_options). Returns (estimator, se); sets ``test`` in
    ``options`` unless given."""
    est = str(estimator).upper()
    if est not in ROBUST_LS or not (ordered is None or ordered is False or ordered == []):
        return estimator, se
    base, test = ROBUST_LS[est]
    if options.get("test", "default") == "default":
        options["test"] = test
    return base, ("robust.sem" if se in ("default", None) else se)
