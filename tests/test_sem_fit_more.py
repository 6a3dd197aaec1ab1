"""Every fitMeasures() entry against lavaan 0.6.14 on a CFA, an SEM with :=, a two-group CFA, a model with
a fixed.x covariate, a CFA with a mean structure, and MLR fits (scaled/robust forms).
Fixtures: tests/fixtures/language_fit/make_fit_more.R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.results.fit_adapter import all_fit_measures
from survey.sem.results.fit_more import GroupMoments, information_indices, residual_rms, rmsea_notclose_pvalue

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "language_fit" / "fit_more.json").read_text())["cases"]
NEW = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean", "srmr_mplus",
       "srmr_mplus_nomean", "gfi", "agfi", "pgfi", "mfi", "ecvi", "cn_05", "cn_01", "rmsea.notclose.pvalue",
       "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni", "rmsea.ci.level", "rmsea.close.h0", "rmsea.notclose.h0")
SCALED = ("nnfi.scaled", "rfi.scaled", "nfi.scaled", "pnfi.scaled", "ifi.scaled", "rni.scaled",
          "rmsea.notclose.pvalue.scaled", "rmsea.notclose.pvalue.robust")


def fitted(name: str):
    case = REFERENCE[name]
    data = pd.read_csv(FIXTURES / "sem" / f"{case['data']}.csv")
    options = {"estimator": case.get("estimator", "ML")}
    if case.get("group"):
        options["group"] = case["group"]
    if case.get("meanstructure"):
        options["meanstructure"] = True
    return fit(case["syntax"], data, **options)


@pytest.fixture(scope="module")
def results():
    return {name: all_fit_measures(fitted(name)) for name in REFERENCE}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_every_new_measure_equals_lavaan(results, name):
    ours, ref = results[name], REFERENCE[name]["fit_measures"]
    names = NEW + (SCALED if "chisq.scaled" in ref else ())
    for key in names:
        want = ref[key]
        assert key in ours, key
        if want is None:
            assert not math.isfinite(ours[key]), key
        else:
            assert ours[key] == pytest.approx(want, abs=1e-3, rel=1e-6), key


@pytest.mark.parametrize("name", list(REFERENCE))
def test_all_of_lavaans_measures_present_in_lavaans_order(results, name):
    ref = list(REFERENCE[name]["fit_measures"])
    ours = [k for k in results[name] if k in ref]
    assert ours == ref


def test_measures_on_three_models_cover_fitmeasures_completely(results):
    for name in ("cfa", "sem", "multigroup"):
        ref = REFERENCE[name]["fit_measures"]
        for key, want in ref.items():
            if want is None:
                continue
            tol = 1e-5 if key in ("logl", "unrestricted.logl", "aic", "bic", "bic2") else 1e-3
            assert results[name][key] == pytest.approx(want, abs=tol), (name, key)


def test_perfect_fit_has_zero_residuals_and_undefined_hoelter():
    s = np.array([[2.0, 0.5], [0.5, 1.0]])
    g = GroupMoments(s=s, sigma=s.copy(), n=100, mean=np.zeros(2), mu=np.zeros(2))
    assert all(v == 0 for v in residual_rms([g]).values())
    assert math.isnan(information_indices(0.0, 0, 100, 5)["cn_05"])


def test_notclose_pvalue_is_a_lower_tail():
    # a huge statistic cannot be "not poor": p -> 1; a tiny one -> 0
    assert rmsea_notclose_pvalue(1e4, 10, 200) == pytest.approx(1.0)
    assert rmsea_notclose_pvalue(0.1, 10, 2000) < 1e-6


@pytest.mark.parametrize(("chisq", "df", "want"), [
    # lavaan 0.6.14: lavaan:::lav_fit_cn(X2, df, N = 100) gives Inf, NA, NA, 1 for these four inputs
    (np.float64(0.0), 3, math.inf),
    (np.float64(0.0), 0, math.nan),
    (np.float64(1e-17), 0, math.nan),
    (np.float64(1e-9), 0, 1.0),
])
def test_hoelter_at_a_zero_statistic_is_lavaans_without_a_warning(chisq, df, want):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = information_indices(chisq, df, 100, 5)
    for key in ("cn_05", "cn_01"):
        if math.isnan(want):
            assert math.isnan(out[key])
        else:
            assert out[key] == want


def test_hoelter_of_a_positive_statistic_is_the_critical_value_over_t_per_n():
    # lavaan 0.6.14: lavaan:::lav_fit_cn(X2 = 12.5, df = 8, N = 300, alpha = 0.05 / 0.01)
    out = information_indices(12.5, 8, 300, 5)
    assert out["cn_05"] == pytest.approx(373.1755133, abs=1e-3)
    assert out["cn_01"] == pytest.approx(483.1656407, abs=1e-3)
