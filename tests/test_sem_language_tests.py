"""lavaan's ``test=`` and ``information=`` options against lavaan 0.6.14 (tests/fixtures/language/
make_test_option.R -> test_option.json): satorra.bentler, yuan.bentler, yuan.bentler.mplus, scaled.shifted,
mean.var.adjusted, browne.residual.adf / .nt with estimator ML (one and two groups, fixed.x covariates),
MLM keeping its own test for the fit measures with the asked one beside it, information = expected /
observed. Each case equals lavaan (estimates, SEs,
std.all 1e-3; every fitMeasures() entry 1e-3, logl/AIC/BIC 1e-5; lavInspect(fit, "test") statistics,
scaling factors, shift parameters and traces 1e-3) or is refused with a one-line error naming what is
available."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "test_option.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
TEST_KEYS = ("stat", "df", "scaling.factor", "shift.parameter", "trace.UGamma", "trace.UGamma2")


def _run(name: str):
    call = REF["cases"][name]["call"]
    fun, model, data, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    opts = {key.replace(".", "_"): value for key, value in re.findall(r'([\w.]+) = "([^"]*)"', rest)}
    if opts.get("missing") == "ml":
        opts["missing"] = "fiml"
    return {"sem": survey.sem, "cfa": survey.cfa}[fun](REF["models"][model], DATA[data], **opts)


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_option_equals_lavaan(name):
    case = REF["cases"][name]
    res = _run(name)
    fm = all_fit_measures(res)
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
    ours = res.estimates()
    ref = pd.DataFrame(case["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref and ref["group"].max() > 1 else [])
    both = ours.merge(ref, on=keys, suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)
    tests = res.tests()
    lavaan_tests = [k for k in case["test"] if k != "standard"]
    assert tests["standard"]["stat"] == pytest.approx(case["test"]["standard"]["stat"], abs=1e-3)
    assert [k for k in tests if k != "standard"] == lavaan_tests  # MLM: its own test, then the second
    for key in lavaan_tests:
        for item in TEST_KEYS:
            want = case["test"][key].get(item)
            if isinstance(want, (int, float)):
                assert tests[key][item] == pytest.approx(want, abs=1e-3), (key, item)


@pytest.mark.parametrize("test", ["satorra.bentler", "scaled.shifted", "mean.var.adjusted"])
def test_fiml_satorra_bentler_style_tests_go_listwise_as_lavaan(test):
    """lavaan 0.6.14 drops to listwise deletion for these with missing="ml" (with a warning); so does survey
    (against lavaan: tests/test_combos.py)."""
    res = survey.cfa(REF["models"]["hs"], DATA["hsmar"], missing="fiml", test=test)
    assert res.missing == "listwise" and "missing_listwise" in [w.code for w in res.warnings]


def test_unknown_test_lists_the_available_ones():
    with pytest.raises(SurveyInputError, match="scaled.shifted") as info:
        survey.cfa(REF["models"]["hs"], DATA["hs"], test="satorra")
    assert info.value.field == "test"


def test_scaled_shifted_under_explicit_constraints_uses_the_augmented_information():
    """``2*a == 2*b`` is an explicit (non-merged) constraint: the shifted test built on the augmented E^-1
    must equal the one of the same model written with a shared label (one parameter)."""
    model = "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
    tied = survey.cfa(model + "2*a == 2*b", DATA["hs"], test="scaled.shifted")
    assert (tied.partable["op"] == "==").any()
    shared = survey.cfa(model.replace("b*x3", "a*x3"), DATA["hs"], test="scaled.shifted")
    for key in ("stat", "df", "scaling.factor", "shift.parameter"):
        assert tied.tests()["scaled.shifted"][key] == pytest.approx(shared.tests()["scaled.shifted"][key],
                                                                    abs=1e-4), key


def test_bollen_stine_test_is_the_bootstrap_p_value_beside_standard_errors():
    """lavaan's test = "bollen.stine": the Bollen-Stine bootstrap p-value (Bollen & Stine 1992) of the
    model's statistic; the standard errors stay the estimator's; printed as lavaan's second block."""
    from survey.sem.bootstrap import bootstrap

    model, hs = REF["models"]["hs"], DATA["hs"]
    res = survey.cfa(model, hs, test="bollen.stine", bootstrap=40, seed=7)
    plain = survey.cfa(model, hs)
    assert (res.estimates()["se"] - plain.estimates()["se"]).abs().max() < 1e-12
    want = bootstrap(plain, 40, seed=7, bollen_stine=True, workers=1, progress=False).bollen_stine_pvalue
    got = res.tests()["bollen.stine"]
    assert got["pvalue"] == pytest.approx(want, abs=1e-12) and got["stat"] == pytest.approx(85.3055, abs=1e-3)
    assert got["replications"] == 40 and 0.0 <= got["pvalue"] <= 0.05  # the model misfits (chisq 85, df 24)
    text = res.summary(fit_measures=False).splitlines()
    assert any(line.startswith("  P-value (Bollen-Stine bootstrap)") for line in text)
    assert "  Standard errors                             Standard" in text
    mlr = survey.cfa(model, hs, test="bollen.stine", estimator="MLR", bootstrap=40, seed=7)  # lavaan fits it:
    assert mlr.tests()["bollen.stine"]["pvalue"] == pytest.approx(want, abs=1e-12)  # ML replicates, same T
    assert mlr.fit_measures()["chisq.scaled"] == pytest.approx(81.9556, abs=1e-3)  # h1 information (lavaan)


def test_bollen_stine_test_with_bootstrap_standard_errors():
    """lavaan's se = "bootstrap" with test = "bollen.stine": ONE run of Bollen-Stine transformed resamples
    gives both the standard errors and the test's p-value (lav_model_nvcov_bootstrap: boot.type
    "bollen.stine", FUN "coeftest"; lavaan's own resamples in test_bootstrap_combos.py); it equals that run
    on the same seed, and differs from the ordinary bootstrap's SEs."""
    from survey.sem.bootstrap import bootstrap

    model, hs = REF["models"]["hs"], DATA["hs"]
    both = survey.cfa(model, hs, test="bollen.stine", se="bootstrap", bootstrap=30, seed=11)
    boot = bootstrap(survey.cfa(model, hs), 30, seed=11, bollen_stine=True, workers=1, progress=False)
    names = list(both.vcov().index)
    assert np.abs(np.sqrt(np.diag(both.vcov())) - boot.ok[names].std(ddof=0).to_numpy()).max() < 1e-12
    ordinary = survey.cfa(model, hs, se="bootstrap", bootstrap=30, seed=11)
    assert (both.estimates()["se"] - ordinary.estimates()["se"]).abs().max() > 1e-3
    assert both.tests()["bollen.stine"]["pvalue"] == pytest.approx(boot.bollen_stine_pvalue, abs=1e-12)


