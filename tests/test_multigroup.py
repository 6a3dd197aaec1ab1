"""Multi-group ML (survey.sem.multigroup) against lavaan 0.6.14.

Reference: tests/fixtures/invariance/make_reference.R (reference.json), data from make_data.py.
Every fit measure, estimate, standard error and standardized value within 1e-3 of lavaan; score tests of
the equality constraints (lavTestScore) within 1e-3.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import MultiGroupResult, fit
from survey.sem.multigroup import fit_multigroup
from survey.sem.syntax.groups import group_partable, normalize_group_equal

HERE = Path(__file__).parent / "fixtures" / "invariance"
REF = json.loads((HERE / "reference.json").read_text())["cases"]
TOL = 1e-3


def _list(value) -> list[str]:
    value = [value] if isinstance(value, str) else list(value or [])
    return [v for v in value if v]


@cache
def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / name)


@cache
def _fit(case: str, key: str, step: str | None = None) -> MultiGroupResult:
    c = REF[case]
    spec = c["steps"][step] if step else c[key]
    group = "grp3" if key == "three_groups" else c["group"]
    return fit_multigroup(
        spec.get("model", c["model"]),
        _data(c["data"]),
        group,
        group_equal=_list(spec["group_equal"]),
        group_partial=_list(spec["group_partial"]),
    )


def _spec(case: str, key: str, step: str | None):
    return REF[case]["steps"][step] if step else REF[case][key]


CASES = [
    (case, "steps", step)
    for case in ("holzinger", "planted")
    for step in ("configural", "metric", "scalar", "strict")
]
CASES += [
    ("holzinger", "partial_scalar_1", None),
    ("holzinger", "partial_scalar_2", None),
    ("holzinger", "partial_strict", None),
    ("holzinger", "structural", None),
    ("holzinger", "covariates", None),
    ("planted", "partial_scalar", None),
    ("planted", "partial_strict_all", None),
    ("planted", "three_groups", None),
]
IDS = [f"{c}-{s or k}" for c, k, s in CASES]


@pytest.mark.parametrize(("case", "key", "step"), CASES, ids=IDS)
def test_fit_measures_match_lavaan(case, key, step):
    res = _fit(case, key, step)
    ref = _spec(case, key, step)
    assert res.converged
    assert res.group_labels == _list(ref["group_labels"])
    fm = res.fit_measures()
    for name, value in ref["fit_measures"].items():
        assert fm[name] == pytest.approx(value, abs=TOL), name


@pytest.mark.parametrize(("case", "key", "step"), CASES, ids=IDS)
def test_estimates_match_lavaan(case, key, step):
    res = _fit(case, key, step)
    ref = pd.DataFrame(_spec(case, key, step)["estimates"])
    ref["rhs"] = ref["rhs"].fillna("")
    est = res.estimates()
    assert len(est) == len(ref)
    merged = ref.merge(est, on=["lhs", "op", "rhs", "group"], suffixes=("_lavaan", ""))
    assert len(merged) == len(ref)
    for col in ("est", "se", "std.lv", "std.all"):
        diff = np.abs(merged[col] - merged[f"{col}_lavaan"]).to_numpy(dtype=float)
        assert np.nanmax(diff) < TOL, col
        assert np.array_equal(
            np.isnan(merged[col].to_numpy(dtype=float)),
            np.isnan(merged[f"{col}_lavaan"].to_numpy(dtype=float)),
        ), col


SCORE_CASES = [
    ("holzinger", "score", "metric"),
    ("holzinger", "score", "scalar"),
    ("planted", "score", "metric"),
    ("planted", "score", "scalar"),
    ("holzinger", "partial_scalar_1", None),
    ("holzinger", "partial_scalar_2", None),
    ("planted", "three_groups", None),
    ("holzinger", "structural", None),
]


@pytest.mark.parametrize(
    ("case", "key", "step"), SCORE_CASES, ids=[f"{c}-{s or k}" for c, k, s in SCORE_CASES]
)
def test_score_tests_match_lavtestscore(case, key, step):
    if key == "score":
        res = _fit(case, "steps", step)
        ref = pd.DataFrame(REF[case]["score"][step])
    else:
        res = _fit(case, key)
        ref = pd.DataFrame(REF[case][key]["score"])
    ref["rhs"] = ref["rhs"].fillna("")
    tests = res.score_tests()
    assert len(tests) == len(ref)
    merged = ref.merge(tests, on=["lhs", "op", "rhs", "group.a", "group.b"], suffixes=("_lavaan", ""))
    assert len(merged) == len(ref)
    assert np.max(np.abs(merged["X2"] - merged["X2_lavaan"])) < TOL
    assert np.max(np.abs(merged["p.value"] - merged["p.value_lavaan"])) < TOL
    labelled = (tests["op"] == "~") & (tests["lhs"] == "speed")  # 'speed ~ b1*textual': a user label
    assert set(tests.loc[labelled, "source"]) <= {"label"}
    assert set(tests.loc[~labelled, "source"]) == {"group_equal"}


def test_planted_intercept_has_the_largest_score_test():
    tests = _fit("planted", "steps", "scalar").score_tests()
    top = tests.sort_values("X2", ascending=False).iloc[0]
    assert (top["lhs"], top["op"]) == ("y3", "~1")


def test_api_fit_dispatches_to_multigroup():
    c = REF["holzinger"]
    res = fit(c["model"], _data(c["data"]), group="school", group_equal=["loadings", "intercepts"])
    assert isinstance(res, MultiGroupResult)
    assert res.fit_measures()["chisq"] == pytest.approx(
        c["steps"]["scalar"]["fit_measures"]["chisq"], abs=TOL
    )
    res2 = fit(
        c["model"],
        _data(c["data"]),
        group="school",
        group_equal="loadings,intercepts",
        group_partial=["x3~1"],
    )
    ref = c["partial_scalar_1"]["fit_measures"]
    assert res2.fit_measures()["chisq"] == pytest.approx(ref["chisq"], abs=TOL)


def test_estimates_table_layout_and_json():
    res = _fit("holzinger", "steps", "metric")
    est = res.estimates()
    assert list(est.columns[:5]) == ["lhs", "op", "rhs", "label", "group"]
    assert set(est["group"]) == {1, 2}
    assert list(est.loc[est["group"] == 1, "group.label"].unique()) == ["Pasteur"]
    # equal loadings: the same estimate in both groups
    load = est[(est["op"] == "=~") & (est["rhs"] == "x2")]
    assert load["est"].nunique() == 1
    # latent means fixed to 0 in every group without equal intercepts
    means = est[(est["op"] == "~1") & est["lhs"].isin(["visual", "textual", "speed"])]
    assert (means["est"] == 0).all() and (means["se"] == 0).all()
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["group_labels"] == ["Pasteur", "Grant-White"]
    assert d["nobs_groups"] == {"Pasteur": 156, "Grant-White": 145}
    assert math.isclose(d["fit_measures"]["df"], 54)
    assert set(res.r2()) == {"Pasteur", "Grant-White"}
    assert "Group 2 [Grant-White]" in res.summary()
    assert res.vcov().shape == (res.mg.npar, res.mg.npar)


def test_latent_means_free_once_intercepts_equal():
    pt = group_partable("f =~ a + b + c", 3, ["loadings", "intercepts"])
    means = pt[(pt["op"] == "~1") & (pt["lhs"] == "f")]
    assert list(means["free"] > 0) == [False, True, True]
    pt = group_partable("f =~ a + b + c", 3, ["loadings", "intercepts", "means"])
    means = pt[(pt["op"] == "~1") & (pt["lhs"] == "f")]
    assert not (means["free"] > 0).any()


def test_group_partial_releases_one_parameter():
    pt = group_partable("f =~ a + b + c", 2, ["loadings", "intercepts"], ["b~1"])
    ints = pt[(pt["op"] == "~1") & (pt["lhs"].isin(["a", "b"]))]
    a = ints[ints["lhs"] == "a"]["free"]
    b = ints[ints["lhs"] == "b"]["free"]
    assert a.nunique() == 1 and b.nunique() == 2


def test_bad_input_is_reported():
    c = REF["holzinger"]
    data = _data(c["data"])
    with pytest.raises(SurveyInputError, match="grouping column"):
        fit_multigroup(c["model"], data, "nope")
    with pytest.raises(SurveyInputError, match="group_equal"):
        normalize_group_equal("loadings,slopes")
    with pytest.raises(SurveyInputError, match="group_partial"):
        fit_multigroup(c["model"], data, "school", group_equal=["loadings"], group_partial=["x99~1"])
    with pytest.raises(SurveyInputError, match="estimator"):
        fit_multigroup(c["model"], data, "school", estimator="PML")
    with pytest.raises(SurveyInputError, match="fewer than two groups"):
        fit_multigroup(c["model"], data.assign(one="a"), "one")


def test_rows_missing_on_group_are_left_out_with_a_warning():
    c = REF["holzinger"]
    data = _data(c["data"]).copy()
    data.loc[[0, 1], "school"] = np.nan
    res = fit_multigroup(c["model"], data, "school")
    assert res.nobs == 299
    assert any(w.code == "group_missing" for w in res.warnings)


@pytest.mark.parametrize("step", ["configural", "metric", "scalar", "strict"])
def test_mlr_matches_lavaan(step):
    """estimator="MLR": Huber-White SEs, Yuan-Bentler (Mplus) scaled test, scaled/robust CFI, TLI, RMSEA."""
    c = REF["holzinger"]
    spec = c["mlr"]["steps"][step]
    res = fit_multigroup(
        c["model"], _data(c["data"]), "school", group_equal=_list(spec["group_equal"]), estimator="MLR"
    )
    fm = res.fit_measures()
    for name, value in spec["fit_measures"].items():
        assert fm[name] == pytest.approx(value, abs=TOL), name
    ref = pd.DataFrame(spec["estimates"])
    ref["rhs"] = ref["rhs"].fillna("")
    merged = ref.merge(res.estimates(), on=["lhs", "op", "rhs", "group"], suffixes=("_lavaan", ""))
    assert len(merged) == len(ref)
    assert np.nanmax(np.abs(merged["est"] - merged["est_lavaan"])) < TOL
    assert np.nanmax(np.abs(merged["se"] - merged["se_lavaan"])) < TOL
