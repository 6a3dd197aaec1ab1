"""lavaan's defaults of ``se``, ``test`` and ``information`` for an estimator and a missing-data method
(``lav_options_set`` in lavaan 0.6.14)."""

from __future__ import annotations

from survey.errors import SurveyInputError
from survey.sem.inference.adjusted import check_test, normalize_test


def resolve_se(est: str, kind: str, se: str) -> str:
    """lavaan's ``se`` for the estimator: default standard (ML), robust.huber.white (MLR), robust.sem (MLM);
    "robust" is robust.sem with complete data and robust.huber.white with missing data."""
    if se in ("default", "bootstrap"):
        return {"ML": "standard", "MLR": "robust.huber.white", "MLM": "robust.sem"}[est]
    if se == "robust":
        return "robust.sem" if kind == "listwise" else "robust.huber.white"
    if se == "robust.sem" and kind != "listwise":
        raise SurveyInputError(
            "se='robust.sem' needs complete data (lavaan); use se='robust.huber.white'", field="se"
        )
    return se


def resolve_test(test: str, est: str, kind: str) -> tuple[str, str | None]:
    """lavaan's ``test=`` for the estimator: (the test of the fit measures under ML, a second test). With
    ML as asked (complete data); MLM and MLR keep their own test for the fit measures (lavaan 0.6.14), a
    second test under MLM (scaled.shifted, mean.var.adjusted, Browne's) is reported beside it."""
    test = normalize_test(test)
    check_test(test, est, kind)
    if est == "MLM" and test not in ("standard", "satorra.bentler"):
        return "standard", test
    if est == "MLR" and test not in ("standard", "yuan.bentler.mplus"):
        return "standard", test
    return ("standard" if est != "ML" else test), None


def default_information(est: str, kind: str, se_kind: str, information: str = "default") -> str:
    """lavaan's ``information``: the user's choice, else observed under MLR, missing data or
    se="robust.huber.white" (lav_options), expected otherwise."""
    if information in ("expected", "observed"):
        return information
    robust_hw = est == "MLR" or se_kind == "robust.huber.white"
    return "expected" if kind == "listwise" and not robust_hw else "observed"
