"""lavaan's options for ``missing = "two.stage"`` / ``"robust.two.stage"`` (``lav_options_set``, 0.6.14).

Stage 1: EM moments per group (:mod:`survey.sem.data.two_stage`); stage 2: ML on them with the two-stage
standard errors and Satorra-Bentler test (:mod:`survey.sem.inference.two_stage`). lavaan's rules, followed
here with its warning texts:

- estimators MLM, MLMV, GLS, WLS, ULS, DWLS (and their robust variants) are refused ("missing="two.stage" is
  not allowed for estimator ..."), so are ordered items ("not available in the categorical setting");
  MLF runs as ML (two-stage sets the information to observed before MLF's first.order could apply);
- meanstructure is always TRUE;
- ``se`` is the variant's; any other se (robust, bootstrap, none ...) is replaced with a warning;
- ``information`` default and "first.order" (with a warning) become "observed"; "expected" is kept (it changes
  stage 1's information only: lavaan's h1.information is "unstructured" for both);
- the test is always satorra.bentler (another test is replaced with a warning).
"""

from __future__ import annotations

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.two_stage import two_stage_kind
from survey.sem.inference.two_stage import TwoStage, two_stage_inference

#: lavaan 0.6.14 refuses these estimators with missing="two.stage" (lav_options_set)
REFUSED_ESTIMATORS = ("MLM", "MLMV", "GLS", "WLS", "WLSM", "WLSMV", "ULS", "ULSM", "ULSMV", "PML", "MML",
                      "DLS")


def check_two_stage_estimator(missing: str, estimator: str, ordered=None) -> str | None:
    """The two-stage variant of ``missing`` (None if it is not one), after lavaan's refusals."""
    kind = two_stage_kind(missing)
    if kind is None:
        return None
    est = str(estimator).upper()
    if ordered:
        raise SurveyInputError(f'missing="{kind}" not available in the categorical setting (lavaan)',
                               field="missing", value=str(missing))
    if est == "DWLS":  # not in lavaan's list, but its fit stops
        raise SurveyInputError(f'missing="{kind}" with estimator DWLS is not available: lavaan 0.6.14 stops '
                               'on it ("non-conformable arguments")', field="estimator", value=str(estimator))
    if est in REFUSED_ESTIMATORS:
        raise SurveyInputError(f'missing="{kind}" is not allowed for estimator "{est}" (lavaan)',
                               field="estimator", value=str(estimator))
    if est not in ("ML", "MLF", "MLR", "MLMVS"):
        raise SurveyInputError(f'missing="{kind}" with estimator {est} is not available yet (available: ML, '
                               "MLF, MLR, MLMVS)", field="estimator", value=str(estimator))
    return kind


def two_stage_options(kind: str, se: str, test, information: str,
                      estimator: str = "ML") -> tuple[TwoStage, str, list[SurveyWarning]]:
    """(what to fit, information, warnings) of a two-stage fit as lavaan resolves them (module docstring);
    the engine then fits ML with these pieces (MLR: lavaan's test list is yuan.bentler.mplus, then
    satorra.bentler)."""
    warnings: list[SurveyWarning] = []
    se = str(se).lower()
    if se not in ("default", kind):
        warnings.append(SurveyWarning("se_two_stage", f'se will be set to "{kind}" if missing = "{kind}" '
                                      "(as lavaan)", "sem"))
    tests = test if isinstance(test, (list, tuple)) else [test]
    names = [str(t).lower() for t in tests]
    if len(names) > 1:
        warnings.append(SurveyWarning("test_two_stage", "test= can only contain a single element if missing "
                                      f'= "{kind}" (taking the first; as lavaan)', "sem"))
    if names[0] not in ("default", "standard", "satorra", "sb", "satorra.bentler", "satorra-bentler"):
        warnings.append(SurveyWarning("test_two_stage", f'test will be set to "satorra.bentler" if missing = '
                                      f'"{kind}" (as lavaan)', "sem"))
    info = str(information).lower() if information not in (None, "default") else "observed"
    if info == "first.order":
        warnings.append(SurveyWarning("information_two_stage", f'information will be set to "observed" if '
                                      f'missing = "{kind}" (as lavaan)', "sem"))
        info = "observed"
    est = str(estimator).upper()
    return TwoStage(kind, est == "MLR", est == "MLMVS"), info, warnings


def prepare_two_stage(missing: str, estimator: str, se: str, test, information: str, data=None,
                      sampling_weights: str | None = None, cluster: str | None = None):
    """(what to fit, the block builder, information, warnings) for the engine's two-stage fit. lavaan
    refuses sampling weights; with cluster= it first sets se "robust.cluster" and the
    yuan.bentler.mplus test, which two-stage then replaces (both warnings, as lavaan); the robust stage-1
    Gamma and the baseline's Gamma sum over clusters (:mod:`survey.sem.inference.two_stage`)."""
    import functools

    from survey.sem.data.two_stage import build_two_stage
    from survey.sem.data.weighted import design_from

    kind = check_two_stage_estimator(missing, estimator)
    if sampling_weights:
        design_from(data, sampling_weights, None)  # the column's own checks first
        raise SurveyInputError(f"missing={kind!r} with sampling weights is not available (lavaan 0.6.14: "
                               "\"two.stage + sampling.weights is not supported yet\")", field="missing",
                               value=kind)
    codes = None
    if cluster:
        codes = design_from(data, None, cluster).cluster
        se = se if str(se).lower() not in ("default",) else "robust.cluster"
        test = test if str(test).lower() not in ("default", "standard") else "yuan.bentler.mplus"
    spec, information, warnings = two_stage_options(kind, se, test, information, estimator)
    return spec, functools.partial(build_two_stage, missing=kind, cluster_codes=codes), information, warnings


def finish_two_stage(result, spec: TwoStage, information: str, constrained: bool, bounds=None):
    """The fitted two-stage result with lavaan's labels (se, information; MLR: the estimator, and the
    Satorra-Bentler test beside the Yuan-Bentler-Mplus one); explicit constraints re-estimated by
    :func:`survey.sem.constrained.fit_constrained` with the two-stage vcov and test on the augmented
    information; lower()/upper() ``bounds`` imposed as a box (:func:`survey.sem.bounded.fit_bounded`; as in
    lavaan they do not enter the standard errors)."""
    kind = spec.kind
    if constrained:
        result = _constrained(result, spec, information, bounds)
    elif bounds is not None:
        from survey.sem.bounded import fit_bounded

        def stage(est, kind_, mg, blocks, theta, df, se, info, test):  # the engine's inference signature
            return two_stage_inference(spec, mg, blocks, theta, df, information)

        result = fit_bounded(result, bounds, "ML", "listwise", "default", information, "standard", stage)
    result.two_stage = kind
    result.se_options = (kind, information)
    if (spec.mlr or spec.mvs) and result.pieces.scaled is not None:
        from survey.sem.inference.adjusted import as_dict

        sb = two_stage_inference(kind, result.mg, result.stats.groups, result.theta, result.pieces.df,
                                 information)[1]
        result.pieces.extra_tests = {"satorra.bentler": as_dict(sb)}
        result.estimator = "MLR" if spec.mlr else "MLMVS"
    return result


def _constrained(result, spec: TwoStage, information: str, bounds=None):
    """The constrained re-estimate with the two-stage vcov and test (the constraints' Jacobian in E^-1)."""
    from survey.sem.constrained import fit_constrained

    out = fit_constrained(result, "expected", "standard", "standard", bounds=bounds)
    jac = out.pieces.constraint_jacobian[0]
    info, scaled = two_stage_inference(spec, out.mg, out.stats.groups, out.theta, out.pieces.df, information,
                                       jacobian=jac)
    rows = out.partable.index[out.partable["op"].isin(["==", "<", ">"])]
    slack = out.partable.loc[rows, "est"].copy()
    out.pieces.info, out.pieces.scaled = info, scaled
    out.information, out.scaled_test, out._vcov = info, scaled, info.vcov
    out.partable = out._fill_partable(out.partable)
    out.partable.loc[rows, "est"], out.partable.loc[rows, "se"] = slack, 0.0
    return out
