"""Weighted descriptives (survey.measure.weighted, statsmodels DescrStatsW) equal R survey's svymean,
svyvar, cov2cor(svyvar) and svytable proportions with the raked weights of the fixture
(tests/fixtures/raking/make_reference.R), and unit weights give the unweighted statistics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.measure import describe, scale_correlations
from survey.measure.weighted import weighted_correlations, weighted_describe, weighted_shares

HERE = Path(__file__).parent / "fixtures" / "raking"
REF = json.loads((HERE / "reference.json").read_text())
DATA = pd.read_csv(HERE / "data.csv")
W = np.array(REF["cases"]["three"]["weights"])
D = REF["descriptives"]


def test_weighted_mean_and_sd_equal_svymean_svyvar():
    out = weighted_describe(DATA[["score", "minutes"]], W)
    for column in ("score", "minutes"):  # minutes has missing values (na.rm = TRUE)
        assert out.loc[column, "mean"] == pytest.approx(D["mean"][column], abs=1e-9)
        assert out.loc[column, "sd"] ** 2 == pytest.approx(D["var"][column], rel=1e-9)
    assert out.loc["minutes", "n"] == DATA["minutes"].notna().sum()
    keep = DATA["minutes"].notna().to_numpy()
    assert out.loc["minutes", "n.eff"] == pytest.approx(W[keep].sum() ** 2 / (W[keep] ** 2).sum())


def test_weighted_correlation_equals_cov2cor_svyvar():
    out = weighted_correlations(DATA[["score", "minutes"]], W)
    assert out.loc[0, "r"] == pytest.approx(D["cor"], abs=1e-9)
    assert out.loc[0, "n"] == DATA["minutes"].notna().sum()


def test_weighted_shares_equal_svytable():
    edu = weighted_shares([DATA["edu"] == k for k in (1, 2, 3)], W)
    assert edu == pytest.approx([D["edu"][k] for k in ("1", "2", "3")], abs=1e-9)
    reported = DATA["gender_m"].notna()
    shares = weighted_shares([DATA["gender_m"] == k for k in "dfm"] + [~reported], W)
    assert sum(shares) == pytest.approx(1.0)
    # svytable drops the missing values: its proportions are shares among the reported
    assert [s / sum(shares[:3]) for s in shares[:3]] == pytest.approx([D["gender_m"][k] for k in "dfm"])


def test_unit_weights_give_the_unweighted_statistics():
    frame = DATA[["score", "minutes"]]
    plain, weighted = describe(frame), weighted_describe(frame, np.ones(len(frame)))
    assert weighted.loc["score", "sd"] == pytest.approx(plain.loc["score", "sd"], rel=1e-12)
    assert weighted["mean"].to_numpy() == pytest.approx(plain["mean"].to_numpy(), rel=1e-12)
    r = scale_correlations(frame)["r"].iloc[0]
    assert weighted_correlations(frame, np.ones(len(frame)))["r"].iloc[0] == pytest.approx(r, rel=1e-12)


def test_weights_align_by_index_and_bad_weights_are_errors():
    series = pd.Series(W, index=DATA.index)
    shuffled = DATA.sample(frac=1.0, random_state=1)
    a = weighted_describe(shuffled[["score"]], series)
    assert a.loc["score", "mean"] == pytest.approx(D["mean"]["score"], abs=1e-9)
    with pytest.raises(SurveyInputError, match="row 3, field 'weights', value -1.0: weight must be"):
        weighted_describe(DATA[["score"]], np.r_[1.0, 1.0, -1.0, np.ones(len(DATA) - 3)])
    with pytest.raises(SurveyInputError, match="2 weights for 600 rows"):
        weighted_describe(DATA[["score"]], [1.0, 2.0])
