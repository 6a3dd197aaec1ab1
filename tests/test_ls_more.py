"""The continuous least-squares estimators (survey.sem.ls_route) beyond one group without a mean structure,
against lavaan 0.6.14 (tests/fixtures/engine/ls_more.json, make_ls_more.R): several groups (also with
group.equal), meanstructure=TRUE, fixed.x=TRUE covariates; est / se / std.all within 1e-3 and every
fitMeasures() entry we report within 1e-3 (no logl / AIC / BIC, as lavaan)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "ls_more.json").read_text())
DATA = {"complete": pd.read_csv(HERE / "hs39.csv"), "pairwise": pd.read_csv(HERE / "hs39_mar.csv")}
CASES = {  # case -> (model, data, survey.fit keywords)
    **{f"hs_mg_{e.lower()}": ("hs", "complete", {"estimator": e, "group": "school"})
       for e in ("GLS", "ULS", "DWLS", "WLS")},
    **{f"hs_ms_{e.lower()}": ("hs", "complete", {"estimator": e, "meanstructure": True})
       for e in ("GLS", "ULS", "DWLS", "WLS")},
    **{f"mimic3_fixedx_{e.lower()}": ("mimic3", "complete", {"estimator": e, "fixed_x": True})
       for e in ("GLS", "ULS", "DWLS", "WLS")},
    **{f"hs_{t.replace('.', '_')}_{e.lower()}": ("hs", "complete", {"estimator": e, "test": t})
       for e in ("ULS", "DWLS") for t in ("satorra.bentler", "scaled.shifted", "mean.var.adjusted")},
    **{f"hs_robust_sem_{e.lower()}": ("hs", "complete", {"estimator": e, "se": "robust.sem"})
       for e in ("ULS", "DWLS", "WLS")},
    **{f"hs_observed_{e.lower()}": ("hs", "complete", {"estimator": e, "information": "observed"})
       for e in ("GLS", "ULS", "DWLS", "WLS")},
    **{f"hs_pairwise_{e.lower()}": ("hs", "pairwise", {"estimator": e, "missing": "pairwise"})
       for e in ("GLS", "ULS")},
    "hs_mg_loadings_uls": ("hs", "complete", {"estimator": "ULS", "group": "school",
                                              "group_equal": "loadings"}),
    "hs_mg_ms_gls": ("hs", "complete", {"estimator": "GLS", "group": "school", "meanstructure": True,
                                         "group_equal": ["loadings", "intercepts"]}),
}


def compare(res, ref) -> float:
    """Assert our fit equals lavaan's (module notes); returns the largest |difference| seen."""
    worst = 0.0
    fm, rf = res.fit_measures(), ref["fit_measures"]
    assert fm["df"] == rf["df"] and fm["npar"] == rf["npar"]
    for key in ("logl", "aic", "bic"):
        assert key not in fm
    for key in (k for k in fm if k in rf and rf[k] is None):  # lavaan's NA: ours NaN too
        assert np.isnan(fm[key]), key
    compared = [k for k in fm if k in rf and rf[k] is not None]
    assert {"chisq", "df", "cfi", "tli", "rmsea", "srmr", "baseline.chisq"} <= set(compared)
    for key in compared:
        diff = abs(float(fm[key]) - float(rf[key]))
        assert diff < 1e-3 or (np.isnan(fm[key]) and np.isnan(rf[key])), f"{key}: {fm[key]} vs {rf[key]}"
        worst = max(worst, diff if np.isfinite(diff) else 0.0)
    ours = res.estimates()
    if "group" not in ours:
        ours = ours.assign(group=1)
    theirs = pd.DataFrame(ref["estimates"])
    theirs = theirs[theirs["op"] != "=="]
    if "group" not in theirs:
        theirs = theirs.assign(group=1)
    merged = theirs.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""), how="left")
    assert merged["est"].notna().all(), merged[merged["est"].isna()]
    for col in ("est", "se", "std.all"):
        want, got = merged[f"{col}_r"].to_numpy(float), merged[col].to_numpy(float)
        ok = np.isfinite(want)
        diff = np.abs(got[ok] - want[ok])
        assert diff.max() < 1e-3, (col, merged.loc[ok, ["lhs", "op", "rhs", "group"]][diff >= 1e-3])
        worst = max(worst, float(diff.max()))
    return worst


@pytest.mark.parametrize("name", list(CASES))
def test_least_squares_equals_lavaan(name):
    model, data, kwargs = CASES[name]
    res = fit(REF["models"][model], DATA[data], **kwargs)
    assert res.converged
    compare(res, REF["cases"][name])
    assert "Estimate" in res.summary()


@pytest.mark.parametrize("kwargs", [{"group": "school"}, {"meanstructure": True}, {"fixed_x": True}])
def test_modindices_and_residuals_of_groups_given(kwargs):
    """Formerly refused; now as lavaan's (tests/test_ls_groups_modindices.py,
    tests/test_ls_groups_residuals.py)."""
    from survey.sem.results.ls_residuals import ls_residuals

    res = fit(REF["models"]["mimic3"], DATA["complete"], estimator="ULS", **kwargs)
    groups = ls_residuals(res, "raw")
    assert len(groups) == (2 if "group" in kwargs else 1)
    assert (groups[0].mean is not None) == ("fixed_x" not in kwargs)
    assert len(res.modindices()) > 10


@pytest.mark.parametrize("name", ["hs_satorra_bentler_uls", "hs_scaled_shifted_uls",
                                  "hs_mean_var_adjusted_uls", "hs_satorra_bentler_dwls",
                                  "hs_scaled_shifted_dwls", "hs_mean_var_adjusted_dwls"])
def test_scaled_tests_table_equals_lavaan(name):
    model, data, kwargs = CASES[name]
    ours = fit(REF["models"][model], DATA[data], **kwargs).tests()
    ref = REF["cases"][name]["test"]
    assert set(ours) == set(ref)
    method = kwargs["test"]
    keys = ["stat", "df", "pvalue", "trace.UGamma", "scaling.factor"]
    keys += ["trace.UGamma2", "shift.parameter"] if method == "scaled.shifted" else []
    keys += ["trace.UGamma2"] if method == "mean.var.adjusted" else []
    for key in keys:
        assert ours[method][key] == pytest.approx(ref[method][key], rel=1e-5, abs=1e-8), key


@pytest.mark.parametrize("estimator, kwargs, option, lavaan_refuses", [
    ("GLS", {"se": "robust.sem"}, "se", True),
    ("WLS", {"test": "satorra.bentler"}, "test", True),
    ("GLS", {"test": "scaled.shifted"}, "test", True),
])  # with groups / meanstructure / fixed.x: fitted (tests/test_ls_robust_groups.py)
def test_robust_refusals_in_one_line(estimator, kwargs, option, lavaan_refuses):
    from survey.errors import SurveyInputError

    with pytest.raises(SurveyInputError) as err:
        fit(REF["models"]["hs"], DATA["complete"], estimator=estimator, **kwargs)
    msg = str(err.value)
    assert err.value.field == option and "\n" not in msg and estimator in msg
    assert ("lavaan 0.6.14" in msg) == lavaan_refuses
    if lavaan_refuses:  # lavaan's own reason, from the fixture
        case = REF["cases"][f"hs_{kwargs[option].replace('.', '_')}_{estimator.lower()}"]
        assert case["error"].split(":")[0].replace("lavaan ERROR", "").strip() == ""
        assert "invalid value" in msg and "invalid value" in case["error"]


@pytest.mark.parametrize("estimator", ["ULS", "DWLS", "WLS"])
def test_observed_information_warns_as_lavaan(estimator):
    res = fit(REF["models"]["hs"], DATA["complete"], estimator=estimator, information="observed")
    ref = REF["cases"][f"hs_observed_{estimator.lower()}"]
    assert ref["options"]["information"][0] == "expected" and "expected" in ref["warnings"][0]
    assert any(w.code == "information_expected" and estimator in w.message for w in res.warnings)


def test_pairwise_gls_is_listwise_as_lavaan():
    res = fit(REF["models"]["hs"], DATA["pairwise"], estimator="GLS", missing="pairwise")
    assert res.nobs == REF["cases"]["hs_pairwise_gls"]["nobs"][0] == 186
    assert any(w.code == "pairwise_listwise" for w in res.warnings)
    assert fit(REF["models"]["hs"], DATA["pairwise"], estimator="ULS", missing="pairwise").nobs == 301
    # DWLS / WLS pairwise (the pairwise Gamma): tests/test_ls_robust_groups.py


def test_groups_and_means_recovered_on_simulated_data():
    rng = np.random.default_rng(20261201)
    frames = []
    for g, (lam, nu) in enumerate([((1.0, 0.8, 0.6, 0.7), (0.0, 1.0, 2.0, 3.0)),
                                   ((1.0, 0.5, 0.9, 0.4), (1.0, -1.0, 0.5, 2.0))]):
        n = 4000
        eta = rng.standard_normal(n)
        x = eta[:, None] * np.array(lam) + np.array(nu) + rng.standard_normal((n, 4)) * 0.6
        frames.append(pd.DataFrame(x, columns=list("abcd")).assign(g=f"g{g}"))
    data = pd.concat(frames, ignore_index=True)
    for est in ("GLS", "ULS", "DWLS", "WLS"):
        res = fit("f =~ a + b + c + d", data, estimator=est, group="g", meanstructure=True)
        est_tab = res.estimates()
        for g, (lam, nu) in enumerate([((0.8, 0.6, 0.7), (0.0, 1.0, 2.0, 3.0)), ((0.5, 0.9, 0.4),
                                                                                 (1.0, -1.0, 0.5, 2.0))]):
            rows = est_tab[est_tab["group"] == g + 1]
            loadings = rows[(rows["op"] == "=~") & (rows["rhs"] != "a")]["est"].to_numpy()
            intercepts = rows[rows["op"] == "~1"].set_index("lhs").loc[list("abcd"), "est"].to_numpy()
            assert np.max(np.abs(loadings - lam)) < 0.06, (est, g)
            assert np.max(np.abs(intercepts - nu)) < 0.06, (est, g)


@pytest.mark.parametrize("estimator", ["ULS", "DWLS"])
@pytest.mark.parametrize("test", ["yuan.bentler", "yuan.bentler.mplus"])
def test_yuan_bentler_refused_with_lavaans_reason(estimator, test):
    from survey.errors import SurveyInputError

    error = REF["cases"][f"hs_{test.replace('.', '_')}_{estimator.lower()}"]["error"]
    assert '"first.order" not available for estimator' in error and estimator in error
    with pytest.raises(SurveyInputError) as err:
        fit(REF["models"]["hs"], DATA["complete"], estimator=estimator, test=test)
    assert "first.order information not available" in str(err.value) and "\n" not in str(err.value)
