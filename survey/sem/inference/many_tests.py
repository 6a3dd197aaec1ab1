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
    if "bollen.stine" in names and len(names) > 1:
        raise SurveyInputError("test='bollen.stine' is not available beside other tests yet (available: "
                               "bollen.stine alone)", field="test", value="bollen.stine")
    if not names:
        return "standard", []
    return names[0], names[1:]


def extra_tests(names: list[str], est: str, kind: str, mg, blocks, theta: np.ndarray, df: float,
                stat: float, info_kind: str) -> dict[str, dict]:
    """lavaan's entries of the further tests ``names``; ``info_kind``: the fit's information ("expected" or
    "observed"), that of a yuan.bentler.mplus test under ML with complete data (with missing data, and for
    every test under MLR, lavaan's observed.information = "h1")."""
    from survey.sem.inference import information as infmod
    from survey.sem.inference.observed_sem import h1_structured_information
    from survey.sem.inference.vcov import symmetric_inverse

    h1 = est == "MLR" or kind != "listwise"
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


def refuse_with_design(design, test: str, more: list[str]) -> None:
    """Several tests with sampling weights or clusters: not reproduced yet."""
    if design is not None and more:
        raise SurveyInputError("several tests with sampling_weights= or cluster= are not available yet "
                               "(available: one test)", field="test", value=", ".join([test, *more]))


def add_extra_tests(pieces, partable, names: list[str], est: str, kind: str, blocks, stat: float,
                    info_kind: str) -> None:
    """The further tests ``names`` into ``pieces.extra_tests`` (:func:`extra_tests`); refused with
    explicit constraints (their augmented information is not carried here)."""
    if partable["op"].isin(["==", "<", ">"]).any():
        raise SurveyInputError("several tests with explicit constraints are not available yet", field="test")
    found = extra_tests(names, est, kind, pieces.mg, blocks, pieces.theta, pieces.df, stat, info_kind)
    pieces.extra_tests = {**getattr(pieces, "extra_tests", {}), **found}
