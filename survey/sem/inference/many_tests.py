"""Several tests in one ``test=`` (lavaan 0.6.14 ``test = c(...)``): the first non-standard one is the fit's
scaled test (its fit measures), each further one is reported beside it in ``lavInspect(fit, "test")``
order. Under MLR every test after its own yuan.bentler.mplus is built on lavaan's observed.information =
"h1" (:func:`survey.sem.inference.adjusted.second_test`); a further yuan.bentler.mplus under ML takes the
fit's information and the first-order information B0 (Yuan & Bentler 2000; lavaan
``lav_test_yuan_bentler_mplus``)."""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.inference.adjusted import as_dict, check_test, normalize_test, requested_test, second_test


def split_tests(test) -> tuple[str, list[str]]:
    """(the fit's test, the further tests) of ``test`` (one name or a list of names, lavaan's spelling)."""
    if not isinstance(test, (list, tuple)):
        return test, []
    names = [n for n in dict.fromkeys(normalize_test(t) for t in test) if n != "standard"]
    if "bollen.stine" in names:  # survey.sem.api takes it out first (without_bollen_stine)
        raise SurveyInputError("test='bollen.stine' needs the bootstrap (survey.sem.fit)", field="test",
                               value="bollen.stine")
    if not names:
        return "standard", []
    return names[0], names[1:]


def without_bollen_stine(test) -> tuple[bool, object]:
    """(whether ``test`` asks for lavaan's Bollen-Stine bootstrap p-value, the other tests): one name or a
    list (lavaan 0.6.14 fits ``test = c("satorra.bentler", "bollen.stine")``: the Bollen-Stine p beside the
    scaled test, which stays the fit's; tests/fixtures/engine/bs_lists.json)."""
    if not isinstance(test, (list, tuple)):
        return test == "bollen.stine", ("standard" if test == "bollen.stine" else test)
    names = [normalize_test(t) for t in test]
    if "bollen.stine" not in names:
        return False, test
    rest = [n for n in names if n != "bollen.stine"]
    return True, (rest if len(rest) > 1 else rest[0] if rest else "standard")


def extra_tests(names: list[str], est: str, kind: str, mg, blocks, theta: np.ndarray, df: float,
                stat: float, info_kind: str) -> dict[str, dict]:
    """lavaan's entries of the further tests ``names``; ``info_kind``: the fit's information ("expected" or
    "observed"), that of a yuan.bentler.mplus test under ML with complete data (with missing data, and for
    every test under MLR, lavaan's observed.information = "h1")."""
    from survey.sem.inference import information as infmod
    from survey.sem.inference.observed_sem import h1_structured_information
    from survey.sem.inference.vcov import symmetric_inverse

    clustered = any(getattr(b, "cluster", None) is not None for b in blocks)  # lavaan: h1 for all tests
    h1 = est == "MLR" or kind != "listwise" or clustered
    out = {}
    for name in names:
        if name == "yuan.bentler.mplus" and est == "MLR":
            continue  # MLR's own test
        check_test(name, est, kind)
        if name != "yuan.bentler.mplus":
            out[name] = second_test(name, mg, blocks, theta, df, stat, observed_h1=h1)
            continue
        if h1:
            a = h1_structured_information(mg, blocks, theta)
        else:
            a = infmod.information(info_kind, mg, blocks, theta)
        test = requested_test(name, stat, df, mg, blocks, theta, infmod.deltas(mg, theta),
                              symmetric_inverse(a), infmod.first_order(mg, blocks, theta))
        out[name] = as_dict(test)
    return out


def tests_with_design(design, estimator: str, test: str, more: list[str]) -> tuple[list[str], list]:
    """(the further tests kept, warnings) with sampling weights or clusters. lavaan 0.6.14 overrides
    ``test=`` with the estimator's own test for clustered MLR / MLM (and weighted clustered fits): the
    further tests are dropped there, with a warning (:func:`survey.sem.inference.cluster.cluster_test`);
    otherwise they are all reported, on lavaan's observed.information = "h1" (its warning)."""
    from survey.errors import SurveyWarning

    if design is None or not more or design.cluster is None:
        return more, []
    if str(estimator).upper() == "ML" and design.weights is None:
        return more, []
    return [], [SurveyWarning("test_ignored", f"test={', '.join(more)!r} (beside {test!r}) is ignored with "
                              f"cluster= and estimator {str(estimator).upper()}: its own test is reported "
                              "(as lavaan)", "sem")]


def add_extra_tests(pieces, partable, names: list[str], est: str, kind: str, blocks, stat: float,
                    info_kind: str) -> None:
    """The further tests ``names`` into ``pieces.extra_tests`` (:func:`extra_tests`); with explicit
    constraints :func:`survey.sem.constrained.fit_constrained` recomputes each at the constrained estimate
    (:func:`survey.sem.constrained_tests.second_under_constraints`)."""
    found = extra_tests(names, est, kind, pieces.mg, blocks, pieces.theta, pieces.df, stat, info_kind)
    pieces.extra_tests = {**getattr(pieces, "extra_tests", {}), **found}
