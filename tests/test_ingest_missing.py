"""Missing-data report, Little's MCAR test (against lavaan's EM + base R, tests/fixtures/ingest/
make_mcar_reference.R), and scale scoring (survey.measure.scoring)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.ingest.missing import em_mvnorm, little_mcar, missing_report
from survey.measure.scoring import min_valid_count, scale_score, scale_scores

HERE = Path(__file__).parent / "fixtures" / "ingest"
REF = json.loads((HERE / "mcar_reference.json").read_text())


@pytest.mark.parametrize("name", ["mcar", "mar"])
def test_em_and_little_match_reference(name):
    data = pd.read_csv(HERE / f"{name}_data.csv")
    ref = REF[name]
    mu, sigma, _ = em_mvnorm(data)
    assert np.abs(mu - ref["mu"]).max() < 1e-6
    assert np.abs(sigma.ravel() - np.array(ref["sigma"])).max() < 1e-6
    out = little_mcar(data)
    assert out["chisq"] == pytest.approx(ref["chisq"], abs=1e-6)
    assert out["df"] == ref["df"] and out["n_patterns"] == ref["n_patterns"]
    assert out["pvalue"] == pytest.approx(ref["pvalue"], rel=1e-6)


def test_mar_rejects_and_mcar_does_not():
    assert little_mcar(pd.read_csv(HERE / "mar_data.csv"))["pvalue"] < 1e-10
    assert little_mcar(pd.read_csv(HERE / "mcar_data.csv"))["pvalue"] > 0.05


def test_complete_data_has_nothing_to_test():
    x = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)))
    assert little_mcar(x)["df"] == 0


@pytest.mark.slow
def test_little_mcar_size_under_mcar_monte_carlo():
    rng = np.random.default_rng(2024)
    reps = 400
    p = []
    for _ in range(reps):
        x = rng.multivariate_normal([0, 1, 2, 3], 0.5 + 0.5 * np.eye(4), 300)
        x[rng.random(x.shape) < 0.1] = np.nan
        p.append(little_mcar(pd.DataFrame(x))["pvalue"])
    rate = np.mean(np.array(p) < 0.05)
    assert 0.025 < rate < 0.085  # nominal .05, Monte Carlo SE about .011


def test_missing_report_separates_codes_from_skips():
    items = pd.DataFrame({"A": [1, np.nan, np.nan, 4], "B": [1, 2, np.nan, np.nan]})
    codes = {"A": pd.Series([8.0], index=[1])}
    labels = {"A": {8.0: "Prefer not to say"}}
    rep = missing_report(items, codes, labels)
    assert rep.by_item.loc["A", ["answered", "skipped", "Prefer not to say"]].tolist() == [2, 1, 1]
    assert rep.by_item.loc["B", ["answered", "skipped", "Prefer not to say"]].tolist() == [2, 2, 0]
    assert rep.by_respondent.tolist() == [0, 1, 2, 1]
    pats = rep.patterns.set_index("missing")["n"].to_dict()
    assert pats == {"(none)": 1, "A": 1, "B": 1, "A,B": 1}
    d = rep.to_dict()
    assert d["respondents_by_n_missing"] == {"0": 1, "1": 2, "2": 1} and d["n_patterns"] == 4


def test_scale_scores_reverse_keying_and_two_thirds_rule():
    from survey.instrument import load_instrument

    inst = load_instrument("follow-drivers@1.0.0")
    d = pd.DataFrame(
        {
            "SHI1": [1, 2, np.nan],
            "SHI2": [3, np.nan, np.nan],
            "SHI3": [5, 5, 2],
            "SHI4": [7, 1, 1],
            "FOL1": [7, 7, 7],
            "FOL2": [6, np.nan, 5],
            "FOL3": [5, np.nan, np.nan],
        }
    )
    s = scale_scores(d, inst)
    assert s["SHI"].tolist()[:2] == pytest.approx([(1 + 3 + 5 + 1) / 4, (2 + 5 + 7) / 3])
    assert np.isnan(s["SHI"].iloc[2])  # 2 of 4 answered < ceil(2/3 * 4) = 3
    assert s["FOL"].tolist()[0] == pytest.approx(6.0) and np.isnan(s["FOL"].iloc[1])
    assert s["FOL"].iloc[2] == pytest.approx(6.0)  # 2 of 3 is enough
    assert list(s.columns) == ["SHI", "FOL"]
    assert min_valid_count(3) == 2 and min_valid_count(4) == 3 and min_valid_count(5, 1) == 1
    keyed = scale_scores(d, {"X": ["SHI3", "SHI4"]}, keys={"SHI4": -1}, bounds=(1, 7), min_valid=1)
    assert keyed["X"].tolist() == pytest.approx([3.0, 6.0, 4.5])
    assert scale_score(pd.DataFrame({"a": [1, np.nan], "b": [3, np.nan]})).tolist()[0] == 2.0
