"""Screens, their configuration, the exclusion flow (n_raw = n_analytic + n_excluded), the quality report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.quality import (
    STEPS,
    ScreenConfig,
    ScreenDesign,
    design_from_instrument,
    exclusion_flow,
    quality_report,
    run_screens,
)
from survey.quality.screens import REASONS, attention_failures, keyed, screen_speeders

ITEMS = [f"X{i}" for i in range(1, 13)]


def _design() -> ScreenDesign:
    factors = [ITEMS[0:4], ITEMS[4:8], ITEMS[8:12]]
    keys = {c: (-1 if c in ("X4", "X8", "X12") else 1) for c in ITEMS}
    return ScreenDesign(ITEMS, factors, keys, {c: (1.0, 7.0) for c in ITEMS}, {"ATT1": 2.0}, 13)


def _data(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=(n, 3))
    cols = {}
    for j, c in enumerate(ITEMS):
        f = j // 4
        sign = -1 if c in ("X4", "X8", "X12") else 1
        cols[c] = np.clip(np.round(4 + 1.5 * sign * eta[:, f] + rng.normal(0, 0.7, n)), 1, 7)
    df = pd.DataFrame(cols)
    df["ATT1"] = 2.0
    df["Status"] = 0
    df["DistributionChannel"] = "anonymous"
    df["Finished"] = 1
    df["Progress"] = 100
    df["Duration"] = rng.uniform(200, 400, n)
    return df


def test_each_screen_flags_its_planted_row():
    df = _data()
    df.loc[0, "Status"] = 1
    df.loc[1, "DistributionChannel"] = "Preview"
    df.loc[2, "Finished"] = 0
    df.loc[3, "Progress"] = 55
    df.loc[4, ITEMS] = df.loc[5, ITEMS].to_numpy()
    df.loc[6, "Duration"] = 20  # 20 s / 13 items < 2 s per item
    df.loc[7, "Duration"] = 50  # > 2 s per item, but < 0.3 x median (~300 s)
    df.loc[8, "ATT1"] = 5
    df.loc[9, ITEMS] = 4
    res = run_screens(df, _design(), ScreenConfig(), ids=pd.Series([f"R{i}" for i in range(len(df))]))
    f = res.flags
    assert f.index[f["preview"]].tolist() == [0, 1]
    assert f.index[f["incomplete"]].tolist() == [2, 3]
    assert f.index[f["duplicate_answers"]].tolist() == [5]
    assert f.index[f["speeder_per_item"]].tolist() == [6]
    assert f.index[f["speeder_relative"]].tolist() == [6, 7]
    assert f.index[f["attention"]].tolist() == [8]
    assert f.index[f["longstring"]].tolist() == [9]
    assert not f["duplicate_id"].any()
    assert set(f.columns) == set(REASONS)


def test_duplicate_ids_keep_first_and_ignore_ineligible():
    df = _data(10)
    ids = pd.Series(["A", "A", "B", "B", "C", "D", "E", "F", "G", "H"])
    df.loc[2, "Status"] = 1  # the first "B" is a preview: the second one is kept
    f = run_screens(df, _design(), ScreenConfig(), ids=ids).flags
    assert f.index[f["duplicate_id"]].tolist() == [1]


def test_configuration_switches_and_thresholds():
    df = _data()
    df.loc[8, "ATT1"] = 5
    df.loc[6, "Duration"] = 20
    off = ScreenConfig(attention=False, speeders=False)
    f = run_screens(df, _design(), off).flags
    assert not f["attention"].any() and not f["speeder_per_item"].any()
    two = ScreenConfig(attention_failures_to_exclude=2)
    assert not run_screens(df, _design(), two).flags["attention"].any()
    with pytest.raises(ValueError):
        ScreenConfig(unknown_option=True)
    strict = ScreenConfig(careless_exclude=["longstring", "mahad", "evenodd", "psychsyn"])
    assert run_screens(df, _design(), strict).flags[["mahad", "evenodd"]].to_numpy().dtype == bool


def test_attention_missing_counts_as_failure_by_default():
    df = pd.DataFrame({"ATT1": [2, np.nan, 3], "ATT2": [6, 6, np.nan]})
    assert attention_failures(df, {"ATT1": 2, "ATT2": 6}).tolist() == [0, 1, 2]
    assert attention_failures(df, {"ATT1": 2, "ATT2": 6}, missing_fails=False).tolist() == [0, 0, 1]


def test_relative_speeder_uses_median_of_eligible_rows():
    d = pd.Series([100.0, 100, 100, 10, 1000, 1000])
    eligible = pd.Series([True, True, True, True, False, False])
    out = screen_speeders(d, 10, eligible, ScreenConfig(min_seconds_per_item=None))
    assert out["speeder_relative"].tolist() == [False, False, False, True, False, False]


def test_keyed_reverses_only_negative_items():
    df = _data(5)
    k = keyed(df[ITEMS], _design())
    assert (k["X4"] == 8 - df["X4"]).all() and (k["X1"] == df["X1"]).all()


def test_flow_lists_every_reason_and_counts_first_step():
    flags = pd.DataFrame(False, index=range(5), columns=REASONS)
    flags.loc[0, ["preview", "attention"]] = True
    flags.loc[1, ["speeder_per_item", "speeder_relative", "longstring"]] = True
    flags.loc[3, "attention"] = True
    flow = exclusion_flow(flags)
    table = flow.flow.set_index("step")
    assert table.loc["preview", "n_excluded"] == 1
    assert table.loc["speeder", "n_excluded"] == 1
    assert table.loc["attention", "n_excluded"] == 1  # row 0 was already out at the preview step
    assert table.loc["analytic", "n_remaining"] == 2
    assert flow.exclusions["reasons"].tolist() == [
        "preview;attention",
        "speeder_per_item;speeder_relative;longstring",
        "attention",
    ]
    assert flow.excluded_by_reason() == {
        "preview": 1,
        "speeder_per_item": 1,
        "speeder_relative": 1,
        "attention": 2,
        "longstring": 1,
    }
    assert [s for s, _, _ in STEPS] == table.index[1:-1].tolist()
    assert "Analytic sample" in flow.summary() and "<table" in flow._repr_html_()


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40).flatmap(
        lambda n: st.lists(
            st.lists(st.booleans(), min_size=len(REASONS), max_size=len(REASONS)), min_size=n, max_size=n
        )
    )
)
def test_flow_accounts_for_every_row(rows):
    flags = (
        pd.DataFrame(rows, columns=REASONS, dtype=bool) if rows else pd.DataFrame(columns=REASONS, dtype=bool)
    )
    flow = exclusion_flow(flags)
    assert flow.n_raw == len(rows) == flow.n_analytic + flow.n_excluded
    assert flow.flow["n_excluded"].iloc[1:-1].sum() == flow.n_excluded
    remaining = flow.flow["n_remaining"].to_numpy()
    assert (np.diff(remaining[:-1]) <= 0).all()
    assert len(flow.exclusions) == flow.n_excluded
    for _, r in flow.exclusions.iterrows():
        assert set(r["reasons"].split(";")) == set(flags.columns[flags.iloc[r["row"] - 1]])


def test_design_from_instrument():
    from survey.instrument import load_instrument

    inst = load_instrument("follow-drivers@1.1.0")
    d = design_from_instrument(inst)
    assert d.likert[:4] == ["SHI1", "SHI2", "SHI3", "SHI4"] and "CON5" in d.likert and len(d.likert) == 28
    assert d.attention == {"ATT1": 2.0, "ATT2": 6.0}
    assert d.keys["SHI4"] == -1 and len(d.factors) == 7
    assert d.n_items == 36  # 28 Likert + 2 checks + 2 behaviour + 4 demographics (not the comment)


def test_quality_report_json_shape():
    df = _data(80)
    rep = quality_report(df, _design())
    out = rep.to_dict()
    first = out["respondents"][0]
    for key in (
        "row",
        "longstring",
        "irv",
        "mahad",
        "evenodd",
        "psychsyn",
        "mahad_flag",
        "attention_failures",
    ):
        assert key in first
    assert out["summary"]["n"] == 80 and set(out["summary"]["flagged"]) == {
        "longstring",
        "irv",
        "mahad",
        "evenodd",
        "psychsyn",
    }
    assert "respondents" in rep.summary()
