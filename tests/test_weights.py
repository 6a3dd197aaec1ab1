"""Raking weights (survey.quality.weights, survey.weights): equal to R survey::rake / trimWeights on the
three-margin fixture (tests/fixtures/raking/make_reference.R), Kish's design effect, explicit handling of
missing categories, one-line errors for bad margins, recovery of a population mean under biased
selection, and non-convergence reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey.weights
from survey.errors import SurveyInputError
from survey.quality import weights as qw
from survey.quality.margins import category_label, load_margins, parse_margins

HERE = Path(__file__).parent / "fixtures" / "raking"
REF = json.loads((HERE / "reference.json").read_text())
DATA = pd.read_csv(HERE / "data.csv")
MARGINS = HERE / "margins.yaml"
TIGHT = {"epsilon": 1e-12, "maxit": 1000}  # as the fixture's control = list(maxit = 1000, epsilon = 1e-12)


@pytest.mark.parametrize(("case", "margins", "base"), [
    ("three", "margins.yaml", None), ("missing", "margins_missing.yaml", None),
    ("base", "margins.yaml", "bw")])
def test_rake_equals_survey_rake(case, margins, base):
    ref = REF["cases"][case]
    result = qw.rake(DATA, HERE / margins, base_weights=base, **TIGHT)
    assert result.converged
    assert np.max(np.abs(result.weights.to_numpy() - np.array(ref["weights"]))) < 1e-6
    assert result.design_effect == pytest.approx(ref["design_effect"], abs=1e-6)
    assert result.effective_n == pytest.approx(ref["effective_n"], abs=1e-6)
    assert result.weights.mean() == pytest.approx(1.0, abs=1e-12)
    assert result.max_margin_error < 1e-9


def test_default_tolerance_also_equals_r_and_reports_sweeps():
    result = qw.rake(DATA, MARGINS)
    assert 2 <= result.iterations < 100
    assert np.max(np.abs(result.weights.to_numpy() - np.array(REF["cases"]["three"]["weights"]))) < 1e-6


@pytest.mark.parametrize("strict", [False, True])
def test_trimming_equals_trim_weights(strict):
    ref = REF["cases"]["trim_strict" if strict else "trim"]
    result = qw.rake(DATA, MARGINS, trim_lower=ref["lower"], trim_upper=ref["upper"], strict_trim=strict,
                     **TIGHT)
    w = result.weights.to_numpy()
    assert np.max(np.abs(w - np.array(ref["weights"]))) < 1e-6
    assert result.design_effect == pytest.approx(ref["design_effect"], abs=1e-6)
    assert w.sum() == pytest.approx(len(DATA))
    untrimmed = np.array(REF["cases"]["three"]["weights"])
    assert result.trimmed == int(np.sum((untrimmed < ref["lower"]) | (untrimmed > ref["upper"])))
    assert (w.max() <= ref["upper"] + 1e-12) if strict else (w.max() > ref["upper"])
    assert any(x.code == "trimmed_margins" for x in result.warnings)  # trimming moved the margins: said so


def test_kish_design_effect_is_one_plus_cv_squared():
    w = qw.rake(DATA, MARGINS).weights.to_numpy()
    cv = w.std(ddof=0) / w.mean()
    assert qw.rake(DATA, MARGINS).design_effect == pytest.approx(1 + cv**2, rel=1e-12)


def test_rows_keep_their_order_and_index():
    shuffled = DATA.sample(frac=1.0, random_state=3)
    result = qw.rake(shuffled, MARGINS, **TIGHT)
    assert list(result.weights.index) == list(shuffled.index)
    expected = pd.Series(REF["cases"]["three"]["weights"], index=DATA.index)
    assert np.max(np.abs(result.weights - expected.loc[shuffled.index])) < 1e-6
    frame = result.to_frame()
    assert list(frame.columns) == ["id", "weight"]
    assert list(frame["id"]) == list(shuffled["id"])


def test_missing_values_as_their_own_category():
    result = qw.rake(DATA, HERE / "margins_missing.yaml", **TIGHT)
    rows = result.margins[result.margins["column"] == "gender_m"].set_index("category")
    assert rows.loc[None, "n"] == DATA["gender_m"].isna().sum()
    assert rows.loc[None, "achieved"] == pytest.approx(0.04, abs=1e-9)
    assert result.to_dict()["margins"]["gender_m"]["(missing)"]["target"] == 0.04


def test_unit_base_weights_change_nothing_and_shim_reexports():
    assert survey.weights.rake is qw.rake
    a = survey.weights.rake(DATA, MARGINS)
    b = qw.rake(DATA.assign(one=1.0), MARGINS, base_weights="one")
    np.testing.assert_array_equal(a.weights.to_numpy(), b.weights.to_numpy())


def test_norway_stays_text_and_categories_compare_as_text():
    margins = load_margins(MARGINS)
    assert list(margins["country"]) == ["DE", "FR", "NO", "US"]
    assert list(margins["age"]) == ["1", "2", "3", "4"]
    assert [category_label(v) for v in (1, 1.0, "1", 2.5, None, float("nan"), " f ")] == [
        "1", "1", "1", "2.5", None, None, "f"]
    as_float = DATA.assign(age=DATA["age"].astype(float))  # 1.0 in the data is category 1
    assert np.allclose(qw.rake(as_float, MARGINS).weights, qw.rake(DATA, MARGINS).weights)


def test_recovers_population_mean_under_biased_selection():
    """Known truth: a population with an outcome additive in age band and gender; selection depends on
    both. The raked mean recovers the population mean; the unweighted mean is biased."""
    rng = np.random.default_rng(20261201)
    n_pop = 200_000
    age = rng.choice(4, n_pop, p=[0.15, 0.25, 0.35, 0.25])
    female = rng.random(n_pop) < 0.5
    y = 2.0 + 0.5 * age + 0.8 * female + rng.normal(0, 1, n_pop)
    p_select = 0.02 * np.array([3.0, 2.0, 1.0, 0.5])[age] * np.where(female, 1.5, 0.7)
    sample = rng.random(n_pop) < p_select
    data = pd.DataFrame({"age": age[sample], "gender": np.where(female[sample], "f", "m"), "y": y[sample]})
    margins = {"age": dict(zip(["0", "1", "2", "3"], np.bincount(age) / n_pop, strict=True)),
               "gender": {"f": female.mean(), "m": 1 - female.mean()}}
    result = qw.rake(data, margins)
    w = result.weights.to_numpy()
    truth = y.mean()
    se = data["y"].std() * np.sqrt(result.design_effect / len(data))  # Kish: var inflated by deff
    assert abs(data["y"].mean() - truth) > 5 * se
    assert abs(np.average(data["y"], weights=w) - truth) < 3 * se


def test_not_converging_is_reported():
    data = pd.DataFrame({"a": ["x"] * 50 + ["y"] * 50, "b": ["u"] * 50 + ["v"] * 50})  # a and b coincide
    result = qw.rake(data, {"a": {"x": 0.5, "y": 0.5}, "b": {"u": 0.3, "v": 0.7}}, maxit=25)
    assert not result.converged and result.iterations == 2  # stable after 2 sweeps, margin a missed
    assert "misses a margin by 0.2" in result.warnings[0].message
    assert [w.code for w in result.warnings] == ["raking_not_converged"]
    assert result.max_margin_error > 0.1
    short = qw.rake(DATA, MARGINS, maxit=1)
    assert not short.converged and short.iterations == 1 and "after 1 sweeps" in short.warnings[0].message


@pytest.mark.parametrize(("margins", "message"), [
    ({"age": {1: 0.5, 2: 0.4}}, "field 'age': proportions sum to 0.9, not 1"),
    ({"age": {1: 0.5, 2: 0.5, 3: 0.0}}, "field 'age.3', value 0.0: proportion must be a number in (0, 1]"),
    ({"age": {1: "half", 2: 0.5}}, "field 'age.1', value 'half': proportion must be a number in (0, 1]"),
    ({"age": [0.5, 0.5]}, "field 'age': a margin must be a non-empty mapping"),
    ({}, "margins must be a non-empty mapping"),
    ({"age": {1: 0.5, "1": 0.5}}, "field 'age.1': category given twice"),
    ({"country": {False: 0.5, "DE": 0.5}}, "field 'country.false': category read as a YAML boolean"),
])
def test_bad_margins_are_one_line_errors(margins, message):
    with pytest.raises(SurveyInputError) as info:
        parse_margins(margins)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("margins", "message"), [
    ({"region": {"N": 0.5, "S": 0.5}}, "data.csv: column 'region': margin column not in the data"),
    ({"country": {"DE": 0.25, "FR": 0.25, "NO": 0.05, "US": 0.4, "UK": 0.05}},
     "data.csv: column 'country', value 'UK': margin category absent from the data"),
    ({"country": {"DE": 0.5, "FR": 0.5}},
     "data.csv: row 1, column 'country', value 'US': category not in the margins "
     f"({int((~DATA['country'].isin(['DE', 'FR'])).sum())} row(s)); the margin has DE, FR"),
    ({"gender_m": {"f": 0.5, "m": 0.48, "d": 0.02}},
     "data.csv: row 33, column 'gender_m': missing value in a raking column; give its margin a `null: p`"),
])
def test_margins_that_do_not_fit_the_data_are_one_line_errors(margins, message):
    with pytest.raises(SurveyInputError) as info:
        qw.rake(DATA, margins, file="data.csv")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_bad_options_and_base_weights():
    with pytest.raises(SurveyInputError, match="row 2, column 'bw', value -1.0: base weight must"):
        qw.rake(DATA.assign(bw=[1.0, -1.0] + [1.0] * (len(DATA) - 2)), MARGINS, base_weights="bw")
    for lower, upper in ((2.0, 1.0), (None, 0.8), (1.2, None)):  # bounds must hold the mean weight 1
        with pytest.raises(SurveyInputError, match="trimming bounds must satisfy lower < upper and contain"):
            qw.rake(DATA, MARGINS, trim_lower=lower, trim_upper=upper)
    with pytest.raises(SurveyInputError, match="column 'nope': id column not in the data"):
        qw.rake(DATA, MARGINS, id_column="nope")
    with pytest.raises(SurveyInputError, match="no data rows"):
        qw.rake(DATA.iloc[:0], MARGINS)
