"""lavaan's threshold formulas ``item | t1`` with ``group=`` (ordered items): a single label across
groups, c() vectors of labels / values, fixed values with ``group_equal=["thresholds"]`` (lavaan 0.6.14
then fixes them in every group and frees the latent means and scale factors of group 2), theta
parameterization, start(c()) with ULSMV. Reference: tests/fixtures/threshold_groups/make_threshold_groups.R
(lavaan 0.6.14); est, se, std.all and the fit measures within 1e-3."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "threshold_groups"
REF = json.loads((HERE / "threshold_groups.json").read_text())
CASES = sorted(k for k in REF if isinstance(REF[k], dict))
DATA = pd.read_csv(HERE / "hs_cut_school.csv").drop(columns="id")


def _opts(case: dict) -> dict:
    out = {}
    for k, v in (case["opts"] or {}).items():
        out[k.replace(".", "_")] = [v] if k == "group.equal" and isinstance(v, str) else v
    return out


@cache  # each case fitted once per module (the tests only read the result)
def _fit(name: str):
    case = REF[name]
    return survey.cfa(case["model"], DATA, ordered=True, group="school", **_opts(case))


@pytest.mark.parametrize("name", CASES)
def test_threshold_formulas_with_groups_equal_lavaan(name):
    res = _fit(name)
    ours = res.estimates().set_index(["lhs", "op", "rhs", "group"])
    for row in REF[name]["estimates"]:
        key = (row["lhs"], row["op"], row["rhs"], row["group"])
        got = ours.loc[key]
        for col in ("est", "se", "std.all"):
            want = row[col]
            if want is None:
                continue
            assert float(got[col]) == pytest.approx(want, abs=1e-3, rel=1e-3), (key, col)
        if row["op"] == "|" and not str(row["label"] or "").startswith("."):
            assert (got["label"] or "") == (row["label"] or ""), key
    fm = res.fit_measures()
    for k, want in REF[name]["fit_measures"].items():
        if want is None or (isinstance(want, float) and math.isnan(want)):
            continue
        assert fm[k] == pytest.approx(want, abs=1e-3, rel=1e-3), k


def test_single_label_across_groups_warns_as_lavaan():
    assert any("single label" in str(w) for w in _fit("shared").warnings)


def test_a_vector_in_one_group_is_lavaans_error():
    model = "visual =~ r1 + r2 + r3\ntextual =~ r4 + r5 + r6\nr1 | c(a1, a2)*t1"
    with pytest.raises(SurveyInputError, match="wrong number of arguments in modifier") as info:
        survey.cfa(model, DATA, ordered=True)
    assert "\n" not in str(info.value)
    assert "wrong number of arguments in modifier (a1,a2) of element r1|t1" in REF["one_group_vector_error"]


RES = json.loads((HERE / "threshold_results.json").read_text())
ONE = pd.read_csv(HERE.parent / "ordinal_labels" / "hs_cut.csv").drop(columns="id")


@cache  # each case fitted once per module (the tests only read the result)
def _one(name: str):
    case = RES[name]
    return survey.cfa(case["model"], ONE, ordered=True, **{k: v for k, v in (case["opts"] or {}).items()})


@pytest.mark.parametrize("name", sorted(RES))
def test_vcov_after_threshold_formulas_equals_lavaan(name):
    res = _one(name)
    v = res.vcov()
    names = RES[name]["vcov_names"]
    assert sorted(v.index) == sorted(names)
    seen: dict[str, int] = {}
    order = []  # lavaan's rows in our order (RAM parameters, then thresholds; repeated labels in turn)
    for n in v.index:
        order.append([i for i, m in enumerate(names) if m == n][seen.get(n, 0)])
        seen[n] = seen.get(n, 0) + 1
    for got, key in ((v, "vcov"), (res.vcov_std(), "vcov_std")):
        want = np.array(RES[name][key])[np.ix_(order, order)]
        assert np.abs(got.to_numpy() - want).max() < 1e-5, key


@pytest.mark.parametrize("name", sorted(RES))
def test_score_tests_after_threshold_formulas_equal_lavaan(name):
    res = _one(name)
    want = RES[name]["score_uni"]
    if not want:  # no equality constraint: lavaan's "no equality constraints found in model."
        with pytest.raises(SurveyInputError, match="no equality constraints"):
            res.score_tests()
        return
    got = res.score_tests()
    assert got["X2"].to_numpy() == pytest.approx([w["X2"] for w in want], abs=1e-3)
    assert got.attrs["total"]["X2"] == pytest.approx(RES[name]["score_total"][0]["X2"], abs=1e-3)
    assert list(got["op"]) == ["|"] * len(want)


@pytest.mark.parametrize("name", sorted(RES))
def test_one_group_estimates_with_defined_and_equal_threshold_labels_equal_lavaan(name):
    res = _one(name)
    ours = res.estimates().set_index(["lhs", "op", "rhs"])
    for row in RES[name]["estimates"]:
        got = ours.loc[(row["lhs"], row["op"], row["rhs"])]
        for col in ("est", "se", "std.all"):
            assert float(got[col]) == pytest.approx(row[col], abs=1e-3, rel=1e-3), (row["lhs"], col)
    fm = res.fit_measures()
    for k, want in RES[name]["fit_measures"].items():
        assert fm[k] == pytest.approx(want, abs=1e-3, rel=1e-3), k
    assert res.summary() and res.to_dict()["estimates"]


@pytest.mark.parametrize("extra", ["a > b", "a == 2*b", "visual =~ r1 + a*r2 + r3"])
def test_other_uses_of_threshold_labels_are_refused_in_one_line(extra):
    model = "visual =~ r1 + r2 + r3\ntextual =~ r4 + r5 + r6\nr1 | a*t1\nr2 | b*t1\n" + extra
    with pytest.raises(SurveyInputError, match="not available yet") as info:
        survey.cfa(model, ONE, ordered=True)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", sorted(RES))
def test_modindices_after_threshold_formulas_equal_lavaan(name):
    res = _one(name)
    if res.parameterization == "theta":  # lavaan also scores the items' fixed residual variances there
        with pytest.raises(SurveyInputError, match="parameterization='theta' is not available yet") as info:
            res.modindices()
        assert "\n" not in str(info.value)
        return
    got = res.modindices()
    want = RES[name]["modindices"]
    assert [tuple(k) for k in got[["lhs", "op", "rhs"]].to_numpy()] == [(m["lhs"], m["op"], m["rhs"])
                                                                          for m in want]
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert got[col].to_numpy() == pytest.approx([m[col] for m in want], abs=1e-3, rel=1e-3), col


def test_cli_fits_threshold_vectors_with_groups(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(REF["vector_equal"]["model"] + "\n")
    try:
        main(["fit", str(model), str(HERE / "hs_cut_school.csv"), "--ordered", "r1,r2,r3,r4,r5,r6",
              "--group", "school", "--group-equal", "thresholds", "--json"])
    except SystemExit as exc:
        assert not exc.code
    got = json.loads(capsys.readouterr().out)
    want = REF["vector_equal"]["fit_measures"]["chisq"]
    assert got["fit_measures"]["chisq"] == pytest.approx(want, abs=1e-3)
    labels = {e["group"]: e["label"] for e in got["estimates"]
              if (e["lhs"], e["op"], e["rhs"]) == ("r1", "|", "t1")}
    assert labels == {1: "a1", 2: "a2"}
