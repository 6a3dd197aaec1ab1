"""Relative importance (survey.sem.importance): dominance analysis and Johnson's relative weights.

* Dominance analysis against a brute-force all-subsets computation written here independently:
  explicit OLS fits (numpy lstsq with an intercept) on simulated data for each of the 2^p subsets.
* Dominance analysis against Azen & Budescu's (2003) published example (average contributions by
  subset size, complete / conditional / general dominance).
* Relative weights against published worked examples:
  - iopsych ``relWt()`` documentation example (Goebl, Jones & Beatty, R package iopsych 0.90.1,
    https://rdrr.io/cran/iopsych/man/relWt.html, "Example output": eps = 0.24066119, 0.05492664,
    0.12143476, 0.28158189 for the 5 x 5 matrix ``Rs``, criterion 5, predictors 1-4);
  - the README example of the npm package johnsons-relative-weights
    (https://www.npmjs.com/package/johnsons-relative-weights; 7 x 7 matrix, criterion = variable 1,
    raw weights and R^2 = 0.6620304789821244);
  - the R package rwa's mtcars example (vignette "Regression Methods"; raw and rescaled weights).
  Johnson's (2000) own article example could not be retrieved here, so it is not used.
* Latent level: lavaan's model-implied latent correlation matrix (tests/fixtures/compare/reference.json)
  gives the R^2 of FOL that lavaan reports.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.importance import (
    as_correlation,
    dominance_analysis,
    implied_correlation,
    r2_subset,
    relative_weights,
)

FIXTURES = Path(__file__).parent / "fixtures" / "compare"


def _simulate(seed: int = 7, n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = 5
    a = rng.normal(size=(p, p))
    cov = a @ a.T / p + np.eye(p) * 0.5
    x = rng.multivariate_normal(np.zeros(p), cov, size=n)
    y = x @ np.array([0.5, 0.3, -0.2, 0.1, 0.0]) + rng.normal(size=n)
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, p + 1)])
    df["y"] = y
    return (df - df.mean()) / df.std()


def _ols_r2(data: pd.DataFrame, outcome: str, preds: tuple[str, ...]) -> float:
    y = data[outcome].to_numpy()
    if not preds:
        return 0.0
    X = np.column_stack([np.ones(len(data)), data[list(preds)].to_numpy()])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    return 1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


@pytest.fixture(scope="module")
def sim():
    data = _simulate()
    preds = [c for c in data.columns if c != "y"]
    r2 = {
        frozenset(s): _ols_r2(data, "y", s)
        for k in range(len(preds) + 1)
        for s in itertools.combinations(preds, k)
    }
    return data, preds, r2


def test_dominance_matches_brute_force_ols(sim):
    data, preds, r2 = sim
    res = dominance_analysis(data.corr(), "y", preds)
    p = len(preds)
    assert res.r2 == pytest.approx(r2[frozenset(preds)], abs=1e-10)
    # every subset's R^2 and increments
    for row in res.subsets.itertuples(index=False):
        members = frozenset(row.subset.split("+")) if row.subset else frozenset()
        assert row.r2 == pytest.approx(r2[members], abs=1e-10)
    # conditional dominance: mean increment by subset size
    for i in preds:
        others = [q for q in preds if q != i]
        for k in range(p):
            incs = [r2[frozenset(s) | {i}] - r2[frozenset(s)] for s in itertools.combinations(others, k)]
            assert res.conditional.loc[i, k] == pytest.approx(np.mean(incs), abs=1e-10)
    # general dominance = mean of conditional; weights add up to the full R^2
    brute_general = {
        i: np.mean(
            [
                np.mean(
                    [
                        r2[frozenset(s) | {i}] - r2[frozenset(s)]
                        for s in itertools.combinations([q for q in preds if q != i], k)
                    ]
                )
                for k in range(p)
            ]
        )
        for i in preds
    }
    assert np.max(np.abs(res.general - pd.Series(brute_general))) < 1e-10
    assert res.general.sum() == pytest.approx(r2[frozenset(preds)], abs=1e-10)
    assert res.general_standardized.sum() == pytest.approx(1.0)
    # complete dominance
    for i, j in itertools.permutations(preds, 2):
        rest = [q for q in preds if q not in (i, j)]
        subs = [frozenset(s) for k in range(len(rest) + 1) for s in itertools.combinations(rest, k)]
        i_wins = all(r2[s | {i}] > r2[s | {j}] for s in subs)
        j_wins = all(r2[s | {j}] > r2[s | {i}] for s in subs)
        assert res.complete.loc[i, j] == (1.0 if i_wins else 0.0 if j_wins else 0.5)
    assert res.complete.loc["x1", "x5"] == 1.0  # the strongest predictor dominates the null one


def test_dominance_hierarchy_and_outputs(sim):
    data, preds, _ = sim
    res = dominance_analysis(data.corr(), "y", preds)
    # complete => conditional => general dominance (Azen & Budescu 2003)
    for i, j in itertools.permutations(preds, 2):
        if res.complete.loc[i, j] == 1.0:
            assert res.conditional_dominance.loc[i, j] == 1.0
        if res.conditional_dominance.loc[i, j] == 1.0:
            assert res.general_dominance.loc[i, j] == 1.0
    assert res.ranking.sort_values().index[0] == res.general.idxmax()
    frame = res.to_frame()
    assert list(frame.columns[-3:]) == ["general", "general.share", "rank"]
    assert "Dominance analysis of y" in res.summary() and "<table" in res._repr_html_()
    json.dumps(res.to_dict())
    assert len(res.subsets) == 2 ** len(preds)


def test_orthogonal_predictors_get_their_squared_validities():
    r = np.eye(4)
    r[3, :3] = r[:3, 3] = [0.5, 0.3, 0.1]
    corr = pd.DataFrame(r, index=["a", "b", "c", "y"], columns=["a", "b", "c", "y"])
    expect = np.array([0.25, 0.09, 0.01])
    assert dominance_analysis(corr, "y").general.to_numpy() == pytest.approx(expect)
    assert relative_weights(corr, "y").to_numpy() == pytest.approx(expect)


def test_relative_weights_iopsych_published_example():
    rs = np.array(
        [
            [1.0, 0.2, 0.3, 0.4, -0.4],
            [0.2, 1.0, 0.5, 0.1, 0.1],
            [0.3, 0.5, 1.0, 0.2, -0.3],
            [0.4, 0.1, 0.2, 1.0, 0.4],
            [-0.4, 0.1, -0.3, 0.4, 1.0],
        ]
    )
    names = ["x1", "x2", "x3", "x4", "y"]
    corr = pd.DataFrame(rs, index=names, columns=names)
    rw = relative_weights(corr, "y", ["x1", "x2", "x3", "x4"])
    published = [0.24066119, 0.05492664, 0.12143476, 0.28158189]
    assert np.max(np.abs(rw.to_numpy() - published)) < 5e-9
    assert rw.sum() == pytest.approx(r2_subset(corr, "y", ["x1", "x2", "x3", "x4"]), abs=1e-12)
    assert relative_weights(corr, "y", ["x1", "x2", "x3", "x4"], rescale=True).sum() == pytest.approx(1.0)


def test_relative_weights_npm_published_example():
    m = np.array(
        [
            [1.00, 0.66, 0.67, 0.54, 0.68, 0.62, 0.72],
            [0.66, 1.00, 0.58, 0.59, 0.68, 0.68, 0.56],
            [0.67, 0.58, 1.00, 0.52, 0.60, 0.62, 0.68],
            [0.54, 0.59, 0.52, 1.00, 0.52, 0.61, 0.45],
            [0.68, 0.68, 0.60, 0.52, 1.00, 0.63, 0.62],
            [0.62, 0.68, 0.62, 0.61, 0.63, 1.00, 0.57],
            [0.72, 0.56, 0.68, 0.45, 0.62, 0.57, 1.00],
        ]
    )
    names = [f"v{i}" for i in range(1, 8)]
    rw = relative_weights(pd.DataFrame(m, index=names, columns=names), "v1")
    published = [
        0.10774831782516386,
        0.1164837573016094,
        0.06551431494877613,
        0.12116711335808825,
        0.08006198853448922,
        0.1710549870139989,
    ]
    assert np.max(np.abs(rw.to_numpy() - published)) < 1e-12
    assert rw.sum() == pytest.approx(0.6620304789821244, abs=1e-12)


def test_latent_correlation_from_lavaan_gives_lavaan_r2():
    ref = json.loads((FIXTURES / "reference.json").read_text())
    names = ref["cor_lv"]["names"]
    cor = pd.DataFrame(np.array(ref["cor_lv"]["matrix"]), index=names, columns=names)
    drivers = ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]
    dom = dominance_analysis(cor, "FOL", drivers)
    assert dom.r2 == pytest.approx(ref["r2_FOL"], abs=1e-8)
    assert dom.general.sum() == pytest.approx(ref["r2_FOL"], abs=1e-8)
    rw = relative_weights(cor, "FOL", drivers)
    assert rw.sum() == pytest.approx(ref["r2_FOL"], abs=1e-8)
    # a covariance matrix gives the same answer as its correlation matrix
    sd = np.linspace(0.5, 2.0, len(names))
    cov = cor * np.outer(sd, sd)
    assert dominance_analysis(cov, "FOL", drivers).general.to_numpy() == pytest.approx(dom.general.to_numpy())
    assert as_correlation(cov).to_numpy() == pytest.approx(cor.to_numpy())


def test_bad_correlation_input():
    good = pd.DataFrame(np.eye(3), index=list("aby"), columns=list("aby"))
    with pytest.raises(SurveyInputError, match="outcome cannot also be a predictor"):
        dominance_analysis(good, "y", ["a", "y"])
    with pytest.raises(SurveyInputError, match="not in the correlation matrix"):
        relative_weights(good, "y", ["a", "zz"])
    sing = good.copy()
    sing.loc["a", "b"] = sing.loc["b", "a"] = 1.0
    with pytest.raises(SurveyInputError, match="singular|semi-definite"):
        dominance_analysis(sing, "y")
    asym = good.copy()
    asym.loc["a", "b"] = 0.3
    with pytest.raises(SurveyInputError, match="symmetric"):
        relative_weights(asym, "y")
    with pytest.raises(SurveyInputError):
        dominance_analysis(good.to_numpy(), "y")  # type: ignore[arg-type]


def test_dominance_azen_budescu_2003_published_example():
    """Azen & Budescu (2003, Psychological Methods 8, 129-148) worked example.

    Correlation matrix, average contributions by subset size (3 decimals) and the dominance
    matrices as transcribed in the test suite of the R package dominanceanalysis
    (tests/testthat/test-daAzenBudescu2003.R, https://rdrr.io/cran/dominanceanalysis/).
    """
    nam = ["y", "x1", "x2", "x3", "x4"]
    m = np.array(
        [
            [1.0, 0.6, 0.3, 0.4, 0.5],
            [0.6, 1.0, 0.8, 0.1, 0.3],
            [0.3, 0.8, 1.0, 0.1, 0.1],
            [0.4, 0.1, 0.1, 1.0, 0.5],
            [0.5, 0.3, 0.1, 0.5, 1.0],
        ]
    )
    res = dominance_analysis(pd.DataFrame(m, index=nam, columns=nam), "y")
    published = np.array(
        [
            [0.360, 0.090, 0.160, 0.250],
            [0.300, 0.074, 0.095, 0.152],
            [0.263, 0.069, 0.063, 0.073],
            [0.246, 0.071, 0.061, 0.010],
        ]
    )
    assert np.max(np.abs(res.conditional.T.to_numpy() - published)) < 5e-4 + 1e-9
    half = 0.5
    complete = np.array(
        [[np.nan, 1, 1, 1], [0, np.nan, half, half], [0, half, np.nan, half], [0, half, half, np.nan]]
    )
    np.testing.assert_array_equal(res.complete.to_numpy(), complete)
    np.testing.assert_array_equal(res.conditional_dominance.to_numpy(), complete)
    general = np.array([[np.nan, 1, 1, 1], [0, np.nan, 0, 0], [0, 1, np.nan, 0], [0, 1, 1, np.nan]])
    np.testing.assert_array_equal(res.general_dominance.to_numpy(), general)
    assert res.general.sum() == pytest.approx(res.r2, abs=1e-12)
    assert list(res.ranking.sort_values().index) == ["x1", "x4", "x3", "x2"]


def test_implied_correlation_from_standardized_solution_equals_lavaan_cor_lv():
    ref = json.loads((FIXTURES / "reference.json").read_text())
    names = ref["cor_lv"]["names"]
    cor_lv = pd.DataFrame(np.array(ref["cor_lv"]["matrix"]), index=names, columns=names)
    std = pd.DataFrame(ref["std_solution"])
    got = implied_correlation(std, "FOL", column="est.std")
    order = list(got.index)
    assert order == ["FOL", "SHI", "SKL", "AUT", "EMO", "CON", "PEER"]
    assert np.max(np.abs(got.to_numpy() - cor_lv.loc[order, order].to_numpy())) < 1e-8
    assert dominance_analysis(got, "FOL").r2 == pytest.approx(ref["r2_FOL"], abs=1e-8)
    with pytest.raises(SurveyInputError, match="regressed"):
        extra = pd.DataFrame([{"lhs": "SHI", "op": "~", "rhs": "PEER", "est.std": 0.1}])
        implied_correlation(pd.concat([std, extra]), "FOL", column="est.std")


def test_relative_weights_rwa_published_mtcars_example():
    """R package rwa (Chan), vignette "Regression Methods": rwa_multiregress(mtcars, "mpg",
    c("cyl", "disp", "hp", "wt")) prints Raw.RelWeight 0.2096904, 0.1883043, 0.1799590, 0.2706812 and
    Rescaled.RelWeight 24.70914, 22.18908, 21.20570, 31.89607 (https://martinctc.github.io/rwa/articles/
    regression-methods.html). tests/fixtures/compare/mtcars.csv is R's datasets::mtcars, written with
    write.csv(mtcars[, c("mpg", "cyl", "disp", "hp", "wt")], row.names = FALSE)."""
    data = pd.read_csv(Path(__file__).parent / "fixtures" / "compare" / "mtcars.csv")
    predictors = ["cyl", "disp", "hp", "wt"]
    raw = relative_weights(data.corr(), "mpg", predictors)
    assert np.max(np.abs(raw.to_numpy() - [0.2096904, 0.1883043, 0.1799590, 0.2706812])) < 1e-7
    rescaled = 100 * relative_weights(data.corr(), "mpg", predictors, rescale=True)
    assert np.max(np.abs(rescaled.to_numpy() - [24.70914, 22.18908, 21.20570, 31.89607])) < 1e-5
