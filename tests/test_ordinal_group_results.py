"""Results of multi-group ordinal fits (issue 16 point 2) against lavaan 0.6.14: ``vcov()`` (one row per free
row, lavaan's names and order), ``lavInspect(fit, "vcov.std.all")``, ``lavTestScore()``, simple equality
constraints ``a == b`` across groups, defined parameters ``:=``, threshold formulas with groups, and the
robust CFI/TLI/RMSEA where lavaan gives them (NA where a threshold is tied or scale factors are free).
Reference: tests/fixtures/ordinal_group_results/make_ordinal_group_results.R."""

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

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_group_results" / "ordinal_group_results.json").read_text())
DATA = pd.read_csv(HERE / "threshold_groups" / "hs_cut_school.csv").drop(columns="id")
CASES = sorted(k for k, v in REF.items() if isinstance(v, dict) and "vcov" in v)


def _opts(case: dict) -> dict:
    out = {}
    for k, v in (case["opts"] or {}).items():
        out[k.replace(".", "_")] = [v] if k == "group.equal" and isinstance(v, str) else v
    return out


@cache
def fitted(name: str):
    case = REF[name]
    return survey.cfa(case["model"], DATA, ordered=True, group="school", **_opts(case))


def _order(got_names, want_names) -> list[int]:
    assert list(got_names) == list(want_names)
    return list(range(len(want_names)))


@pytest.mark.parametrize("name", CASES)
def test_estimates_and_defined_parameters_equal_lavaan(name):
    ours = fitted(name).estimates()
    want = pd.DataFrame(REF[name]["estimates"])
    want = want[want["op"] != "~*~"] if fitted(name).parameterization == "theta" else want
    key = ["lhs", "op", "rhs", "group"]
    m = want.merge(ours, on=key, suffixes=("_r", ""), how="left", validate="one_to_one")
    assert not m["est"].isna().any(), m.loc[m["est"].isna(), key]
    for col in ("est", "se", "std.lv", "std.all"):
        ok = m[f"{col}_r"].notna()
        assert np.abs(m.loc[ok, col] - m.loc[ok, f"{col}_r"]).max() < 1e-4, col
    assert len(ours[ours["op"] == ":="]) == len(want[want["op"] == ":="])


@pytest.mark.parametrize("name", CASES)
def test_fit_measures_equal_lavaan_robust_ones_na_where_lavaans(name):
    fm = fitted(name).fit_measures()
    for k, want in REF[name]["fit_measures"].items():
        if want is None:  # lavaan: NA
            assert k not in fm or math.isnan(fm[k]), k
        else:
            assert fm[k] == pytest.approx(want, abs=1e-5, rel=1e-5), k


@pytest.mark.parametrize("name", CASES)
def test_vcov_and_vcov_std_equal_lavaan(name):
    res = fitted(name)
    v = res.vcov()
    assert list(v.index) == REF[name]["vcov_names"]
    assert np.abs(v.to_numpy() - np.array(REF[name]["vcov"])).max() < 2e-4
    if REF[name]["vcov_std"] is not None:
        vs = res.vcov_std()
        assert list(vs.index) == REF[name]["vcov_names"]
        assert np.abs(vs.to_numpy() - np.array(REF[name]["vcov_std"])).max() < 2e-4


@pytest.mark.parametrize("name", CASES)
def test_score_tests_equal_lavaan(name):
    res = fitted(name)
    if REF[name]["score_error"]:  # lavaan: "no equality constraints found in model."
        with pytest.raises(SurveyInputError, match="no equality constraints") as info:
            res.score_tests()
        assert "\n" not in str(info.value)
        return
    got = res.score_tests()
    want = pd.DataFrame(REF[name]["score_uni"])
    assert got["X2"].to_numpy() == pytest.approx(want["X2"].to_numpy(), abs=1e-4)
    assert got.attrs["total"]["X2"] == pytest.approx(REF[name]["score_total"][0]["X2"], abs=1e-4)
    assert got.attrs["total"]["df"] == REF[name]["score_total"][0]["df"]


@pytest.mark.parametrize("name", ["one_shared", "one_fixed"])
def test_one_group_robust_measures_after_threshold_formulas_as_lavaan(name):
    """Tied thresholds: lavaan's catML fit fails (NA); fixed ones: c.hat3 and the RMSEA on catML's df."""
    fm = survey.cfa(REF[name]["model"], DATA, ordered=True).fit_measures()
    for k, want in REF[name]["fit_measures"].items():
        if want is None:
            assert k not in fm or math.isnan(fm[k]), k
        else:
            assert fm[k] == pytest.approx(want, abs=1e-5, rel=1e-5), k


@pytest.mark.parametrize("name", ["equal_defined", "thresholds_equal"])
def test_standardized_solution_with_defined_rows_equals_lavaan(name):
    got = fitted(name).standardized_solution()
    want = pd.DataFrame(REF[name]["std_solution"])
    m = want.merge(got, on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""), validate="one_to_one")
    assert len(m) == len(want) and (m["op"] == ":=").sum() == (want["op"] == ":=").sum() > 0
    for col in ("est.std", "se"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-4, col
