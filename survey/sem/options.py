"""The options every continuous fit checks before any data are read (lavaan ``lav_options_set``): the
estimator (ML, MLR, MLM and lavaan's aliases MLF / MLMV / MLMVS, which run as ML with their own se and test),
the missing-data treatment, se; used by :mod:`survey.sem.engine` and :mod:`survey.sem.prepared`.
"""

from __future__ import annotations

from survey.errors import SurveyInputError
from survey.sem.data.blocks import MISSING
from survey.sem.inference.adjusted import normalize_test

ALIASES = {"MLF": ("first.order", "standard"), "MLMV": ("robust.sem", "scaled.shifted"),
           "MLMVS": ("robust.sem", "mean.var.adjusted")}  # lavaan: estimator -> (se, test) under ML
ESTIMATORS = ("ML", "MLR", "MLM")  # also survey.sem.invariance's (its LR tests know these three)
ALL_ESTIMATORS = (*ESTIMATORS, *ALIASES)
SE_OPTIONS = (
    "default",
    "standard",
    "robust",
    "robust.huber.white",
    "robust.sem",
    "first.order",
    "none",
    "bootstrap",
)


def check_options(
    estimator: str, missing: str, se: str = "default", group: str | None = None, group_equal=()
) -> tuple[str, str]:
    """The options every fit checks (estimator, missing-data treatment, se; group_equal without groups is
    ignored, as lavaan, with a warning from :func:`fit_blocks`):
    (estimator, lavaan's missing kind), or a one-line :class:`SurveyInputError`."""
    if str(se).lower() not in SE_OPTIONS:
        raise SurveyInputError(
            f"se={se!r} is not available yet (available: {', '.join(SE_OPTIONS)})", field="se"
        )
    est = str(estimator).upper()
    if est not in ALL_ESTIMATORS:
        raise SurveyInputError(
            f"estimator is not available yet (available: {', '.join(ALL_ESTIMATORS)})",
            value=str(estimator),
            field="estimator",
        )
    kind = MISSING.get(str(missing).lower())
    if kind is None:
        raise SurveyInputError(
            "missing is not available yet (available: listwise, fiml, ml.x, two.stage, robust.two.stage)",
            value=str(missing),
            field="missing",
        )
    if est in ("MLM", "MLMV", "MLMVS") and kind != "listwise":
        raise SurveyInputError(
            f'missing="ml" is not allowed for estimator {est} (lavaan: {est} needs complete data; use MLR)',
            value=str(missing),
            field="missing",
        )
    return est, kind


def resolve_alias(est: str, se: str, test: str, information: str = "default") -> tuple[str, str, str]:
    """lavaan's estimator aliases as (estimator, se, test) under ML (``lav_options_set``): MLF = ML with
    standard errors from the first-order (cross-product) information, MLMV = ML + se "robust.sem" + test
    "scaled.shifted", MLMVS = ML + "robust.sem" + "mean.var.adjusted"; an explicit ``se`` is kept (as
    lavaan), other estimators pass through unchanged."""
    alias = ALIASES.get(est)
    if alias is None:
        return est, se, test
    se, test = str(se).lower(), normalize_test(test)
    if est == "MLF":
        if information not in ("default", None):
            raise SurveyInputError("information= is set by estimator MLF (lavaan: first.order)",
                                   field="information", value=str(information))
        if se not in ("default", "standard", "first.order", "none", "bootstrap"):
            raise SurveyInputError('information must be either "expected" or "observed" if robust standard '
                                   "errors are requested (lavaan; estimator MLF uses first.order)",
                                   field="se", value=se)
        return "ML", ("first.order" if se in ("default", "standard") else se), test
    if test in ("satorra.bentler", "yuan.bentler", "yuan.bentler.mplus", "scaled.shifted",
                "mean.var.adjusted") and test != alias[1]:  # lavaan: the alias' test, then this one
        return "ML", (alias[0] if se == "default" else se), [alias[1], test]
    if test.startswith("browne.residual"):  # Browne's residual test beside the alias' own (lavaan's list)
        return "ML", (alias[0] if se == "default" else se), [alias[1], test]
    if test not in ("standard", alias[1]):
        raise SurveyInputError(f"test={test!r} beside estimator {est}'s own {alias[1]} test is not available "
                               f"yet (available: estimator ML with test={test!r})", field="test", value=test)
    return "ML", (alias[0] if se == "default" else se), alias[1]


def first_order_information(est: str, se: str, test) -> str:
    """lavaan's ``information = "first.order"`` under ML (``lav_options_set``): standard errors from the
    first-order (cross-product) information B0 = 1/N sum_i s_i s_i', i.e. se="first.order" (lavaan reports
    se "standard", information "first.order"); returns the se to use. lavaan refuses it beside robust
    standard errors (MLR, MLM, MLMV, MLMVS, se="robust*") and robust tests, with the reasons below."""
    est, kind = str(est).upper(), str(se).lower()
    robust_est = est in ("MLR", "MLM", "MLMV", "MLMVS")
    if kind.startswith("robust") or (kind == "default" and robust_est):
        raise SurveyInputError('information must be either "expected" or "observed" if robust standard '
                               "errors are requested (lavaan 0.6.14)", field="information",
                               value="first.order")
    tests = [test] if isinstance(test, str) else list(test or ())
    if robust_est or any(normalize_test(t) not in ("standard", "none", "default") for t in tests):
        raise SurveyInputError('information must be either "expected" or "observed" if robust test '
                               "statistics are requested (lavaan 0.6.14)", field="information",
                               value="first.order")
    return "first.order" if kind in ("default", "standard") else kind
