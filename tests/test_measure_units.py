"""survey.measure: keys, model parsing, errors, recovery of known truth, and the `survey reliability` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.errors import EstimationError, SurveyInputError
from survey.measure import (
    cfa_syntax,
    common_method_factor,
    cronbach_alpha,
    efa,
    item_analysis,
    marker_variable,
    measurement_model,
    parallel_analysis,
    parse_keys,
    reliability_report,
    reverse_key,
)
from survey.sem import fit as sem_fit  # tests are not a stage: they supply the SEM stage's estimator

FIXTURE = Path(__file__).parent / "fixtures" / "measure"
MODEL = (
    "A =~ A1 + A2 + A3 + A4\nB =~ B1 + B2 + B3 + B4\nC =~ C1 + C2 + C3 + C4\nD =~ D1 + D2 + D3 + D4 + D5\n"
)


def _factor_data(
    n: int, loadings: dict[str, list[float]], phi: np.ndarray, seed: int, method: tuple[float, ...] = (0.0,)
) -> pd.DataFrame:
    """Continuous factor-model data with known standardized loadings (and an optional common method
    factor, orthogonal to the traits, whose loadings cycle through ``method``)."""
    rng = np.random.default_rng(seed)
    eta = rng.multivariate_normal(np.zeros(len(loadings)), phi, size=n)
    m = rng.standard_normal(n)
    cols = {}
    k = 0
    for f, (name, lams) in enumerate(loadings.items()):
        for j, lam in enumerate(lams, start=1):
            mu = method[k % len(method)]
            k += 1
            resid = np.sqrt(1 - lam**2 - mu**2)
            cols[f"{name}{j}"] = lam * eta[:, f] + mu * m + resid * rng.standard_normal(n)
    return pd.DataFrame(cols)


# ------------------------------------------------------------------------------------------ parsing


def test_measurement_model_parses_lavaan_syntax():
    text = """
    # a comment
    F1 =~ 1*x1 + l2*x2 +
          NA*x3   ! another comment
    F2 =~ y1 + y2; F2 =~ y3
    F1 ~~ F2
    out ~ F1 + F2
    ind := a*b
    """
    assert measurement_model(text) == {"F1": ["x1", "x2", "x3"], "F2": ["y1", "y2", "y3"]}
    with pytest.raises(SurveyInputError, match="no measurement part"):
        measurement_model("y ~ x")
    with pytest.raises(SurveyInputError, match="malformed indicator"):
        measurement_model("F =~ a + 2b")


def test_parse_keys_psych_conventions(tmp_path):
    assert parse_keys(["x1", "-x2", "+x3"]) == {"x1": 1, "x2": -1, "x3": 1}
    assert parse_keys({"x1": 1, "x2": -1}) == {"x1": 1, "x2": -1}
    path = tmp_path / "keys.txt"
    path.write_text("# keys\nSHI: SHI1 SHI2, SHI3 -SHI4\nPEER4 -1\nPEER1,1\n")
    assert parse_keys(path) == {"SHI1": 1, "SHI2": 1, "SHI3": 1, "SHI4": -1, "PEER4": -1, "PEER1": 1}
    path.write_text("SHI1 SHI2 2x\n")
    with pytest.raises(SurveyInputError, match="row 1"):
        parse_keys(path)
    with pytest.raises(SurveyInputError, match="1 or -1"):
        parse_keys({"x": 2})


def test_reverse_key_bounds():
    x = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [2.0, 6.0, 3.0]})
    assert reverse_key(x, {"b": -1}, (1, 7))["b"].tolist() == [6.0, 2.0, 5.0]
    assert reverse_key(x, {"b": -1}, {"b": (1, 7)})["a"].equals(x["a"])
    # psych's rule: observed min and max over the keyed columns (1 and 6 here)
    assert reverse_key(x, {"a": 1, "b": -1})["b"].tolist() == [5.0, 1.0, 4.0]
    with pytest.raises(SurveyInputError, match="bounds"):
        reverse_key(x, {"b": -1}, {"a": (1, 7)})


# ------------------------------------------------------------------------------------------- errors


def test_input_errors():
    x = pd.DataFrame({"a": [1, 2, 3, 4.0], "b": [1, 1, 1, 1.0], "c": [2, 3, 1, 4.0]})
    with pytest.raises(SurveyInputError, match="at least two items"):
        cronbach_alpha(x[["a"]])
    with pytest.raises(SurveyInputError, match="no variance"):
        item_analysis(x)
    with pytest.raises(SurveyInputError, match="not found"):
        reliability_report("F =~ a + zz", x, fit=sem_fit)
    with pytest.raises(SurveyInputError, match="two or more indicators"):
        reliability_report("F =~ a", x, fit=sem_fit)
    with pytest.raises(SurveyInputError, match="exactly one of fit"):
        reliability_report("F =~ a + c", x)
    small = _factor_data(50, {"F": [0.8, 0.7, 0.6]}, np.eye(1), seed=1)
    small["b"] = np.arange(50.0)
    rep = reliability_report("F =~ F1 + F2 + F3\nG =~ b", small, fit=sem_fit)
    assert list(rep.factors.index) == ["F"] and rep.warnings[0].code == "single_indicator"
    with pytest.raises(EstimationError, match="complete cases"):
        reliability_report("F =~ a + c", x.iloc[:2], fit=sem_fit)
    with pytest.raises(EstimationError, match="no variance"):
        common_method_factor({"F": ["a", "c"], "G": ["b", "c"]}, pd.concat([x] * 3), fit=sem_fit)
    with pytest.raises(SurveyInputError, match="no column 'std.all'"):
        no_std = pd.DataFrame({"lhs": [], "op": [], "rhs": [], "est": []})
        reliability_report("F =~ a + c", x, estimates=no_std)


def test_cfa_syntax_identifications_fit_alike():
    """Marker and ``std.lv`` syntax are parsed by survey.sem and give one solution (same chisq, std.all)."""
    factors = {"F": ["F1", "F2", "F3"], "G": ["G1", "G2", "G3"]}
    assert cfa_syntax(factors) == "F =~ F1 + F2 + F3\nG =~ G1 + G2 + G3"
    assert cfa_syntax(factors, std_lv=True, orthogonal=[("F", "G")]).splitlines()[1:] == [
        "G =~ NA*G1 + G2 + G3",
        "F ~~ 1*F",
        "G ~~ 1*G",
        "F ~~ 0*G",
    ]
    with pytest.raises(SurveyInputError, match="unknown factor"):
        cfa_syntax(factors, orthogonal=[("F", "H")])
    phi = np.array([[1.0, 0.3], [0.3, 1.0]])
    data = _factor_data(800, {"F": [0.8, 0.7, 0.6], "G": [0.7, 0.6, 0.6]}, phi, seed=8)
    marker, std_lv = sem_fit(cfa_syntax(factors), data), sem_fit(cfa_syntax(factors, std_lv=True), data)
    assert marker.fit_measures()["chisq"] == pytest.approx(std_lv.fit_measures()["chisq"], abs=1e-6)
    a, b = (r.estimates().set_index(["lhs", "op", "rhs"])["std.all"] for r in (marker, std_lv))
    assert np.max(np.abs(a - b.loc[a.index])) < 1e-6
    orth = sem_fit(cfa_syntax(factors, std_lv=True, orthogonal=[("F", "G")]), data)
    assert orth.fit_measures()["df"] == std_lv.fit_measures()["df"] + 1


def test_negative_item_warns_when_keys_forgotten():
    data = pd.read_csv(FIXTURE / "items.csv")
    res = item_analysis(data[["A1", "A2", "A3", "A4"]])
    assert res.items.at["A4", "r.drop"] < 0
    assert [w.code for w in res.warnings] == ["negative_item_total"]


# ------------------------------------------------------------------------------------ known truth


def test_cfa_recovers_loadings_and_reliability():
    lams = {"F": [0.8, 0.7, 0.6, 0.5], "G": [0.75, 0.75, 0.65]}
    phi = np.array([[1.0, 0.4], [0.4, 1.0]])
    data = _factor_data(20000, lams, phi, seed=11)
    rep = reliability_report({"F": ["F1", "F2", "F3", "F4"], "G": ["G1", "G2", "G3"]}, data, fit=sem_fit)
    for f, ls in lams.items():
        ls = np.array(ls)
        true_omega = ls.sum() ** 2 / (ls.sum() ** 2 + (1 - ls**2).sum())
        assert rep.factors.at[f, "omega"] == pytest.approx(true_omega, abs=0.01)
        assert rep.factors.at[f, "cr"] == pytest.approx(true_omega, abs=0.01)
        assert rep.factors.at[f, "ave"] == pytest.approx(np.mean(ls**2), abs=0.01)
        assert np.allclose(
            rep.items.loc[[f"{f}{j + 1}" for j in range(len(ls))], "std.loading"], ls, atol=0.02
        )
    assert rep.fornell_larcker.at["F", "G"] == pytest.approx(0.4, abs=0.02)


def test_efa_and_parallel_analysis_recover_structure():
    lams = {"F": [0.8, 0.7, 0.7, 0.6], "G": [0.7, 0.7, 0.6, 0.6], "H": [0.75, 0.7, 0.65]}
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.3], [0.2, 0.3, 1.0]])
    data = _factor_data(1500, lams, phi, seed=5)
    pa = parallel_analysis(data, n_iter=50, seed=3)
    assert pa.n_factors == 3
    again = parallel_analysis(data, n_iter=50, seed=3)
    assert pa.table.equals(again.table)  # same seed, same numbers
    res = efa(data, 3, rotation="promax", method="ml")
    primary = res.loadings.abs().idxmax(axis=1)
    for f in lams:
        assert primary[[c for c in data.columns if c.startswith(f)]].nunique() == 1
    assert res.cross_loadings.empty
    # an item loading .45 on two factors is flagged as a cross-loading
    data["X1"] = (
        0.45 * data["F1"] / 0.8 + 0.45 * data["G1"] / 0.7 + np.random.default_rng(1).normal(0, 0.6, 1500)
    )
    flagged = efa(data, 3, cutoff=0.25)
    assert "X1" in flagged.cross_loadings.index and "X1" in flagged.summary()


def test_method_factor_detects_common_method_variance():
    lams = {"F": [0.7, 0.65, 0.6, 0.6], "G": [0.7, 0.65, 0.6, 0.55], "H": [0.7, 0.6, 0.6, 0.55]}
    phi = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.25], [0.2, 0.25, 1.0]])
    factors = {f: [f"{f}{j}" for j in range(1, 5)] for f in lams}
    method = (0.5, 0.2, 0.45, 0.3, 0.55)  # not proportional to the trait loadings: ULMC identified
    data = _factor_data(3000, lams, phi, seed=2, method=method)
    with_cmv = common_method_factor(factors, data, fit=sem_fit)
    assert with_cmv.method.converged and not with_cmv.warnings
    true_share = np.mean([method[k % 5] ** 2 for k in range(12)])
    assert with_cmv.comparison["method.share"] == pytest.approx(true_share, abs=0.04)
    assert with_cmv.comparison["pvalue"] < 1e-6 and with_cmv.comparison["delta.cfi"] > 0
    clean = common_method_factor(factors, _factor_data(3000, lams, phi, seed=2), fit=sem_fit)
    assert clean.comparison["pvalue"] > 0.001
    assert "method variance" in clean.summary()


def test_marker_variable_adjustment():
    rng = np.random.default_rng(4)
    m = rng.standard_normal(5000)
    x = pd.DataFrame({"u": rng.standard_normal(5000), "v": rng.standard_normal(5000)})
    x["u"] += 0.5 * x["v"]
    x = x + 0.5 * m[:, None]
    x["marker"] = 0.5 * m + rng.standard_normal(5000) * np.sqrt(0.75)
    res = marker_variable(x, "marker")
    row = res.table.iloc[0]
    assert res.r_m > 0.15
    assert row["r.adjusted"] == pytest.approx((row["r"] - res.r_m) / (1 - res.r_m))
    assert row["r.adjusted"] < row["r"]
    with pytest.raises(SurveyInputError, match="marker column"):
        marker_variable(x, "nope")


# ------------------------------------------------------------------------------ simulated study


def test_simulated_study_alpha_and_omega_near_population_values():
    """On the simulated study (survey.simulate, 7-point items as answered, reverse-keyed items
    reversed), every construct's alpha and omega lie within .05 of the population values."""
    from survey.instrument import lavaan_model, load_instrument
    from survey.measure import instrument_keys
    from survey.simulate import population_reliability, simulate_clean

    inst = load_instrument("follow-drivers@1.1.0")
    data, _ = simulate_clean(1500, 20261128, inst)
    keys, bounds = instrument_keys(inst)
    rep = reliability_report(lavaan_model(inst), data, keys=keys, bounds=bounds, fit=sem_fit)
    pop = population_reliability()
    assert set(pop.index) == set(rep.factors.index)
    for construct in pop.index:
        assert rep.factors.at[construct, "alpha"] == pytest.approx(pop.at[construct, "alpha"], abs=0.05)
        assert rep.factors.at[construct, "omega"] == pytest.approx(pop.at[construct, "omega"], abs=0.05)


# ------------------------------------------------------------------------------------------- CLI


def test_cli_reliability_json_with_keys_file(tmp_path, capsys):
    model = tmp_path / "model.lav"
    model.write_text(MODEL)
    keys = tmp_path / "keys.txt"
    keys.write_text("A: A1 A2 A3 -A4\nB: B1 B2 B3 -B4\nC: C1 C2 C3 -C4\nD: D1 D2 D3 -D4 D5\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["reliability", str(model), str(FIXTURE / "items.csv"), "--keys", str(keys), "--json"])
    assert exit_info.value.code == 0
    out = json.loads(capsys.readouterr().out)
    ref = json.loads((FIXTURE / "reference.json").read_text())
    assert out["factors"]["A"]["alpha"] == pytest.approx(ref["alpha"]["A"]["raw_alpha"], abs=1e-3)
    assert out["factors"]["C"]["omega"] == pytest.approx(ref["omega"]["C"], abs=1e-3)
    assert out["htmt"]["A"]["B"] == pytest.approx(ref["htmt"][0]["B"], abs=1e-3)
    assert set(out) >= {"factors", "htmt", "fornell_larcker", "warnings"}


def test_cli_reliability_instrument_model(tmp_path, capsys):
    from survey.instrument import load_instrument

    inst = load_instrument("follow-drivers@1.0.0")
    lams = {c: [0.75, 0.7, 0.7, 0.65] for c in inst.construct_codes}
    cols = _factor_data(
        400, {c: v[: len(inst.indicators(c))] for c, v in lams.items()}, np.eye(len(lams)) * 0.6 + 0.4, seed=9
    )
    rename = {f"{c}{j + 1}": item for c in inst.construct_codes for j, item in enumerate(inst.indicators(c))}
    data = cols.rename(columns=rename)
    data = (1 + np.clip(np.round(data * 1.3 + 4), 0, 6)).clip(1, 7)
    for item, key in inst.keys().items():
        if key == -1 and item in data:
            data[item] = 8 - data[item]
    data.iloc[0, 0] = 8  # "Prefer not to say": a labelled missing code, never a scale point
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["reliability", "follow-drivers@1.0.0", str(path), "--json"])
    assert exit_info.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["factors"]) == set(inst.construct_codes)
    assert all(0.6 < f["alpha"] < 0.95 for f in out["factors"].values())


def test_cli_reliability_bad_input_exit_2(tmp_path, capsys):
    model = tmp_path / "model.lav"
    model.write_text("A =~ A1 + NOPE\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["reliability", str(model), str(FIXTURE / "items.csv")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "NOPE" in err and "items.csv" in err
