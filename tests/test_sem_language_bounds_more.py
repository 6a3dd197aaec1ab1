"""lower() / upper() bounds beyond one complete-data group, against lavaan 0.6.14
(tests/fixtures/language/make_bounds_more.R -> bounds_more.json): two groups (an upper bound on a loading,
a lower bound on a residual variance), FIML under ML and MLR (one and two groups), a second test under
MLR and MLM, and bounds beside constraints: with an inequality or a nonlinear equality lavaan imposes the
box (nlminb.constr); with linear equalities (shared labels, group.equal, 'b == c') it drops the bounds with
a warning, and so do we. Estimates, SEs, std.all and every fitMeasures() key 1e-3 (logl/AIC/BIC 1e-5);
lavInspect(fit, "test") 1e-3."""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "bounds_more.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
DROPPED = "bounds have no effect in the presence of linear equality constraints"


@cache  # each case fitted once per module (the tests only read the result)
def _run(name: str):
    case = REF["cases"][name]
    return survey.cfa(REF["models"][case["model"]], DATA[case["data"]], **case["options"])


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_bounds_equal_lavaan(name):
    case = REF["cases"][name]
    res = _run(name)
    fm = all_fit_measures(res)
    compared = 0
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
        compared += 1
    assert compared > 30
    ref = pd.DataFrame(case["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref else [])
    both = res.estimates().merge(ref, on=keys, suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)
    tests = res.tests()
    assert set(tests) == set(case["test"])
    for test, values in case["test"].items():
        for key in ("stat", "df", "pvalue", "scaling.factor", "shift.parameter"):
            if isinstance(values.get(key), (int, float)):
                assert tests[test][key] == pytest.approx(values[key], abs=1e-3), (test, key)
    dropped = [w for w in res.warnings if w.code == "bounds_ignored"]
    assert bool(dropped) == any(DROPPED in w for w in case["warnings"])


@pytest.mark.parametrize("name", ["mg", "fiml", "mg_fiml_lower", "mlr_sb", "inequality", "nonlinear"])
def test_the_bound_binds(name):
    res = _run(name)
    est = res.estimates()
    if "lower" in REF["cases"][name]["model"]:
        rows = est[(est["lhs"] == "x3") & (est["op"] == "~~") & (est["rhs"] == "x3")]
        assert (rows["est"] >= 0.9 - 1e-8).all() and (np.abs(rows["est"] - 0.9) < 1e-8).any()
    else:
        rows = est[(est["lhs"] == "textual") & (est["op"] == "=~") & (est["rhs"] == "x5")]
        assert (rows["est"] <= 1.0 + 1e-8).all() and (np.abs(rows["est"] - 1.0) < 1e-8).any()


def test_dropped_bounds_give_the_unbounded_fit():
    bounded = _run("labels").estimates()
    free = survey.cfa(REF["models"]["labels"].replace("upper(1.0)*", ""), DATA["hs"]).estimates()
    np.testing.assert_allclose(bounded["est"], free["est"], atol=1e-10)
    assert bounded.set_index(["lhs", "op", "rhs"]).loc[("textual", "=~", "x5"), "est"] > 1.05


def test_per_group_bounds_and_group_blocks():
    """lower(c(a, b)) gives one bound per group; a bound inside 'group:' holds in that group only."""
    from survey.sem.syntax.bounds import model_bounds

    hs = DATA["hs"]
    vec = survey.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + upper(c(1.0, NA))*x5 + x6\n"
                     "speed =~ x7 + x8 + x9", hs, group="school")
    rows = vec.estimates().query("lhs == 'textual' and rhs == 'x5'").set_index("group")["est"]
    assert rows[1] == pytest.approx(1.0, abs=1e-8)
    free = REF["cases"]["mg"]["estimates"]
    want = [e["est"] for e in free if e["lhs"] == "textual" and e["rhs"] == "x5" and e["group"] == 2][0]
    assert rows[2] == pytest.approx(want, abs=1e-3)  # group 2's loading is below 1 anyway
    blocks = ("group: Pasteur\nf =~ x1 + x2 + upper(0.5)*x3\ngroup: Grant-White\nf =~ x1 + x2 + x3")
    res = survey.cfa(blocks, hs, group="school")
    lower, upper = model_bounds(blocks, res.mg)
    assert np.isfinite(upper).sum() == 1 and upper[np.isfinite(upper)][0] == 0.5
    assert res.estimates().query("rhs == 'x3' and op == '=~'")["est"].min() <= 0.5 + 1e-8


def _same_printed_line(a: str, b: str) -> None:
    number = r"-?\d+\.\d{3}"
    assert len(a) == len(b) and re.sub(number, "#", a) == re.sub(number, "#", b), (a, b)
    for x, y in zip(re.findall(number, a), re.findall(number, b), strict=True):
        assert abs(float(x) - float(y)) <= 0.0011, (a, b)


@pytest.mark.parametrize("name", ["mg", "mg_lower", "fiml", "mlr_sb"])
def test_summary_marks_estimates_on_their_bound_as_lavaan_prints(name):
    """R snapshots (make_bounds_summaries.R): "(ub)" / "(lb)" in the label column and no p-value for an
    estimate on its bound; every estimate line as lavaan prints it. (summaries_bounds/inequality.txt is not
    compared: there lavaan prints the SE of the parameter held by the active 'b > 1.3' as NA, we print a
    blank (SE 0).)"""
    ours = _run(name).summary(fit_measures=False, standardized=True, rsquare=False).splitlines()
    if "Warnings:" in ours:
        ours = ours[: ours.index("Warnings:")]
    ref = (HERE / "summaries_bounds" / f"{name}.txt").read_text().splitlines()
    start = ref.index("Parameter Estimates:")
    ours, ref = ours[ours.index("Parameter Estimates:"):], ref[start:]
    for lines in (ours, ref):
        while lines and not lines[-1].strip():
            lines.pop()
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref, strict=True):
        _same_printed_line(a, b)
    assert any("(ub)" in line or "(lb)" in line for line in ours)
