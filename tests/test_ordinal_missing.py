"""Ordered items with missing values, several groups and chosen groups, against lavaan 0.6.14
(tests/fixtures/ordinal_missing/make_reference.R, psych's bfi rows 1..1000 with their NAs):

- ``missing = "pairwise"`` with ordered and continuous variables together (thresholds, means and variances
  from each variable's observed cases, polychoric / polyserial / Pearson correlations from each pair's,
  Muthen's Gamma with zero scores for the missing cases), its synonym ``available.cases``, and two groups;
- two groups mixing ordered and continuous variables (listwise and pairwise, intercepts equal);
- ``group_partial`` (lavaan's ``group.partial``), per-group vectors ``c(...)``, ``group:`` blocks and
  ``groups=`` (lavaan on the data restricted to them) with ordered items; lavaan's group order; saturated
  models (df 0);
- lavaan's refusals of the full-information treatments in the categorical setting, with its reason.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.ordinal.fit import mixed_sample_statistics

HERE = Path(__file__).parent / "fixtures" / "ordinal_missing"
REF = json.loads((HERE / "reference.json").read_text())
BFI = pd.read_csv(Path(__file__).parent / "fixtures" / "ordinal" / "bfi.csv")
BFI["band"] = pd.cut(BFI["age"], [0, 20, 30, 200], labels=False) + 1  # R: as.integer(cut(age, ...))
BFI["sex"] = np.where(BFI["gender"] == 1, "b", "a")
MODEL = REF["model"]
A = [f"A{i}" for i in range(1, 6)]
C = [f"C{i}" for i in range(1, 6)]
CASES = {
    "mixed_pairwise": dict(ordered=A, missing="pairwise"),
    "available_cases": dict(ordered=True, missing="available.cases"),
    "groups_pairwise": dict(ordered=True, group="gender", missing="pairwise",
                            group_equal=["thresholds", "loadings"]),
    # lavaan group.partial: a loading and two thresholds free in both groups
    "groups_partial": dict(ordered=True, group="gender", group_equal=["thresholds", "loadings"],
                           group_partial=["A=~A2", "A1|t1", "C3 | t2"]),
    # two of three age bands (lavaan: the data restricted to them)
    "groups_chosen": dict(ordered=True, group="band", group_equal=["thresholds"], groups=[1, 3]),
    # two groups, A ordered and C continuous (free intercepts and residual variances, no scale factors)
    "groups_mixed": dict(ordered=A, group="gender"),
    "groups_mixed_equal": dict(ordered=A, group="gender",
                               group_equal=["thresholds", "loadings", "intercepts"]),
    "groups_mixed_pairwise": dict(ordered=A, group="gender", missing="pairwise",
                                  group_equal=["loadings", "intercepts"]),
    # lavaan adds "thresholds" to "intercepts" with ordered items
    "groups_intercepts": dict(ordered=True, group="gender", group_equal=["intercepts"]),
    "groups_mixed_intercepts": dict(ordered=A, group="gender", group_equal=["loadings", "intercepts"]),
    # std.lv with groups
    "groups_stdlv": dict(ordered=True, group="gender", std_lv=True),
    "groups_stdlv_equal": dict(ordered=True, group="gender", std_lv=True,
                               group_equal=["thresholds", "loadings"]),
    # the theta parameterization with groups
    "groups_theta": dict(ordered=True, group="gender", parameterization="theta"),
    "groups_theta_equal": dict(ordered=True, group="gender", parameterization="theta",
                               group_equal=["thresholds", "loadings"]),
    # per-group vectors c(a2, a2)*A2 (equal by label), c(1, NA)*C3 (fixed in group 1 only); group: blocks
    "groups_vectors": dict(ordered=True, group="gender", group_equal=["thresholds"]),
    "groups_blocks": dict(ordered=True, group="gender"),
    # lavaan's group order is the order of appearance ("b" first)
    "groups_order": dict(ordered=True, group="sex", group_equal=["thresholds"]),
    # saturated (df 0): no scaling factor or shift, CFI 1, RMSEA 0
    "saturated": dict(ordered=True),
    "saturated_groups": dict(ordered=True, group="gender"),
}
MODELS = {"groups_vectors": REF["models"]["vectors"], "groups_blocks": REF["models"]["blocks"],
          "saturated": REF["models"]["three"], "saturated_groups": REF["models"]["three"]}


@cache
def fitted(case: str):
    return fit(MODELS.get(case, MODEL), BFI, **CASES[case])


def _joined(case: str) -> pd.DataFrame:
    ref = REF["cases"][case]
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in CASES[case] else [])
    want = pd.DataFrame(ref["estimates"]).set_index(keys)
    mine = fitted(case).estimates().set_index(keys)
    assert set(want.index) == set(mine.index)
    return mine.join(want.add_suffix("_r"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimates_ses_std_equal_lavaan(case):
    res = fitted(case)
    assert res.converged
    assert np.all(np.asarray(res.nobs) == np.asarray(REF["cases"][case]["nobs"]))
    m = _joined(case)
    for col in ("est", "se", "std.all", "std.lv"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-4, col


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_measures_equal_lavaan(case):
    ref = REF["cases"][case]["fit_measures"]
    mine = fitted(case).fit_measures()
    shared = [k for k in mine if k in ref]
    assert {"chisq.scaled", "df", "cfi.scaled", "rmsea.scaled", "srmr"} <= set(shared)
    for name in shared:
        assert mine[name] == pytest.approx(ref[name], rel=1e-5, abs=1e-5), name
    shift = REF["cases"][case]["shift"]
    if shift is None:  # saturated: lavaan has no shift (NA)
        assert np.isnan(fitted(case).test_list[1].shift) and mine["df"] == 0
    else:
        # theta: lavaan's optimizer stops 2e-6 above our minimum of the chisq (est within 7e-5)
        assert fitted(case).test_list[1].shift == pytest.approx(shift, abs=5e-5 if "theta" in case else 1e-5)


def test_mixed_pairwise_statistics_and_gamma_equal_lavaan():
    ref = REF["cases"]["mixed_pairwise"]
    stats = mixed_sample_statistics(BFI, A + C, tuple(C), "pairwise")
    assert stats.nobs == ref["nobs"] == 1000  # every row is observed on some variable
    assert np.abs(stats.wls_obs - np.array(ref["wls_obs"])).max() < 1e-6
    g_ref = np.array(ref["gamma"])
    assert np.abs(stats.gamma - g_ref).max() < 1e-6 * np.abs(g_ref).max()
    # pairwise uses more cases than listwise: the statistics differ from the complete-case ones
    listwise = mixed_sample_statistics(BFI, A + C, tuple(C), "listwise")
    assert listwise.nobs < 1000 and np.abs(listwise.wls_obs - stats.wls_obs).max() > 1e-3


def test_empty_rows_are_dropped_under_pairwise():
    data = pd.concat([BFI, pd.DataFrame({c: [np.nan] * 3 for c in A + C})], ignore_index=True)
    assert fit(MODEL, data, ordered=True, missing="pairwise").nobs == 1000
    assert fit(MODEL, data, ordered=A, missing="pairwise").nobs == 1000


@pytest.mark.parametrize("missing", sorted(REF["refusals"]))
def test_full_information_missing_refused_with_lavaans_reason(missing):
    assert "not available in the categorical setting" in REF["refusals"][missing]  # lavaan's own message
    for ordered in (True, A):
        with pytest.raises(SurveyInputError, match="not available in the categorical setting"):
            fit(MODEL, BFI, ordered=ordered, missing=missing)


def test_released_parameters_differ_across_groups_and_the_rest_stay_equal():
    est = fitted("groups_partial").estimates().set_index(["lhs", "op", "rhs", "group"])["est"]
    for key in (("A", "=~", "A2"), ("A1", "|", "t1"), ("C3", "|", "t2")):
        assert abs(est[key + (1,)] - est[key + (2,)]) > 1e-3
    for key in (("A", "=~", "A3"), ("A1", "|", "t2"), ("C3", "|", "t1")):
        assert est[key + (1,)] == pytest.approx(est[key + (2,)], abs=1e-10)
    base = fit(MODEL, BFI, ordered=True, group="gender", group_equal=["thresholds", "loadings"])
    assert fitted("groups_partial").fit_measures()["df"] == base.fit_measures()["df"] - 3


def test_chosen_groups_are_the_fit_on_those_rows_only():
    res = fitted("groups_chosen")
    assert list(res.groups) == [int(v) for v in REF["cases"]["groups_chosen"]["group_labels"]] == [1, 3]
    sub = fit(MODEL, BFI[BFI["band"].isin([1, 3])], ordered=True, group="band", group_equal=["thresholds"])
    assert res.fit_measures()["chisq.scaled"] == pytest.approx(sub.fit_measures()["chisq.scaled"], rel=1e-10)
    with pytest.raises(SurveyInputError, match="not a value of the grouping column"):
        fit(MODEL, BFI, ordered=True, group="band", groups=[1, 7])


def test_per_group_vectors_and_blocks_reach_each_group():
    est = fitted("groups_vectors").estimates().set_index(["lhs", "op", "rhs", "group"])["est"]
    assert est[("A", "=~", "A2", 1)] == pytest.approx(est[("A", "=~", "A2", 2)], abs=1e-12)  # label a2
    assert est[("C", "=~", "C3", 1)] == 1.0 and abs(est[("C", "=~", "C3", 2)] - 1.0) > 1e-3
    est = fitted("groups_blocks").estimates().set_index(["lhs", "op", "rhs", "group"])["est"]
    assert est[("A", "=~", "A2", 1)] == pytest.approx(est[("A", "=~", "A2", 2)], abs=1e-12)
    assert abs(est[("A", "=~", "A3", 1)] - est[("A", "=~", "A3", 2)]) > 1e-3


def test_groups_follow_lavaans_order_of_appearance():
    assert list(fitted("groups_order").groups) == REF["cases"]["groups_order"]["group_labels"] == ["b", "a"]


@pytest.mark.parametrize("which", ["single", "groups"])
def test_ordinal_results_are_semresults_with_lavaans_methods(which):
    from survey.sem import SEMResult

    opts = dict(ordered=True) if which == "single" else dict(ordered=True, group="gender",
                                                             group_equal=["thresholds"])
    res = fit(MODEL, BFI, **opts)
    assert isinstance(res, SEMResult)
    ref = REF["methods"][which]
    keys = ["lhs", "op", "rhs"] + ([] if which == "single" else ["group"])
    want = pd.DataFrame(ref["std"]).set_index(keys)
    mine = res.standardized_solution().set_index(keys)
    assert set(want.index) == set(mine.index)
    m = mine.join(want.add_suffix("_r"))
    assert np.abs(m["est.std"] - m["est.std_r"]).max() < 1e-4
    assert np.abs(m["se"] - m["se_r"]).max() < 1e-4
    assert (m.loc[m.index.get_level_values("op") == "=~", "se"] > 0).all()
    tests = res.tests()
    assert list(tests) == list(ref["test"]) == ["standard", "scaled.shifted"]
    for name, entry in ref["test"].items():
        for key, value in entry.items():
            if key != "test":
                assert tests[name][key] == pytest.approx(value, rel=1e-6, abs=1e-8), (name, key)
    assert res.test().stat == pytest.approx(ref["test"]["standard"]["stat"], rel=1e-6)
    if which == "groups":
        # multi-group ordinal modification indices (thresholds equal) are lavaan's since the mgmi branch
        # (tests/test_ordinal_mg_modindices.py compares them with lavaan): one row set per group here
        mi = res.modindices()
        assert set(mi["group"]) == {1, 2} and np.isfinite(mi["mi"]).all() and (mi["mi"] >= -1e-8).all()


@pytest.mark.parametrize("case,options", [("delta", {}), ("theta", {"parameterization": "theta"}),
                                          ("ulsmv", {"estimator": "ULSMV"})])
def test_modindices_equal_lavaan(case, options):
    res = fit(MODEL, BFI, ordered=True, **options)
    want = pd.DataFrame(REF["methods"]["modindices"][case]).set_index(["lhs", "op", "rhs"])
    mine = res.modindices().set_index(["lhs", "op", "rhs"])
    assert set(mine.index) == set(want.index) and len(want) == 55  # 10 cross-loadings, 45 covariances
    m = mine.join(want.add_suffix("_r"))
    assert np.abs(m["mi"] - m["mi_r"]).max() < 1e-3
    for col in ("epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-4, col
    top = res.modindices(sort=True, minimum_value=10)
    assert top["mi"].is_monotonic_decreasing and (top["mi"] > 10).all()
