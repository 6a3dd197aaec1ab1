"""Models mixing ordered and continuous indicators against lavaan 0.6.14
(tests/fixtures/ordinal_mixed/make_reference.R): the sample statistics (thresholds, -means, variances,
polychoric / polyserial / Pearson (co)variances) and their Gamma (Muthen 1984 with the delta rule), then
estimates, robust SEs, std.lv, std.all, the scaled(-shifted) tests and the fit measures for WLSMV (CFA and
a regression of a continuous outcome on the factors), the theta parameterization, std.lv, ULSMV, WLSM and
WLS."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.ordinal.acov import gamma as gamma_ordinal
from survey.sem.ordinal.fit import fit_ordinal
from survey.sem.ordinal.mixed import complete_cases, mixed_statistics
from survey.sem.ordinal.polychoric import pair_tables, polychoric
from survey.sem.ordinal.thresholds import encode, univariate_thresholds

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_mixed" / "reference.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv").assign(age10=lambda d: d["age"] / 10)
ORDERED = REF["ordered"]
CASES = {
    "cfa_wlsmv": ("cfa", {}),
    "sem_wlsmv": ("sem", {}),
    "cfa_theta": ("cfa", {"parameterization": "theta"}),
    "cfa_stdlv": ("cfa", {"std_lv": True}),
    "cfa_ulsmv": ("cfa", {"estimator": "ULSMV"}),
    "cfa_wlsm": ("cfa", {"estimator": "WLSM"}),
    "cfa_wls": ("cfa", {"estimator": "WLS"}),
}
# lavaan measures no ordinal fit here computes (other families of indices); the robust CFI/TLI/RMSEA
# lavaan 0.6.14 reports only without continuous variables, and none is expected here
NOT_COMPUTED: set[str] = set()  # every fitMeasures() key lavaan reports is computed


@cache
def fitted(case: str):
    model, options = CASES[case]
    return fit_ordinal(REF["models"][model], BFI, ordered=ORDERED, **options)


@pytest.mark.parametrize("case", ["cfa_wlsmv", "sem_wlsmv"])
def test_mixed_sample_statistics_and_gamma_equal_lavaan(case):
    ref = REF["cases"][case]
    sample = fitted(case).sample
    assert sample.nobs == ref["nobs"] == 941  # listwise complete cases
    assert np.abs(sample.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert sample.gamma.shape == g_ref.shape
    assert np.abs(sample.gamma - g_ref).max() < 1e-5 * np.abs(g_ref).max()
    # the three kinds of pairs are all there: polychoric, polyserial, Pearson (covariance metric)
    names = ref["names"]
    for pair in ("A1~~A2", "A1~~C1", "C1~~C2"):
        k = names.index(pair)
        assert sample.wls_obs[k] == pytest.approx(ref["wls_obs"][k], abs=1e-7)


def test_mixed_gamma_without_continuous_variables_is_the_ordinal_gamma():
    """The general three-stage code on ordered items only reproduces the all-ordinal Gamma."""
    items = [f"A{i}" for i in range(1, 6)] + ["C1", "C2"]
    md = complete_cases(BFI, items, set(items))
    st = mixed_statistics(md)
    codes = encode(BFI, items).complete()
    taus = univariate_thresholds(codes)
    rho = polychoric(pair_tables(codes), taus)
    g = gamma_ordinal(codes, taus, rho)
    assert np.abs(st.gamma - g).max() < 1e-9 * np.abs(g).max()


def _merged(case: str) -> pd.DataFrame:
    ref = pd.DataFrame(REF["cases"][case]["estimates"]).set_index(["lhs", "op", "rhs"])
    mine = fitted(case).estimates().set_index(["lhs", "op", "rhs"])
    assert set(ref.index) == set(mine.index)  # parameterEstimates(remove.nonfree = FALSE)'s rows
    return mine.join(ref.add_suffix("_r"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_mixed_estimates_ses_and_std_all_equal_lavaan(case):
    m = _merged(case)
    assert fitted(case).converged
    assert np.abs(m["est"] - m["est_r"]).max() < 1e-4
    assert np.abs(m["se"] - m["se_r"]).max() < 1e-4
    assert np.abs(m["std.all"] - m["std.all_r"]).max() < 1e-4
    assert np.abs(m["std.lv"] - m["std.lv_r"]).max() < 1e-4
    ops = m.index.get_level_values("op")
    assert (ops == "|").sum() == 25 and (ops == "~*~").sum() == 5  # thresholds / scales of A1..A5 only
    means = m[(ops == "~1") & (m["se"] > 0)]
    assert set(means.index.get_level_values("lhs")) >= {"C1", "C2", "C3", "C4", "C5"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mixed_fit_measures_equal_lavaan(case):
    ref = REF["cases"][case]["fit_measures"]
    mine = fitted(case).fit_measures()
    compared = 0
    for name, value in ref.items():
        if name in NOT_COMPUTED:
            continue
        assert mine[name] == pytest.approx(value, abs=1e-6, rel=1e-6), name
        compared += 1
    assert compared >= (20 if case == "cfa_wls" else 30)
    assert not any(k.endswith(".robust") for k in mine)  # lavaan reports none with continuous variables
    test = fitted(case).test_list
    shift, trace = REF["cases"][case].get("shift"), REF["cases"][case].get("trace_ugamma")
    assert len(test) == (1 if case == "cfa_wls" else 2)
    if isinstance(shift, float):
        assert test[1].shift == pytest.approx(shift, abs=1e-6)
    if isinstance(trace, float):
        assert test[1].trace_ugamma == pytest.approx(trace, rel=1e-6)


def test_continuous_outcome_regression_and_summary():
    fit = fitted("sem_wlsmv")
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert est.loc[("age10", "~", "A"), "se"] > 0
    text = fit.summary()
    assert "Intercepts:" in text and "Thresholds:" in text and "C1|t1" not in text
    out = fit.to_dict()
    assert any(r["op"] == "~1" and r["lhs"] == "C1" for r in out["estimates"])


def test_mixed_bad_input_is_named():
    bad = BFI.astype({"C2": object})
    bad.loc[3, "C2"] = "lots"
    with pytest.raises(SurveyInputError, match="C2") as info:
        fit_ordinal(REF["models"]["cfa"], bad, ordered=ORDERED)
    assert "row 4" in str(info.value) or "4" in str(info.value)
    flat = BFI.assign(C3=3.0)
    with pytest.raises(SurveyInputError, match="C3"):
        fit_ordinal(REF["models"]["cfa"], flat, ordered=ORDERED)
    with pytest.raises(SurveyInputError, match="categorical setting"):  # pairwise: test_ordinal_missing.py
        fit_ordinal(REF["models"]["cfa"], BFI, ordered=ORDERED, missing="fiml")


def test_ordinal_results_have_the_engine_result_methods():
    """estimates(), to_frame(), fit_measures(names), vcov(), r2(), summary(), to_dict(), _repr_html_ as
    survey.sem's SEMResult; the same columns as its parameterEstimates()."""
    from survey.sem import fit

    res = fit(REF["models"]["sem"], BFI, ordered=ORDERED)
    cont = fit(REF["models"]["sem"], BFI.dropna(subset=ORDERED))
    assert res.single and cont.single
    assert list(res.estimates().columns) == list(cont.estimates().columns)
    pd.testing.assert_frame_equal(res.to_frame(), res.estimates())
    assert res.fit_measures(["chisq", "df"]) == {"chisq": res.fit_measures()["chisq"], "df": 42.0}
    v = res.vcov()
    assert v.shape == (50, 50) and list(v.index) == list(v.columns)
    est = res.estimates().set_index(["lhs", "op", "rhs"])
    for name, key in (("A=~A2", ("A", "=~", "A2")), ("age10~C", ("age10", "~", "C")),
                      ("A1|t1", ("A1", "|", "t1")), ("C1~1", ("C1", "~1", ""))):
        assert np.sqrt(v.loc[name, name]) == pytest.approx(est.loc[key, "se"], rel=1e-12)
    ref = pd.DataFrame(REF["cases"]["sem_wlsmv"]["estimates"]).set_index(["lhs", "op", "rhs"])
    assert res.r2()["age10"] == pytest.approx(1 - ref.loc[("age10", "~~", "age10"), "std.all"], abs=1e-5)
    assert "<table" in res._repr_html_() and "WLSMV" in res._repr_html_()
    assert res.to_dict()["estimates"][0]["lhs"] == "A"


def test_vcov_std_and_the_wald_test_of_equal_paths_equal_lavaan():
    ref = REF["cases"]["sem_wlsmv"]
    names = ref["vcov_std_all"]["names"]
    mine = fitted("sem_wlsmv").vcov_std().loc[names, names].to_numpy()
    assert np.abs(mine - np.array(ref["vcov_std_all"]["values"])).max() < 1e-6
    comparison = fitted("sem_wlsmv").compare_paths("age10", seed=1)
    wald = comparison.to_dict()["omnibus_wald"]
    assert wald["stat"] == pytest.approx(ref["wald_equal_paths"]["stat"], rel=1e-4)
    assert wald["df"] == ref["wald_equal_paths"]["df"] == 1
    assert wald["pvalue"] == pytest.approx(ref["wald_equal_paths"]["pvalue"], rel=1e-3)
    std = comparison.to_dict()["standardized"]
    est = pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"])
    assert std["C"]["est.std"] == pytest.approx(est.loc[("age10", "~", "C"), "std.all"], abs=1e-5)
    assert std["C"]["se"] == pytest.approx(np.sqrt(mine[names.index("age10~C"), names.index("age10~C")]))


def test_cli_ordered_with_compare_paths(tmp_path, capsys):
    from survey.cli import main

    model, data = tmp_path / "m.lav", tmp_path / "d.csv"
    model.write_text(REF["models"]["sem"])
    BFI.to_csv(data, index=False)
    try:
        main(["fit", str(model), str(data), "--ordered", ",".join(ORDERED), "--compare-paths", "age10",
              "--json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    assert code == 0
    res = json.loads(out)
    assert res["estimator"] == "WLSMV" and res["nobs"] == 941
    wald = res["path_comparison"]["omnibus_wald"]
    assert wald["stat"] == pytest.approx(REF["cases"]["sem_wlsmv"]["wald_equal_paths"]["stat"], rel=1e-4)
    assert set(res["path_comparison"]["rank_interval"]) == {"A", "C"}
