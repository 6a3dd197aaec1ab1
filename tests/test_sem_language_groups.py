"""Per-group modifier vectors and explicit constraints through the engine, against lavaan 0.6.14
(tests/fixtures/language/make_groups.R -> groups.json): ``c(a1, a2)*x``, ``c(1, NA)*x``, ``start(c(..))``
with ``group=`` (also with group.equal / group.partial, MLR, MLM, FIML) and ``==`` / ``<`` / ``>`` /
nonlinear constraints under multi-group, FIML, MLR and MLM fits. Estimates, SEs and std.all within 1e-3,
every fitMeasures() entry within 1e-3 (logl/AIC/BIC 1e-5)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "groups.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")


def _call(call: str):
    fun, model, data, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    opts: dict = {}
    for key, value in re.findall(r'([\w.]+) = (c\([^)]*\)|"[^"]*")', rest):
        items = re.findall(r'"([^"]*)"', value)
        key = key.replace(".", "_")
        if key == "missing":
            items = ["fiml" if items[0] == "ml" else items[0]]
        opts[key] = items if key in ("group_equal", "group_partial") else items[0]
    runner = {"sem": survey.sem, "cfa": survey.cfa}[fun]
    return runner, REF["models"][model], DATA[data], opts


def _run(name: str):
    runner, model, data, opts = _call(REF["cases"][name]["call"])
    return runner(model, data, **opts)


def _compare(name: str, res) -> None:
    case = REF["cases"][name]
    fm = all_fit_measures(res)
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
    ours = res.estimates()
    ref = pd.DataFrame(case["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ours and ref["group"].max() > 1 else [])
    ref = ref[ref["op"].isin(["=~", "~", "~~", "~1", ":="])]
    both = ours.merge(ref, on=keys, suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)
    assert bool(res.converged) == bool(case["converged"])


VECTOR_CASES = [k for k in REF["cases"] if k.startswith("vec_")]


@pytest.mark.parametrize("name", VECTOR_CASES)
def test_per_group_vectors_equal_lavaan(name):
    _compare(name, _run(name))


def test_per_group_vectors_make_lavaans_table():
    """Labels, fixed values and the free numbering of c(...) rows per group, as lavaan's parTable()."""
    for name in ("vec_loadings", "vec_scalar_partial", "vec_start"):
        res = _run(name)
        want = pd.DataFrame(REF["cases"][name]["partable"])
        want = want[want["op"].isin(["=~", "~", "~~", "~1"])].reset_index(drop=True)
        ours = res.mg.partable
        ours = ours[ours["op"].isin(["=~", "~", "~~", "~1"])].reset_index(drop=True)
        assert list(ours["lhs"] + ours["op"] + ours["rhs"]) == list(want["lhs"] + want["op"] + want["rhs"])
        assert list(ours["free"] > 0) == list(want["free"] > 0), name
        # rows lavaan ties (one equality label, ceq.simple = FALSE) share one free number here
        free = want["free"] > 0
        tie = want["label"].where(want["label"] != "", want["plabel"])
        pairs = set(zip(ours.loc[free, "free"], tie[free], strict=True))
        assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs}), name
        assert ours["free"].max() == tie[free].nunique(), name
        assert (tie[free].nunique() < free.sum()) == (name != "vec_start"), name
        fixed = want["free"] == 0
        np.testing.assert_allclose(ours.loc[fixed, "ustart"].astype(float),
                                   want.loc[fixed, "ustart"].astype(float))
        user = want["label"].str.match(r"^[^.]") & (want["label"] != "")
        assert list(ours.loc[user, "label"]) == list(want.loc[user, "label"]), name


def test_per_group_start_values_reach_the_optimiser():
    res = _run("vec_start")
    want = pd.DataFrame(REF["cases"]["vec_start"]["partable"])
    ours = res.partable
    rows = (want["lhs"] == "visual") & (want["rhs"] == "x2")
    np.testing.assert_allclose(ours.loc[rows.to_numpy(), "start"].astype(float), [0.5, 0.7])
    np.testing.assert_allclose(want.loc[rows, "start"].astype(float), [0.5, 0.7])


def test_per_group_vector_needs_one_value_per_group():
    with pytest.raises(survey.SurveyInputError, match="wrong number of values"):
        survey.cfa("visual =~ x1 + c(a1, a2, a3)*x2 + x3", DATA["hs"], group="school")


CONSTRAINT_CASES = [k for k in REF["cases"] if k.startswith("con_")]


@pytest.mark.parametrize("name", CONSTRAINT_CASES)
def test_constraints_equal_lavaan_under_every_estimator(name):
    res = _run(name)
    _compare(name, res)
    case = REF["cases"][name]
    rows = res.partable[res.partable["op"].isin(["==", "<", ">"])]
    assert len(rows) == 1
    slack = float(rows["est"].iloc[0])  # lhs - rhs at the estimate: 0 for ==, >= 0 for >, <= 0 for <
    sign = {"==": 0.0, ">": 1.0, "<": -1.0}[rows["op"].iloc[0]]
    assert abs(slack) < 1e-6 if sign == 0 else sign * slack > -1e-6
    for key in ("satorra.bentler", "yuan.bentler.mplus"):
        if key in case["test"] and case["test"][key].get("scaling.factor") is not None:
            factor = res.fit_measures()["chisq.scaling.factor"]
            assert factor == pytest.approx(case["test"][key]["scaling.factor"], abs=1e-3)


def test_constraints_hold_in_every_bootstrap_replicate():
    """lavaan refits each replicate with the constraint rows (lav_bootstrap_internal); so do we
    (tests/test_bootstrap_combos.py compares the replicates with lavaan's on its own resamples)."""
    res = survey.cfa(REF["models"]["nonlin_eq"], DATA["hs"], se="bootstrap", bootstrap=6, seed=1)
    reps = res.bootstrap.ok
    assert len(reps) == 6 and np.abs(reps["a"] - reps["b"] ** 2).max() < 1e-6
