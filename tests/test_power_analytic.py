"""survey.power analytic power against semTools 0.5-6 / lavaan 0.6-14
(tests/fixtures/power/make_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from survey.errors import SurveyInputError
from survey.power import Population, parameter_power, restricted_syntax, rmsea_power, rmsea_sample_size
from survey.power.population import exact_data

FIX = Path(__file__).parent / "fixtures" / "power"
REF = json.loads((FIX / "reference.json").read_text())
MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ F1"


@pytest.fixture(scope="module")
def population():
    return Population.from_json(MODEL, FIX / "population.json")


def test_rmsea_power_equals_semtools():
    diffs = [abs(rmsea_power(r["rmsea0"], r["rmseaA"], r["df"], r["n"], r["alpha"], r["group"]) - r["power"])
             for r in REF["rmsea_power"]]
    assert len(diffs) == 256 and max(diffs) < 1e-6


def test_rmsea_power_vectorised_over_n():
    n = np.array([50, 200, 1000])
    out = rmsea_power(0.05, 0.08, 10, n)
    assert out.shape == (3,) and np.all(np.diff(out) > 0)
    assert out[1] == pytest.approx(rmsea_power(0.05, 0.08, 10, 200), abs=1e-15)


def test_rmsea_sample_size_equals_semtools():
    rows = [r for r in REF["rmsea_samplesize"] if r["n"] is not None]
    assert len(rows) >= 60
    for r in rows:
        got = rmsea_sample_size(r["rmsea0"], r["rmseaA"], r["df"], r["power"], r["alpha"], r["group"])
        assert got == r["n"], r


def test_rmsea_sample_size_is_the_first_n_above_target():
    n = rmsea_sample_size(0.05, 0.08, 20, 0.8)
    assert rmsea_power(0.05, 0.08, 20, n) > 0.8 >= rmsea_power(0.05, 0.08, 20, n - 1)


@pytest.mark.parametrize("args, field", [((0.05, 0.05, 10, 100), "rmsea1"), ((-0.1, 0.05, 10, 100), "rmsea0"),
                                         ((0.05, 0.08, 0, 100), "df")])
def test_rmsea_bad_input(args, field):
    with pytest.raises(SurveyInputError) as err:
        rmsea_power(*args)
    assert err.value.field == field


def test_population_covariance_equals_r(population):
    sigma, mean = population.implied()
    assert np.abs(sigma.to_numpy() - np.array(REF["sigma"])).max() < 1e-12
    assert list(sigma.columns) == [f"x{i}" for i in range(1, 7)] and np.all(mean == 0)


def test_exact_data_has_the_population_moments(population):
    sigma, _ = population.implied()
    data = exact_data(sigma, None, 50)
    x = data.to_numpy()
    assert np.abs(x.mean(axis=0)).max() < 1e-12
    assert np.abs(np.cov(x.T, ddof=0) - sigma.to_numpy()).max() < 1e-12


def test_wald_and_satorra_saris_power_equal_lavaan(population):
    pp = parameter_power(population, "F2 ~ F1")
    for r in REF["parameter"]:
        n = r["n"]
        assert pp.se_reference * np.sqrt(1000 / n) == pytest.approx(r["se"], abs=1e-6)
        assert float(pp.wald(n)) == pytest.approx(r["wald_power"], abs=1e-4)
        assert float(pp.ncp(n)) == pytest.approx(r["ncp"], abs=1e-4)
        assert float(pp.satorra_saris(n)) == pytest.approx(r["satorra_saris_power"], abs=1e-4)


def test_n_required_is_the_first_n_reaching_the_target(population):
    pp = parameter_power(population, "F2~F1")
    for method, fn in (("wald", pp.wald), ("satorra_saris", pp.satorra_saris)):
        n = pp.n_required(0.8, method)
        assert fn(n) >= 0.8 > fn(n - 1)
    out = pp.to_dict([100, 200])
    assert out["n_required"]["wald"] == pp.n_required(0.8, "wald")
    assert out["power"]["wald"][0] == pytest.approx(REF["parameter"][0]["wald_power"], abs=1e-4)


def test_population_errors():
    with pytest.raises(SurveyInputError, match="no population value") as err:
        Population.from_dict(MODEL, {"F1=~x2": 0.8})
    assert err.value.field == "F1=~x3"
    with pytest.raises(SurveyInputError, match="not a parameter"):
        Population.from_dict(MODEL, {"F1=~x9": 0.8})
    good = json.loads((FIX / "population.json").read_text())
    with pytest.raises(SurveyInputError, match="fixes this parameter"):
        Population.from_dict(MODEL, {**good, "F1=~x1": 2.0})
    with pytest.raises(SurveyInputError, match="finite number"):
        Population.from_dict(MODEL, {**good, "F2~F1": "big"})
    with pytest.raises(SurveyInputError, match="not positive definite"):
        Population.from_dict(MODEL, {**good, "x1~~x1": -3.0}).implied()


def test_population_file_errors(tmp_path):
    bad = tmp_path / "pop.json"
    bad.write_text("{not json")
    with pytest.raises(SurveyInputError, match="not valid JSON") as err:
        Population.from_json(MODEL, bad)
    assert err.value.file == str(bad)
    with pytest.raises(SurveyInputError, match="not found"):
        Population.from_json(MODEL, tmp_path / "none.json")


def test_population_from_pilot_estimates(population):
    from survey.sem import fit

    sigma, mean = population.implied()
    pilot = fit(MODEL, exact_data(sigma, mean, 300))
    again = Population.from_estimates(MODEL, pilot)
    for k, v in population.values.items():
        assert again.values[k] == pytest.approx(v, abs=1e-4)


def test_restricted_syntax():
    model = "F1 =~ x1 + a*x2\nF2 =~ x4 + x5\nF2 ~ b*F1 # the path\nd := a*b"
    out = restricted_syntax(model, "F2~F1")
    assert "F2 ~ 0.0*F1" in out and ":=" not in out and "a*x2" in out
    assert restricted_syntax(model, "x1~~x1").endswith("x1 ~~ 0.0*x1")
    assert "F1 =~ x1 + 0.0*x2" in restricted_syntax(model, "F1=~x2")
