"""The estimator / ``se`` / ``test`` / ``information`` options of an ordinal fit, resolved as lavaan 0.6.14.

lavaan (``lav_options_set``) maps each estimator for categorical data to an objective weight, a
standard-error type and a test:

=========  ======  ==========  ===================
estimator  weight  se          test
=========  ======  ==========  ===================
WLSMV      DWLS    robust.sem  scaled.shifted
WLSMVS     DWLS    robust.sem  mean.var.adjusted
WLSM       DWLS    robust.sem  satorra.bentler
ULSMV      ULS     robust.sem  scaled.shifted
ULSMVS     ULS     robust.sem  mean.var.adjusted
ULSM       ULS     robust.sem  satorra.bentler
DWLS       DWLS    standard    standard
ULS        ULS     standard    standard
WLS        WLS     standard    standard
=========  ======  ==========  ===================

``se = "standard" | "robust.sem" (alias "robust") | "none"`` overrides the estimator's; a ``test=`` other
than "standard" is added after the estimator's own robust test (lavaan keeps both; ``fitMeasures()``'s
``.scaled`` columns use the first robust one); "browne.residual.adf" is Browne's (1984) residual-based
statistic (:func:`survey.sem.ordinal.test.browne_adf`). lavaan's WLS estimators only have expected
information: ``information = "observed"`` (and ``se = "first.order"`` without a robust test) give
lavaan's warning "information will be set to "expected"" and the expected-information fit; the other
combinations are refused with lavaan's own message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from survey.errors import SurveyInputError

# estimator -> (objective's weight, se, robust test or "standard")
ESTIMATORS = {
    "WLSMV": ("DWLS", "robust.sem", "scaled.shifted"),
    "WLSMVS": ("DWLS", "robust.sem", "mean.var.adjusted"),
    "WLSM": ("DWLS", "robust.sem", "satorra.bentler"),
    "ULSMV": ("ULS", "robust.sem", "scaled.shifted"),
    "ULSMVS": ("ULS", "robust.sem", "mean.var.adjusted"),
    "ULSM": ("ULS", "robust.sem", "satorra.bentler"),
    "DWLS": ("DWLS", "standard", "standard"),
    "ULS": ("ULS", "standard", "standard"),
    "WLS": ("WLS", "standard", "standard"),
}
ROBUST_TESTS = ("scaled.shifted", "satorra.bentler", "mean.var.adjusted")
BROWNE = "browne.residual.adf"  # Browne's residual-based ADF test (no .scaled fit measures in lavaan)
SE = ("default", "standard", "robust", "robust.sem", "none", "first.order")


@dataclass
class Choice:
    """What an ordinal fit computes: the weight, the SE type and the robust tests after "standard"."""

    estimator: str
    weight: str
    se: str  # "standard" | "robust.sem" | "none"
    tests: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)


def resolve(estimator: str, se: str = "default", test: str = "default",
            information: str | None = None) -> Choice:
    """lavaan's options for ``estimator`` with the user's ``se``, ``test`` and ``information``."""
    est = str(estimator).upper()
    if est not in ESTIMATORS:
        raise SurveyInputError(f"estimator={estimator!r} is not available for ordered items "
                               f"(available: {', '.join(ESTIMATORS)})", field="estimator")
    weight, se_default, own_test = ESTIMATORS[est]
    tst = "standard" if test in (None, "default", "none") else str(test).lower()
    if tst not in ("standard", BROWNE) + ROBUST_TESTS:
        why = ""
        if tst in ("yuan.bentler", "yuan.bentler.mplus", "scaled.shifted.yb"):
            why = f'information = "first.order" not available for estimator {weight}'
        elif tst == "browne.residual.nt":
            why = "normal theory version not available in the categorical setting"
        if why:
            raise SurveyInputError(f"test={test!r} with ordered items: lavaan 0.6.14 refuses it ({why})",
                                   field="test", value=str(test))
        raise SurveyInputError(f"test={test!r} is not available with ordered items yet (available: standard, "
                               f"{', '.join(ROBUST_TESTS)}, {BROWNE})", field="test", value=str(test))
    tests = tuple(t for t in dict.fromkeys([own_test, tst]) if t != "standard")
    robust_test = any(t in ROBUST_TESTS for t in tests)
    se_name = str(se).lower()
    if se_name not in SE:
        raise SurveyInputError(f"se={se!r} with ordered items: lavaan 0.6.14 refuses it (invalid value in "
                               f"se= argument for estimator {est}; available: standard, robust.sem, none)",
                               field="se", value=str(se))
    warnings: list[str] = []
    info = "expected" if information is None else str(information).lower()
    if info not in ("expected", "observed", "first.order"):
        raise SurveyInputError(f"information={information!r} is not one of expected, observed, first.order",
                               field="information", value=str(information))
    if se_name == "first.order":
        if robust_test:
            raise SurveyInputError(f"se='first.order' with estimator {est}: lavaan 0.6.14 refuses it "
                                   '(information must be either "expected" or "observed" if robust test '
                                   "statistics are requested)", field="se", value=str(se))
        se_name, info = "standard", "first.order"
    se_final = {"default": se_default, "robust": "robust.sem"}.get(se_name, se_name)
    if info == "first.order" and se_final == "robust.sem":
        raise SurveyInputError(f"information='first.order' with estimator {est}: lavaan 0.6.14 refuses it "
                               '(information must be either "expected" or "observed" if robust standard '
                               "errors are requested)", field="information", value=str(information))
    if info == "first.order" and robust_test:
        raise SurveyInputError(f"information='first.order' with estimator {est}: lavaan 0.6.14 refuses it "
                               '(information must be either "expected" or "observed" if robust test '
                               "statistics are requested)", field="information", value=str(information))
    if info != "expected":
        warnings.append(f'information will be set to "expected" for estimator = "{weight}" (lavaan\'s WLS '
                        "estimators have expected information only)")
    return Choice(est, weight, se_final, tests, warnings)
