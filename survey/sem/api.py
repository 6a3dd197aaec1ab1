"""``survey.sem.fit``: lavaan-equal SEM (the analogue of lavaan's ``sem()``), one pipeline for every
estimator x missing-data x groups x covariates combination (:mod:`survey.sem.engine`), plus the bootstrap
(:mod:`survey.sem.bootstrap`) when ``se="bootstrap"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.engine import check_options, fit_blocks
from survey.sem.ls_route import (
    check_ls_options,
    continuous_robust_ls,
    fit_least_squares,
    wants_least_squares,
)
from survey.sem.ordinal.route import fit_ordered, wants_ordinal
from survey.sem.results.result import SEMResult

try:  # small dense matrices: BLAS threads only add overhead (threadpoolctl comes with scikit-learn)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None


def single_thread():
    """Context limiting BLAS to one thread."""
    return threadpool_limits(1) if threadpool_limits is not None else nullcontext()


def fit(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str | None = None,
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Iterable[str] | str = (),
    group_partial: Iterable[str] | str = (),
    se: str = "default",
    bootstrap: int | None = None,
    seed: int | None = None,
    sampling_weights: str | None = None,
    cluster: str | None = None,
    sampling_weights_normalization: str = "total",
    ordered: Iterable[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    groups: list | None = None,
    bollen_stine: bool = False,
    **partable_options,
) -> SEMResult:
    """Fit a lavaan-syntax model with lavaan ``sem()`` defaults.

    Parameters
    ----------
    model : lavaan model syntax (``=~ ~ ~~ ~1 :=``, labels ``a*x``, fixed values ``1*x``).
    data : one row per respondent; the model's observed variables must be numeric columns.
    estimator : None (not given: "ML", with ``ordered`` items "WLSMV"; an explicit "ML" with ordered items is
        refused, as lavaan refuses it) | "ML" | "MLR" | "MLM" (lavaan's defaults for each: standard /
        robust.huber.white / robust.sem standard errors; standard / yuan.bentler.mplus / satorra.bentler
        test); lavaan's aliases
        "MLF" (ML, SEs from the first-order information), "MLMV" (ML, robust.sem, scaled.shifted test),
        "MLMVS" (ML, robust.sem, mean.var.adjusted test); complete data only
        (:func:`survey.sem.engine.resolve_alias`); "GLS" | "ULS" | "DWLS" | "WLS" without ``ordered``:
        lavaan's continuous least squares (fixed.x = FALSE, one group, complete data, se "standard";
        :mod:`survey.sem.ls_route`).
    missing : "listwise" | "fiml" (lavaan "ml"; rows with a missing fixed.x covariate are deleted) |
        "ml.x" (covariates modelled, rows kept) | "two.stage" | "robust.two.stage" (lavaan's two-stage ML on
        the EM moments, :mod:`survey.sem.two_stage`). MLM needs complete data (lavaan refuses it too).
    group, group_equal, group_partial, groups : multi-group model (lavaan ``group=``, ``group.equal=``,
        ``group.partial=``); ``groups`` (or lavaan's ``group_label``) chooses the groups used, in that
        order (default: all, in order of appearance).
    se : "default" (the estimator's) | "standard" | "robust" | "robust.huber.white" | "robust.sem" |
        "first.order" | "none" | "bootstrap".
    bootstrap, seed, scheduler, workers, bollen_stine : replicates (default 1000 with se="bootstrap"),
        their seed, where they run (:func:`survey.sem.executor.get_executor`), Bollen-Stine resampling.
    sampling_weights, cluster : a column of sampling weights (lavaan ``sampling.weights=``, rescaled to sum
        to N; ``sampling_weights_normalization="group"|"none"`` as lavaan) and a column of cluster ids
        (lavaan ``cluster=``, single level: cluster-robust SEs and test); with either, estimator ML runs as
        MLR (robust SEs, Yuan-Bentler-Mplus test), as lavaan (:mod:`survey.sem.inference.cluster`).
        A model with lavaan ``level: 1`` / ``level: 2`` blocks and ``cluster=`` is a two-level SEM
        (ML / MLR, :mod:`survey.sem.multilevel`).
    ordered : ordered items (``True``/``"all"`` or a list of columns; lavaan ``ordered=``), fitted by WLSMV
        (or estimator WLSM / ULSMV / ULSM / WLS; ``parameterization="delta"|"theta"``) through
        :func:`survey.sem.ordinal.route.fit_ordered`, which returns the ordinal fit classes.
    partable_options : lavaan's parameter-table options (``std_lv``, ``orthogonal``, ``meanstructure``,
        ``int_ov_free``, ``int_lv_free``, ``fixed_x``, ``auto_fix_first``, ``auto_fix_single``, ``auto_var``,
        ``auto_cov_lv_x``, ``auto_cov_y``, ``model_type``), passed to :func:`survey.sem.syntax.lavaanify`;
        ``std_ov`` (lavaan ``std.ov``: :mod:`survey.sem.data.std_ov`); ``likelihood`` ("normal" |
        "wishart", the ML estimators, also with groups, FIML and Browne's tests: :mod:`survey.sem.wishart`);
        ``mimic`` ("lavaan" | "Mplus" | "EQS", also with the least-squares estimators:
        :mod:`survey.sem.mimic`); lavaan options without effect on the numbers (``verbose``, ``warn``,
        ``optim_method``, ``check_*``: :mod:`survey.sem.no_effect`) are accepted;
        ``rotation``, ``rotation_se``, ``rotation_args`` (efa("b") blocks: :mod:`survey.sem.efa`);
        also ``information`` ("expected" | "observed") and ``test`` ("standard"); ``conditional_x``
        (lavaan's conditional.x = TRUE: the model of y given x, ML / MLR / MLM / MLMV / MLMVS, ML's
        test= and se="robust.sem" on the statistics of y given x, ULS / DWLS / WLS (se and test
        standard), groups, bootstrap:
        :mod:`survey.sem.conditional_x`). Explicit constraints
        (``a > 0``, ``a == b^2``) are imposed with estimator ML (:mod:`survey.sem.constrained`), also when
        given apart from the model as lavaan's ``constraints=`` string
        (:mod:`survey.sem.syntax.extra_constraints`).

    Returns
    -------
    :class:`survey.sem.results.result.SEMResult` (``estimates()``, ``fit_measures()``, ``r2()``,
    ``modindices()``, ``summary()`` ...).

    Examples
    --------
    >>> import semopy.examples.holzinger39 as hs
    >>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9", hs.get_data())
    >>> round(res.fit_measures()["chisq"], 3)
    85.306
    """
    from survey.sem.multilevel import has_levels
    from survey.sem.no_effect import drop_no_effect
    from survey.sem.observed import check_information_options
    from survey.sem.syntax.checks import check_partable_options, check_path

    if estimator is None:  # not given: ML (ordered items: WLSMV, survey.sem.ordinal.route)
        estimator = "ML"
    elif str(estimator).upper() == "ML" and wants_ordinal("ML", ordered):
        raise SurveyInputError("estimator='ML' is not available with ordered items; lavaan 0.6.14 refuses it "
                               "too: estimator ML for ordered data is not supported yet. Use WLSMV instead.",
                               field="estimator")
    if "constraints" in partable_options:  # lavaan's constraints= argument (syntax.extra_constraints)
        from survey.sem.syntax.extra_constraints import merge_constraints

        model = merge_constraints(model, partable_options.pop("constraints"))
    if wants_ordinal(estimator, ordered):  # lavaan's threshold formulas item | t1 (ordinal.threshold_syntax)
        from survey.sem.ordinal.threshold_syntax import split_thresholds

        model, th_specs = split_thresholds(model)
        if th_specs:
            partable_options["thresholds"] = th_specs
    if "group_label" in partable_options:  # lavaan's group.label: the groups used, in that order
        label = partable_options.pop("group_label")
        label = [label] if isinstance(label, str) else list(label)
        if groups is not None and list(groups) != label:
            raise SurveyInputError("groups= and group_label= name different groups (give one of them)",
                                   field="group_label")
        groups = label
    asked_estimator = estimator  # the user's name (WLSMV ...) for the messages
    estimator, se = continuous_robust_ls(estimator, ordered, se, partable_options)  # WLSMV etc., continuous
    if ordered is not None and not isinstance(ordered, (str, bool)):
        ordered = list(ordered)  # read once (an iterator too)
    continuous = ordered is None or ordered is False or ordered == []  # no ordered items (True: all)
    from survey.sem.no_effect import check_parameterization

    partable_options = check_parameterization(partable_options, continuous and not wants_ordinal(estimator,
                                                                                                   ordered))
    conditional = partable_options.pop("conditional_x", "default")
    if conditional is False and not continuous:  # ordered items: lavaan's default there is TRUE
        from survey.sem.ordinal.route import refuse_unconditional

        refuse_unconditional(model, group)
    if conditional not in (False, "default") and continuous:
        # lavaan's conditional.x (ordered items: their default already); continuous ULS/DWLS/WLS included
        from survey.sem.conditional_x import check_conditional_x, conditional_x_fit, has_covariates

        check_conditional_x(partable_options, estimator=asked_estimator, missing=missing, ordered=ordered,
                            sampling_weights=sampling_weights, cluster=cluster, se=se)
        if has_levels(model):
            raise SurveyInputError("conditional.x=TRUE with levels (two-level models) is not available yet "
                                   "(available: ML, MLR, groups, group.equal)",
                                   field="conditional_x")
        if not has_covariates(model, partable_options):  # lavaan: conditional.x set to FALSE, a warning
            result = fit(model, data, estimator=estimator, missing=missing, group=group,
                         group_equal=group_equal, group_partial=group_partial, se=se, bootstrap=bootstrap,
                         seed=seed, groups=groups, scheduler=scheduler, workers=workers,
                         bollen_stine=bollen_stine, **partable_options)
            result.warnings.append(SurveyWarning("conditional_x_off", "no exogenous covariates; "
                                                 "conditional.x will be set to FALSE (as lavaan)", "sem"))
            return result
        with conditional_x_fit():
            result = fit(model, data, estimator=estimator, missing=missing, group=group,
                         group_equal=group_equal, group_partial=group_partial, se=se, bootstrap=bootstrap,
                         seed=seed, groups=groups,
                         scheduler=scheduler, workers=workers, bollen_stine=bollen_stine,
                         **{**partable_options, "meanstructure": True, "fixed_x": True})
        result.conditional_x = True
        return result
    if has_levels(model):  # lavaan level: blocks with cluster= (survey.sem.multilevel)
        from survey.sem.multilevel.fit import fit_twolevel

        return fit_twolevel(model, data, cluster=cluster, estimator=estimator, missing=missing, group=group,
                            se=se, bootstrap=bootstrap, sampling_weights=sampling_weights, ordered=ordered,
                            **drop_no_effect(partable_options))
    partable_options = drop_no_effect(partable_options)  # verbose=, warn=, optim.method= ... (no effect)
    from survey.sem.efa.route import check_efa_route  # efa() blocks: the fits that rotate them

    check_efa_route(model, partable_options, least_squares=wants_least_squares(estimator, ordered),
                    ordinal=wants_ordinal(estimator, ordered), group=group, group_equal=group_equal,
                    weighted=bool(sampling_weights
                    or cluster), resampling=bool(bootstrap) or str(se).lower() == "bootstrap"
                    or str(partable_options.get("test", "")).lower() == "bollen.stine")
    if str(partable_options.get("mimic", "lavaan")).lower() not in ("lavaan", "default"):
        from survey.sem.mimic import fit_mimic  # lavaan mimic="Mplus"

        return fit_mimic(fit, partable_options.pop("mimic"), model, data, estimator=estimator,
                         missing=missing, group=group, group_equal=group_equal, group_partial=group_partial,
                         se=se, bootstrap=bootstrap, seed=seed, sampling_weights=sampling_weights,
                         cluster=cluster, sampling_weights_normalization=sampling_weights_normalization,
                         ordered=ordered, scheduler=scheduler, workers=workers, groups=groups,
                         bollen_stine=bollen_stine, **partable_options)
    partable_options.pop("mimic", None)
    likelihood = str(partable_options.pop("likelihood", "default")).lower()
    if likelihood == "wishart":  # lavaan likelihood="wishart" (survey.sem.wishart)
        from survey.sem.wishart import fit_wishart

        return fit_wishart(fit, model, data, estimator=estimator, missing=missing, group=group, se=se,
                           group_equal=group_equal, group_partial=group_partial, groups=groups,
                           bootstrap=bootstrap, sampling_weights=sampling_weights, cluster=cluster,
                           ordered=ordered, **partable_options)
    if likelihood not in ("default", "normal"):
        raise SurveyInputError(f"likelihood={likelihood!r} is not a lavaan likelihood (available: normal, "
                               "wishart)", field="likelihood", value=likelihood)
    from survey.sem.two_stage import check_two_stage_estimator

    two_stage = check_two_stage_estimator(missing, estimator, ordered)  # lavaan's refusals for two.stage
    asked = partable_options.pop("information", None)
    first_order = bool(two_stage) and str(asked).lower() == "first.order"  # lavaan: observed, with a warning
    asked = None if first_order else asked
    if (not two_stage and str(asked).lower() == "first.order" and not wants_least_squares(estimator, ordered)
            and not wants_ordinal(estimator, ordered)):  # ML: se from the first-order information (lavaan)
        from survey.sem.options import first_order_information

        se = first_order_information(estimator, se, partable_options.get("test", "standard"))
        asked = None
    # least squares: information="first.order" is lavaan's refusal (GLS) or its "expected" with a warning
    ls_first_order = wants_least_squares(estimator, ordered) and str(asked).lower() == "first.order"
    information, test = check_information_options("expected" if ls_first_order else asked or "expected",
                                                  partable_options.pop("test", "standard"))
    if asked is None:  # lavaan's default per estimator and missing-data treatment
        information = "first.order" if first_order else "default"
    if ":" in model:  # lavaan's product terms y ~ x1:x2 (survey.sem.data.products)
        from survey.sem.data.products import add_products

        data = add_products(model, data)
    if partable_options.pop("std_ov", False):  # lavaan std.ov = TRUE (survey.sem.data.std_ov)
        from survey.sem.data.std_ov import standardize_observed

        data = standardize_observed(model, data, group=group, missing=missing, ordered=ordered,
                                    **partable_options)
    if wants_least_squares(estimator, ordered):  # continuous GLS / ULS / DWLS / WLS (sem.ls_route)
        est = str(estimator).upper()
        check_ls_options(est, missing=missing, group=group, se=se, bootstrap=bootstrap,
                         sampling_weights=sampling_weights, cluster=cluster, test=test, information=asked,
                         partable_options=partable_options)
        check_partable_options({k: v for k, v in partable_options.items() if k != "fixed_x"})
        from survey.sem.efa.route import ls_rotation  # efa() blocks: rotated after the fit

        rotate = ls_rotation(model, partable_options)
        with single_thread():
            return rotate(fit_least_squares(model, data, est, group=group, group_equal=group_equal,
                                     group_partial=group_partial, se=se, test=test, information=asked,
                                     missing=missing, sampling_weights=sampling_weights,
                                     sampling_weights_normalization=sampling_weights_normalization,
                                     bootstrap=bootstrap, seed=seed, **partable_options))
    if wants_ordinal(estimator, ordered):  # ordered items: thresholds, polychorics, WLSMV (sem.ordinal)
        check_path(model, group=group, missing=missing, plain_ml=False,  # no explicit constraints
                   ordinal=True)
        from survey.sem.efa.route import ordinal_rotation  # efa() blocks: rotated after the fit
        from survey.sem.ordinal.route import ignore_cluster

        rotate = ordinal_rotation(model, partable_options, se)

        def fit_it():
            return rotate(fit_ordered(model, data, estimator=estimator, ordered=ordered, missing=missing,
                                      group=group, group_equal=group_equal, group_partial=group_partial,
                                      se=se, bootstrap=bootstrap, groups=groups, test=test, information=asked,
                                      sampling_weights=sampling_weights,
                                      sampling_weights_normalization=sampling_weights_normalization,
                                      seed=seed, bollen_stine=bollen_stine, **partable_options))

        return ignore_cluster(data, cluster, fit_it)
    check_partable_options(partable_options)
    from survey.sem.inference.many_tests import without_bollen_stine

    # lavaan: the Bollen-Stine p beside the other tests (two-stage: the SB test instead)
    bs_test, other_tests = without_bollen_stine(test) if not two_stage else (False, test)
    plain = not sampling_weights and not cluster  # weights: linear equalities only (tested)
    check_path(model, group=group, missing=missing, plain_ml=plain,  # weights/clusters: bounds imposed
               weighted=bool(sampling_weights or cluster) and not (bootstrap or se == "bootstrap"),
               resampling=bool(bootstrap or str(se).lower() == "bootstrap" or bs_test))
    kind = check_options(estimator, "listwise" if two_stage else missing, se, group, group_equal)[1]
    se_name = str(se).lower()
    n_boot = int(bootstrap) if bootstrap else (1000 if se_name == "bootstrap" or bs_test else 0)
    n_boot = 0 if two_stage else n_boot  # lavaan: se is the two-stage one (a warning from the engine)
    if n_boot and (sampling_weights or cluster):
        from survey.sem.inference.cluster import refuse_bootstrap

        refuse_bootstrap(bool(sampling_weights), bool(cluster))
    boot_se = se_name == "bootstrap"
    if bs_test:  # MLR too: lavaan keeps its Yuan-Bentler-Mplus test, the replicates' T is the ML one
        if kind != "listwise":  # lavaan 0.6.14 refuses it, before fitting
            from survey.sem.bootstrap_common import refuse_bollen_stine_missing

            refuse_bollen_stine_missing()
        test, bollen_stine = other_tests, True
    with single_thread():
        result = fit_blocks(
            model,
            data,
            estimator=estimator,
            missing=missing,
            group=group,
            group_equal=group_equal,
            group_partial=group_partial,
            groups=groups,
            se="default" if se_name == "bootstrap" and not two_stage else se_name,
            information=information,
            sampling_weights=sampling_weights,
            cluster=cluster,
            sampling_weights_normalization=sampling_weights_normalization,
            test=test,
            h1_tests=bs_test,
            **partable_options,
        )
    if n_boot:
        from survey.sem.bootstrap import bootstrap as run_bootstrap

        boot = run_bootstrap(
            result, n_boot, seed=seed, scheduler=scheduler, workers=workers, bollen_stine=bollen_stine
        )
        result.warnings += boot.warnings
        # lavaan (lav_model_nvcov_bootstrap): se="bootstrap" with test="bollen.stine" takes the SEs from the
        # same Bollen-Stine resamples as the test's p-value (one run, FUN "coeftest")
        if not bollen_stine or (bs_test and boot_se):
            _bootstrap_vcov(result, boot)
        if bs_test:  # the standard errors stay the estimator's (or the bootstrap's, above)
            from survey.sem.inference.tests import pvalue

            result.pieces.extra_tests = {**getattr(result.pieces, "extra_tests", {}), "bollen.stine": {
                "test": "bollen.stine", "stat": float(result.pieces.stat), "df": float(result.pieces.df),
                "pvalue": boot.bollen_stine_pvalue, "refdistr": "bootstrap", "replications": len(boot.ok),
                "pvalue.chisq": pvalue(result.pieces.stat, result.pieces.df)}}
        if not bs_test or boot_se:
            result.bootstrap = boot
    return result


def _bootstrap_vcov(result: SEMResult, boot) -> None:
    """The bootstrap covariance of the estimates as the fit's vcov: divisor B over the B converged replicates,
    as lavaan's lav_model_nvcov_bootstrap (cov(COEF) (B - 1) / B)."""
    names = list(result.vcov().index)
    ok = boot.ok
    if len(ok) > 1 and result.information is not None:
        cov = np.cov(ok[names].to_numpy().T, ddof=0).reshape(len(names), len(names))
        result.information.vcov = cov
        result._vcov = cov
        result.partable = result._fill_partable(result.partable)
