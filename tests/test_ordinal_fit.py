"""Single-group ordinal fits against lavaan 0.6.14 (tests/fixtures/ordinal/make_reference.R): estimates,
robust SEs, std.all, the scaled(-shifted) tests and every fit measure both report, for WLSMV (listwise
and pairwise), the theta parameterization, std.lv, WLSM, ULSMV and WLS on a real 6-category inventory
with missing values (psych's bfi) and WLSMV on 7-point items simulated like the study."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.ordinal.fit import fit_ordinal

HERE = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((HERE / "reference.json").read_text())
BFI = pd.read_csv(HERE / "bfi.csv")
STUDY = pd.read_csv(HERE / "study.csv")
FRAMES = {"bfi": BFI, "study": STUDY, "bfi_mixed": pd.read_csv(HERE / "bfi_mixed.csv")}
MODELS = REF["models"]

CASES = {
    "bfi_wlsmv": ("bfi", {}),
    "bfi_pairwise_wlsmv": ("bfi", {"missing": "pairwise"}),
    "bfi_theta": ("bfi", {"parameterization": "theta"}),
    "bfi_stdlv": ("bfi", {"std_lv": True}),
    "bfi_wlsm": ("bfi", {"estimator": "WLSM"}),
    "bfi_ulsmv": ("bfi", {"estimator": "ULSMV"}),
    "bfi_wls": ("bfi", {"estimator": "WLS"}),
    "study_wlsmv": ("study", {}),
    # items with 3, 2 and 6 categories (A1, C5 collapsed), pairwise present
    "bfi_mixed_pairwise_wlsmv": ("bfi_mixed", {"missing": "pairwise"}),
}
# lavaan measures this module does not compute (other families of fit indices)
NOT_COMPUTED: set[str] = set()  # every fitMeasures() key lavaan reports is computed


@cache
def fitted(case: str):
    data, options = CASES[case]
    return fit_ordinal(MODELS[data.removesuffix("_mixed")], FRAMES[data], **options)


def _merged(case: str) -> pd.DataFrame:
    ref = pd.DataFrame(REF["cases"][case]["estimates"]).set_index(["lhs", "op", "rhs"])
    mine = fitted(case).estimates().set_index(["lhs", "op", "rhs"])
    assert set(ref.index) == set(mine.index)  # the same rows as parameterEstimates(remove.nonfree = FALSE)
    return mine.join(ref.add_suffix("_r"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimates_ses_and_std_all_equal_lavaan(case):
    m = _merged(case)
    assert fitted(case).converged
    assert fitted(case).nobs == REF["cases"][case]["nobs"]
    assert np.abs(m["est"] - m["est_r"]).max() < 1e-4
    assert np.abs(m["se"] - m["se_r"]).max() < 1e-4
    assert np.abs(m["std.all"] - m["std.all_r"]).max() < 1e-4
    assert np.abs(m["std.lv"] - m["std.lv_r"]).max() < 1e-4
    n_thresholds = (m.index.get_level_values("op") == "|").sum()
    assert n_thresholds == {"bfi": 50, "bfi_mixed": 43, "study": 27 * 6}[CASES[case][0]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_measures_equal_lavaan(case):
    ref = REF["cases"][case]["fit_measures"]
    mine = fitted(case).fit_measures()
    compared = 0
    for name, value in ref.items():
        if name in NOT_COMPUTED:
            assert name not in mine
            continue
        assert mine[name] == pytest.approx(value, abs=1e-6, rel=1e-6), name
        compared += 1
    assert compared >= (14 if case == "bfi_wls" else 40)


@pytest.mark.parametrize("case", ["bfi_wlsmv", "bfi_ulsmv", "bfi_pairwise_wlsmv", "study_wlsmv"])
def test_scaled_shifted_shift_and_traces(case):
    test = fitted(case).test_list[1]
    assert test.name == "scaled.shifted"
    assert test.shift == pytest.approx(REF["cases"][case]["shift"], abs=1e-5)
    assert test.trace_ugamma == pytest.approx(REF["cases"][case]["trace_ugamma"], rel=1e-7)
    assert test.df == REF["cases"][case]["fit_measures"]["df"]


def test_mean_adjusted_trace():
    test = fitted("bfi_wlsm").test_list[1]
    assert test.name == "satorra.bentler"
    assert test.trace_ugamma == pytest.approx(REF["cases"]["bfi_wlsm"]["trace_ugamma"], rel=1e-7)


def test_delta_and_theta_are_the_same_model():
    delta, theta = fitted("bfi_wlsmv"), fitted("bfi_theta")
    assert theta.fit_measures()["chisq"] == pytest.approx(delta.fit_measures()["chisq"], rel=1e-7)
    m = theta.estimates()
    loads = m[(m["op"] == "=~") & (m["rhs"] == "A2")]["est"].iloc[0]
    assert abs(loads) > abs(delta.estimates().query("op == '=~' and rhs == 'A2'")["est"].iloc[0])
    scale = m[m["op"] == "~*~"]["est"]
    assert (scale < 1).all()  # Delta_i = 1 / sd(y*_i), residual variances fixed to 1


def test_bad_options_and_data_are_named():
    with pytest.raises(SurveyInputError, match="estimator"):
        fit_ordinal(MODELS["bfi"], BFI, estimator="MLR")
    with pytest.raises(SurveyInputError, match="missing"):
        fit_ordinal(MODELS["bfi"], BFI, missing="fiml")
    with pytest.raises(SurveyInputError, match="parameterization"):
        fit_ordinal(MODELS["bfi"], BFI, parameterization="gamma")
    with pytest.raises(SurveyInputError, match="none of the model's observed variables is ordered"):
        fit_ordinal(MODELS["bfi"], BFI, ordered=["age"])
    with pytest.raises(SurveyInputError, match="not available in the categorical setting"):
        fit_ordinal(MODELS["bfi"], BFI, ordered=["A2"], missing="ml")  # lavaan's reason
    with pytest.raises(SurveyInputError, match="Z9"):
        fit_ordinal("f =~ A1 + A2 + Z9", BFI)


def test_solution_warnings_name_heywood_cases_and_non_pd_polychorics():
    from survey.sem.ordinal.fit import SampleStatistics, solution_warnings

    fit = fitted("bfi_wlsmv")
    assert fit.warnings == []
    table = fit.estimates().copy()
    table.loc[(table["lhs"] == "A3") & (table["op"] == "~~"), "est"] = -0.02
    bad = np.array([[1, 0.9, 0.0], [0.9, 1, 0.9], [0.0, 0.9, 1]])  # eigenvalue 1 - 0.9 sqrt(2) < 0
    sample = SampleStatistics(["a", "b", "c"], [], bad, np.eye(3), 10)
    msgs = solution_warnings(table, sample)
    assert msgs[0].startswith("the polychoric correlation matrix is not positive definite")
    assert msgs[1].startswith("negative variance of A3") and len(msgs) == 2
