"""Rank distributions from replicates and supported orderings (survey.sem.ranks).

Checked on hand-built replicate tables whose rank distributions are known exactly, on simulated
replicates with known true ordering (recovery), and against the lavaan-based pairwise table of
tests/fixtures/compare (via survey.sem.compare).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.compare import free_parameters, pairwise_path_differences
from survey.sem.ranks import (
    monte_carlo_replicates,
    rank_intervals,
    rank_replicates,
    strongest_candidates,
    supported_orderings,
)

FIXTURES = Path(__file__).parent / "fixtures" / "compare"


def test_rank_distribution_exact():
    # 100 replicates: A is largest in 70, B in 30; C always smallest
    a = np.r_[np.full(70, 0.5), np.full(30, 0.3)]
    b = np.r_[np.full(70, 0.4), np.full(30, 0.45)]
    reps = pd.DataFrame({"A": a, "B": b, "C": np.full(100, 0.1)})
    out = rank_intervals(reps, level=0.95)
    assert out.loc["A", "p.strongest"] == pytest.approx(0.70)
    assert out.loc["B", "p.rank1"] == pytest.approx(0.30)
    assert out.loc["B", "p.rank2"] == pytest.approx(0.70)
    assert out.loc["C", "p.rank3"] == 1.0
    assert out.loc["A", "mean.rank"] == pytest.approx(1.3)
    # 2.5% and 97.5% quantiles (inverted CDF) of A's ranks {1 x 70, 2 x 30}
    assert out.loc["A", ["rank.lower", "rank.upper"]].tolist() == [1, 2]
    assert out.loc["C", ["rank.lower", "rank.upper"]].tolist() == [3, 3]
    # with level 0.5: quantiles 0.25 / 0.75 -> A in [1, 2]; at level 0.4 (0.3 / 0.7) A's interval is [1, 1]
    assert rank_intervals(reps, level=0.4).loc["A", ["rank.lower", "rank.upper"]].tolist() == [1, 1]
    probs = out[[f"p.rank{r}" for r in (1, 2, 3)]]
    assert np.allclose(probs.sum(axis=1), 1.0) and np.allclose(probs.sum(axis=0), 1.0)


def test_rank_intervals_recovery_and_options():
    rng = np.random.default_rng(11)
    truth = pd.Series(
        [0.35, 0.33, 0.21, 0.15, 0.10, -0.05], index=["EMO", "SHI", "AUT", "PEER", "SKL", "CON"]
    )
    reps = pd.DataFrame(rng.normal(truth.to_numpy(), 0.03, size=(2000, 6)), columns=truth.index)
    reps.iloc[5, 2] = np.nan  # a failed bootstrap replicate
    out = rank_intervals(reps, estimates=truth)
    assert out.attrs["n_dropped"] == 1 and out.attrs["n_replicates"] == 1999
    assert out["rank"].tolist() == [1, 2, 3, 4, 5, 6]
    # every interval covers the true rank; EMO vs SHI undecided, CON clearly last
    assert all(out["rank.lower"] <= out["rank"]) and all(out["rank"] <= out["rank.upper"])
    assert out.loc["EMO", ["rank.lower", "rank.upper"]].tolist() == [1, 2]
    assert out.loc["CON", ["rank.lower", "rank.upper"]].tolist() == [6, 6]
    assert 0.5 < out.loc["EMO", "p.strongest"] < 0.9
    assert out["p.strongest"].sum() == pytest.approx(1.0)
    bonf = rank_intervals(reps, adjust="bonferroni")
    assert all(bonf["rank.lower"] <= out["rank.lower"]) and all(bonf["rank.upper"] >= out["rank.upper"])
    # absolute strength
    neg = reps.assign(CON=-0.5)
    assert rank_intervals(neg, absolute=True).loc["CON", "rank.upper"] == 1
    assert rank_replicates(pd.DataFrame({"a": [1.0], "b": [1.0], "c": [0.0]})).iloc[0].tolist() == [1, 1, 3]


def test_rank_intervals_bad_input():
    with pytest.raises(SurveyInputError):
        rank_intervals(pd.DataFrame({"a": [1.0, 2.0]}))
    with pytest.raises(SurveyInputError):
        rank_intervals(pd.DataFrame({"a": [1.0, 2.0], "b": [0.0, 1.0]}), level=95)
    with pytest.raises(SurveyInputError):
        rank_intervals(pd.DataFrame({"a": [1.0, np.nan], "b": [0.0, 1.0]}))


def test_supported_orderings_from_holm_table():
    pw = pd.DataFrame(
        {
            "a": ["A", "A", "B"],
            "b": ["B", "C", "C"],
            "diff": [0.05, 0.30, 0.25],
            "pvalue.holm": [0.40, 0.001, 0.02],
        }
    )
    out = supported_orderings(pw, alpha=0.05)
    assert out["statement"].tolist() == ["A > C", "B > C"]
    assert out["diff"].tolist() == [0.30, 0.25]
    pw2 = pw.assign(diff=-pw["diff"])
    assert supported_orderings(pw2)["statement"].tolist() == ["C > A", "C > B"]
    assert supported_orderings(pw, alpha=0.01)["statement"].tolist() == ["A > C"]
    assert strongest_candidates(pw) == ["A", "B"]
    assert strongest_candidates(pw2) == ["C"]
    with pytest.raises(SurveyInputError):
        supported_orderings(pw.drop(columns="pvalue.holm"))


def test_supported_orderings_on_lavaan_pairwise():
    ref = json.loads((FIXTURES / "reference.json").read_text())
    names = ref["vcov"]["names"]
    vcov = pd.DataFrame(np.array(ref["vcov"]["matrix"]), index=names, columns=names)
    theta = free_parameters(pd.DataFrame(ref["estimates"]), vcov)
    labels = ["b_SHI", "b_SKL", "b_AUT", "b_EMO", "b_CON", "b_PEER"]
    pw = pairwise_path_differences(theta, vcov, labels)
    want = pd.DataFrame(ref["pairwise"])
    sig = want[want["pvalue.holm"] < 0.05]
    out = supported_orderings(pw)
    assert len(out) == len(sig) > 0
    for row in sig.itertuples():
        stronger, weaker = (row.a, row.b) if row.diff > 0 else (row.b, row.a)
        assert f"{stronger} > {weaker}" in set(out["statement"])
    assert "b_CON" not in strongest_candidates(pw)


def test_monte_carlo_replicates_recover_moments_and_rank_lavaan_paths():
    ref = json.loads((FIXTURES / "reference.json").read_text())
    names = ref["vcov_std"]["names"]
    vstd = pd.DataFrame(np.array(ref["vcov_std"]["matrix"]), index=names, columns=names)
    std = pd.DataFrame(ref["std_paths"]).set_index("label")["est.std"]
    labels = list(std.index)
    reps = monte_carlo_replicates(std, vstd, labels, n=20000, seed=3)
    assert reps.equals(monte_carlo_replicates(std, vstd, labels, n=20000, seed=3))
    assert np.max(np.abs(reps.mean() - std)) < 0.002
    assert np.max(np.abs(reps.cov().to_numpy() - vstd.loc[labels, labels].to_numpy())) < 2e-4
    out = rank_intervals(reps, estimates=std)
    # EMO (.351) and SHI (.334) cannot be told apart; CON (.080) is last or next to last
    assert out.loc["b_EMO", "rank.lower"] == 1 and out.loc["b_SHI", "rank.lower"] == 1
    assert out.loc[["b_EMO", "b_SHI"], "p.strongest"].sum() > 0.99
    assert out.loc["b_CON", "rank.upper"] == 6 and out.loc["b_CON", "rank"] == 6
    with pytest.raises(SurveyInputError):
        monte_carlo_replicates(std, vstd, ["b_NOPE"])
