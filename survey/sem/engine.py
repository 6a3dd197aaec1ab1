"""The one pipeline: every estimator x missing-data x groups x covariates combination (lavaan's ``lavaan()``).

parameter table over the groups (:func:`survey.sem.syntax.groups.group_partable`, lavaan's auto.* defaults) ->
sample statistics per block (:func:`survey.sem.data.blocks.build_blocks`: complete moments or FIML
patterns; fixed.x covariates at their sample moments) -> model matrices per block
(:class:`survey.sem.model.blocks.MultiGroupModel`) -> one objective summed over blocks and one optimiser
(:mod:`survey.sem.estimate`) -> information and vcov (:mod:`survey.sem.inference`) -> tests -> fit
measures (:mod:`survey.sem.measures`) -> :class:`survey.sem.results.result.SEMResult`.

lavaan's defaults per estimator: ML (se standard, expected information with complete data, observed with
missing data; test standard), MLR (robust.huber.white with the observed information, yuan.bentler.mplus),
MLM (robust.sem, expected information, satorra.bentler; complete data only, as lavaan). lavaan's aliases
(``lav_options_set``) run as ML: MLF (se from the first-order information), MLMV (robust.sem +
scaled.shifted test) and MLMVS (robust.sem + mean.var.adjusted test); MLMV/MLMVS need complete data.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.baseline import baseline_exogenous, baseline_syntax, baseline_theta, independent_x
from survey.sem.conditional_x import baseline_syntax_conditional, baseline_theta_conditional, conditional_x
from survey.sem.data.blocks import build_blocks
from survey.sem.data.moments import SampleStats
from survey.sem.data.two_stage import two_stage_kind
from survey.sem.defaults import default_information, resolve_se, resolve_test
from survey.sem.diagnostics import check_convergence, check_identification, check_sample
from survey.sem.estimate.objective import total_f
from survey.sem.estimate.optimizer import estimate
from survey.sem.inference import information as infmod
from survey.sem.inference import vcov as vcmod
from survey.sem.inference.adjusted import check_information, second_test
from survey.sem.inference.tests import ScaledTest, n_moments, satorra_bentler, yuan_bentler_mplus
from survey.sem.inference.two_stage import two_stage_inference
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.options import (  # noqa: F401 - ESTIMATORS, SE_OPTIONS re-exported (survey.sem.invariance)
    ALIASES,
    ALL_ESTIMATORS,
    ESTIMATORS,
    SE_OPTIONS,
    check_options,
    resolve_alias,
)
from survey.sem.start import start_values
from survey.sem.syntax import parse_syntax, variable_names
from survey.sem.syntax.checks import ram_table
from survey.sem.syntax.defined import check_definitions
from survey.sem.syntax.groups import group_partable, normalize_group_equal, normalize_group_partial


@dataclass
class Pieces:
    """What the result needs from the pipeline, for the model and for the baseline model."""

    mg: MultiGroupModel
    theta: np.ndarray
    stat: float
    df: float
    info: vcmod.Information | None
    scaled: ScaledTest | None


def block_start(mg: MultiGroupModel, blocks) -> np.ndarray:
    """lavaan-like start values per block, averaged over the rows of each shared parameter."""
    full = np.zeros(mg.npar_full)
    for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
        full[mg.index[i]] = start_values(ram, b)
    counts = mg.k.sum(axis=0)
    return (mg.k.T @ full) / np.where(counts > 0, counts, 1)


def inference(
    est: str,
    kind: str,
    mg: MultiGroupModel,
    blocks,
    theta: np.ndarray,
    df: float,
    se: str = "default",
    information: str = "default",
    test: str = "standard",
    test_information=None,
) -> tuple[vcmod.Information | None, ScaledTest | None]:
    """vcov (per ``se``) and the estimator's scaled test at theta; ``information`` "expected" |
    "observed" overrides lavaan's default information (expected with complete data except MLR);
    ``test_information(mg, blocks, theta)``: the information of the Yuan-Bentler test when it is not ``a``
    (lavaan's observed.information="h1" with clusters under ML, :mod:`survey.sem.inference.cluster`)."""
    est, se, test = resolve_alias(est, se, test, information)
    test = test[0] if isinstance(test, list) else test  # the fit's own test (the others: fit_blocks)
    n = sum(b.n for b in blocks)
    if mg.npar == 0:
        return vcmod.Information(np.zeros((0, 0)), np.zeros((0, 0)), False), None
    se_kind = resolve_se(est, kind, se)
    stat = n * total_f(mg, blocks, theta)
    check_information(information, est, kind, se_kind)
    info_kind = default_information(est, kind, se_kind, information)
    a = infmod.information(info_kind, mg, blocks, theta)
    scaled = None
    sem = None
    if est == "MLM" or se_kind == "robust.sem":
        if info_kind == "observed":  # lavaan's observed information and observed h1 weight
            from survey.sem.inference.observed_sem import robust_sem_observed

            sem = robust_sem_observed(mg, blocks, theta, infmod.deltas(mg, theta), a)
        else:
            sem = vcmod.robust_sem(mg, blocks, theta, infmod.deltas(mg, theta))
        if est == "MLM":
            scaled = satorra_bentler(stat, df, *sem[1])
    b0 = None
    if est == "MLR" or se_kind in ("robust.huber.white", "first.order"):
        b0 = infmod.first_order(mg, blocks, theta)
        a_test = a if test_information is None else test_information(mg, blocks, theta)
        if est == "MLR" and not vcmod.is_singular(a_test)[0]:
            scaled = yuan_bentler_mplus(
                stat, df, vcmod.symmetric_inverse(a_test), b0, blocks, mg.meanstructure, mg.free_rows,
                expected=info_kind == "expected",
            )
    if se_kind == "robust.sem":
        info = sem[0]
    elif se_kind == "robust.huber.white":
        info = vcmod.huber_white(a, b0, n)
    elif se_kind == "first.order":
        info = vcmod.standard(b0, n)
    else:
        info = vcmod.standard(a, n)
        if se_kind == "none":
            info.vcov = np.full_like(info.vcov, np.nan)
    if kind == "listwise" and info_kind != "expected":  # modification indices use the expected information
        info.information = infmod.expected(mg, blocks, theta)
    if est == "ML" and test != "standard":  # lavaan's test= option (survey.sem.inference.adjusted)
        from survey.sem.inference.adjusted import requested_test

        if b0 is None and test == "yuan.bentler.mplus":
            b0 = infmod.first_order(mg, blocks, theta)
        a_req, weight = a, None
        if kind != "listwise" or info_kind == "observed":  # lavaan: observed.information "h1" (test list > 1)
            from survey.sem.inference.observed_sem import h1_structured_information, observed_h1_weight

            a_req, weight = h1_structured_information(mg, blocks, theta), observed_h1_weight
        scaled = requested_test(test, stat, df, mg, blocks, theta, infmod.deltas(mg, theta),
                                vcmod.symmetric_inverse(a_req), b0, weight=weight)
    return info, scaled


def fit_blocks(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Iterable[str] | str = (),
    group_partial: Iterable[str] | str = (),
    groups: list | None = None,
    se: str = "default",
    information: str = "default",
    sampling_weights: str | None = None,
    cluster: str | None = None,
    sampling_weights_normalization: str = "total",
    test: str = "standard",
    h1_tests: bool = False,
    **partable_options,
):
    """Fit ``model`` through the one pipeline (``h1_tests``: lavaan's test list has a second entry the
    engine does not compute, e.g. "bollen.stine", so MLR's test uses observed.information "h1");
    returns a :class:`survey.sem.results.result.SEMResult`
    (explicit constraints ``a > 0``, ``a == b^2``: :func:`survey.sem.constrained.fit_constrained`);
    ``sampling_weights``/``cluster``: lavaan's weighted / cluster-robust fit
    (:mod:`survey.sem.inference.cluster`)."""
    from survey.sem.data.weighted import design_from
    from survey.sem.inference import cluster as clmod
    from survey.sem.inference.adjusted import mark_sample_nacov
    from survey.sem.inference.listwise import listwise_switch
    from survey.sem.inference.many_tests import add_extra_tests, split_tests, tests_with_design
    from survey.sem.results.result import SEMResult

    if cluster and str(estimator).upper() in ("MLMV", "MLMVS"):
        from survey.sem.inference.cluster_alias import fit_clustered_alias  # lavaan's clustered MLMV(S)

        return fit_clustered_alias(fit_blocks, model, data, estimator, test, se, information, missing=missing,
                                   group=group, group_equal=group_equal, group_partial=group_partial,
                                   groups=groups, sampling_weights=sampling_weights, cluster=cluster,
                                   sampling_weights_normalization=sampling_weights_normalization,
                                   **partable_options)
    two_stage, builder, ts_warnings = None, build_blocks, []
    if two_stage_kind(missing):  # lavaan missing="two.stage": ML on the EM moments (survey.sem.two_stage)
        from survey.sem.two_stage import prepare_two_stage

        two_stage, builder, information, ts_warnings = prepare_two_stage(
            missing, estimator, se, test, information, data, sampling_weights, cluster)
        estimator, missing, se, test, partable_options["meanstructure"] = "ML", "listwise", "default", \
            "standard", True
        sampling_weights = cluster = None  # clusters: in the builder's blocks (survey.sem.data.two_stage)
    est, kind = check_options(estimator, missing, se, group, group_equal)
    kind, listwise_warnings = listwise_switch(kind, test, se)  # lavaan's drop to listwise (SB-style tests)
    test, more_tests = split_tests(test)  # test=[...]: the first is the fit's, the others beside it
    est, se, test = resolve_alias(est, se, test, information)
    if isinstance(test, list):  # MLMV/MLMVS + a further test: the alias' test, then that one (lavaan)
        test, more_tests = test[0], [*test[1:], *more_tests]
    design = design_from(data, sampling_weights, cluster, sampling_weights_normalization) \
        if isinstance(data, pd.DataFrame) else None
    more_tests, more_warnings = tests_with_design(design, estimator, test, more_tests)
    asked_test, test = test, clmod.cluster_test(estimator, test, design)
    est, se, h1_test = clmod.resolve(est, se, design, test=test, alias=str(estimator).upper() in ALIASES)
    information = clmod.cluster_ml_test(est, se, design, information, estimator)  # SB: observed, MLF: exp.
    test_info = clmod.test_information(h1_test, estimator, information)
    test, second = resolve_test(test, est, kind)
    # lavaan: observed.information "h1" for all tests when there are > 1 (clusters: test= was dropped)
    if est == "MLR" and (second or more_tests or h1_tests):
        from survey.sem.inference.observed_sem import h1_structured_information

        test_info = h1_structured_information
    ge = normalize_group_equal(group_equal)
    gp = normalize_group_partial(group_partial)
    from survey.sem.efa.rotated import pop_rotation  # efa() blocks: lavaan's rotation options

    rotation = pop_rotation(partable_options)
    if "efa(" in model:
        partable_options["orthogonal_efa"] = rotation.orthogonal
    if not isinstance(data, pd.DataFrame):
        raise SurveyInputError("data must be a pandas DataFrame", value=type(data).__name__)
    if group is not None:
        if group not in data.columns:
            raise SurveyInputError("grouping column not found in the data", column=group, field="group")
        labels = list(pd.unique(data[group].dropna())) if groups is None else list(groups)
        if len(labels) < 2:
            raise SurveyInputError(
                "the grouping column has fewer than two groups", column=group, field="group"
            )
    else:
        labels = [None]
    ms = bool(partable_options.pop("meanstructure", False)) or group is not None or kind != "listwise"
    ms = ms or (design is not None and design.cluster is not None)  # lavaan: cluster= adds the means
    fixed_x = bool(partable_options.pop("fixed_x", True))  # ml.x: fixed at the covariates' EM moments
    pt = group_partable(model, len(labels), ge, gp, meanstructure=ms, fixed_x=fixed_x,
                        group_labels=labels if group is not None else None, **partable_options)
    check_definitions(pt)
    ms = bool((pt["op"] == "~1").any())  # lavaan's meanstructure="default": also when the syntax has ~1
    composite = (pt["op"] == "<~").to_numpy()  # f <~ x: regressions of the composite (lavaan 0.6)
    mg = MultiGroupModel.from_partable(ram_table(pt), variable_names(pt) if composite.any() else None)
    x_names = list(mg.models[0].names.ov_x) if fixed_x else []  # fixed.x covariates only
    blocks, n_raw, warnings = builder(
        data, mg.ov, x_names=x_names, group=group, missing=kind, groups=None if group is None else labels,
        design=design,
    )
    cond_x = conditional_x() and bool(x_names)  # conditional.x: inference and fit measures of y given x
    for b in blocks if cond_x else ():  # (sem.conditional_x, sem.inference.conditional_sem)
        b.conditional_x = True
    warnings += clmod.design_warnings(estimator, design, asked_test) + listwise_warnings + more_warnings
    warnings += ts_warnings
    if group is None and ge:  # lavaan 0.6.14 ignores group.equal in a single-group fit (no warning)
        warnings.append(SurveyWarning("group_equal_ignored", f"group_equal ({', '.join(ge)}) is ignored "
                                      "without group= (one group: nothing to constrain; as lavaan)", "sem"))
    elif ge and any(f.op == ":" for f in parse_syntax(model)):  # lavaan 0.6.14 ignores it with blocks too
        warnings.append(SurveyWarning("group_equal_ignored", f"group_equal ({', '.join(ge)}) is ignored with "
                                      "'group:' block syntax (as lavaan 0.6.14; write the equalities as "
                                      "shared labels)", "sem"))
    if len(labels) > 1 and not any(f.op == ":" for f in parse_syntax(model)) and any(
            f.mod.label is not None and len(f.mod.label) == 1 and f.op not in ("==", "<", ">", ":=")
            for f in parse_syntax(model)):  # lavaan 0.6.14's lavaanify warning, same words
        warnings.append(SurveyWarning("single_label_groups", "using a single label per parameter in a "
                                      "multiple group setting implies imposing equality constraints across "
                                      "all the groups (lavaan); use a vector of labels c(a1, a2, ...) for "
                                      "one per group", "sem"))
    try:  # lavaan's stored NACOV (Browne's .adf.model test takes it)
        se_kind = resolve_se(est, kind, se)
    except SurveyInputError:
        se_kind = None
    mark_sample_nacov(blocks, est, kind, se_kind, [test, second, *more_tests])
    for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
        ram.set_exogenous(b.cov, b.mean)
        q_g = int(np.count_nonzero(mg.k[mg.index[i], :].any(axis=0)))
        for w in check_sample(b.cov, ram.ov, b.n, q_g):
            prefix = f"group {b.label}: " if group is not None else ""
            warnings.append(SurveyWarning(w.code, prefix + w.message, w.stage))
    start = block_start(mg, blocks)
    # efa() blocks: scoring crawls on the unrotated (echelon) solution; the trust region takes over sooner
    estimation = estimate(mg, blocks, start, scoring_iter=50 if "efa" in pt else 500)
    if "efa" in pt and rotation.method == "none":  # lavaan's signs of the echelon solution
        from survey.sem.efa.rotated import unrotated_signs

        estimation = dataclasses.replace(estimation, theta=unrotated_signs(mg, estimation.theta))
    warnings += check_convergence(estimation.converged, estimation.iterations, estimation.message)
    p, nx = len(mg.ov), len(x_names)
    df = len(blocks) * n_moments(p, nx, ms) - mg.npar
    n = sum(b.n for b in blocks)
    info, scaled = (None, None)
    if np.isfinite(estimation.fml):
        info, scaled = inference(est, kind, mg, blocks, estimation.theta, df, se, information, test,
                                 test_information=test_info) if two_stage is None else \
            two_stage_inference(two_stage, mg, blocks, estimation.theta, df, information)
    warnings += check_identification(info is not None and info.singular)
    stat = n * estimation.fml
    bad_h1 = [b.label for b in blocks if not np.isfinite(b.h1_logl)]
    if bad_h1:  # FIML: the EM estimate of the saturated model is singular (too few cases for the variables)
        stat = float("nan")
        warnings.append(SurveyWarning(
            "h1_singular", "the saturated (h1) model could not be estimated (singular EM covariance matrix"
            + (f" in group {', '.join(bad_h1)}" if group is not None else "")
            + "): no chi-square test or fit measures built on it; estimates and standard errors are reported",
            "sem"))
    model_pieces = Pieces(mg, estimation.theta, stat, df, info, scaled)
    second = second or (test if test.startswith("browne") else None)
    # lavaan's observed.information = "h1" for a second test under MLR and MLM with observed information
    h1_second = est == "MLR" or (est == "MLM" and information == "observed")
    if second and np.isfinite(estimation.fml):  # Browne's test, or MLM's second test (lavaan's test list)
        model_pieces.extra_tests = {second: second_test(second, mg, blocks, estimation.theta, df, stat,
                                                        observed_h1=h1_second)}
    if more_tests and np.isfinite(estimation.fml):  # test=[...]: the further tests beside the fit's one
        add_extra_tests(model_pieces, pt, more_tests, est, kind, blocks, stat,
                        default_information(est, kind, resolve_se(est, kind, se), information))
    # the baseline (independence) model: same blocks, same estimator
    free_x = [] if fixed_x or independent_x() else list(mg.models[0].names.ov_x)
    bsyntax = baseline_syntax_conditional([v for v in mg.ov if v not in x_names], x_names) if cond_x \
        else baseline_syntax(mg.ov, x_names, free_x)
    bpt = group_partable(bsyntax, len(labels), meanstructure=ms, fixed_x=fixed_x)
    names = copy.copy(mg.models[0].names)  # the model's order of the observed variables, no latents
    names.lv = []
    bmg = MultiGroupModel.from_partable(bpt, names)
    for ram, b in zip(bmg.models, blocks, strict=True):
        ram.set_exogenous(*baseline_exogenous(b, kind))
    btheta = baseline_theta_conditional(bmg, blocks) if cond_x else baseline_theta(bmg, blocks)
    bdf = len(blocks) * n_moments(p, nx, ms) - bmg.npar
    bstat = n * total_f(bmg, blocks, btheta)
    bscaled = None
    if two_stage:
        bscaled = two_stage_inference(two_stage, bmg, blocks, btheta, bdf, information, baseline=True)[1]
    elif est != "ML":
        bscaled = inference(est, kind, bmg, blocks, btheta, bdf, information=information,
                            test_information=test_info)[1]
    elif test not in ("standard",) and not test.startswith("browne"):
        bscaled = inference(est, kind, bmg, blocks, btheta, bdf, se, information, test=test)[1]
    base_pieces = Pieces(bmg, btheta, bstat, bdf, None, bscaled)
    stats = SampleStats(names=list(mg.ov), groups=blocks, n_raw=n_raw)
    result = SEMResult(
        model=model,
        estimator=est,
        missing=kind,
        group=group,
        group_equal=ge,
        group_partial=gp,
        mg=mg,
        stats=stats,
        estimation=estimation,
        pieces=model_pieces,
        baseline=base_pieces,
        warnings=warnings,
        start=start,
    )
    result.design_options = {k: v for k, v in (("sampling_weights", sampling_weights), ("cluster", cluster),
                             ("sampling_weights_normalization", sampling_weights_normalization))
                             if v and design is not None}  # refits (LR tests) reuse them
    if composite.any():  # the table shows lavaan's operator
        result.partable.loc[composite, "op"] = "<~"
    if "efa" in pt and rotation.method != "none":  # rotate the efa() blocks (survey.sem.efa.rotated)
        from survey.sem.efa.rotated import rotate_fit

        se_kind = resolve_se(est, kind, se)
        result = rotate_fit(result, rotation, default_information(est, kind, se_kind, information), se_kind,
                            test)
    from survey.sem.bounded import bounds_in_effect, fit_bounded

    bounds = bounds_in_effect(model, mg, result.warnings)  # lower()/upper(): lavaan's box (sem.bounded)
    constrained = pt["op"].isin(["==", "<", ">"]).any()
    if two_stage:
        from survey.sem.two_stage import finish_two_stage

        return finish_two_stage(result, two_stage, information, constrained, bounds)
    if bounds is not None and not constrained:
        design_options = result.design_options
        result = fit_bounded(result, bounds, est, kind, se, information, test,
                             functools.partial(inference, test_information=test_info),
                             second=next(iter(getattr(result.pieces, "extra_tests", None) or {}), None),
                             observed_h1=h1_second)
        result.design_options = design_options
    if constrained:  # explicit constraints, any estimator / missing / groups
        from survey.sem.constrained import fit_constrained

        se_kind = resolve_se(est, kind, se)
        result = fit_constrained(result, default_information(est, kind, se_kind, information), se_kind, test,
                                 bounds=bounds, observed_h1=h1_second)
    se_kind = resolve_se(est, kind, se)  # what summary() prints (lavaan's se / information)
    result.se_options = (se_kind, default_information(est, kind, se_kind, information))
    if se_kind == "first.order":  # lavaan (MLF, se= or information="first.order"): se standard, information
        result.se_options = ("standard", "first.order")  # first.order
    clmod.relabel_cluster_ml(result, estimator, asked_test)
    return result
