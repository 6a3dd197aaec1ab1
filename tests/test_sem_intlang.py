"""The language features through the engine (merge of issue 15 into issue 14): the full fitMeasures() set
from SEMResult.fit_measures() for any estimator and groups, and refusals where the engine does not
impose a feature yet (never silently ignored)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import survey
from survey.sem.results.measures import fit_measures as core_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "reference.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")
CFA = REF["models"]["hs"]


@pytest.mark.parametrize("options", [{}, {"estimator": "MLR"}, {"group": "school"}])
def test_fit_measures_are_the_full_set_and_keep_the_core_values(options):
    res = survey.fit(CFA, HS, **options)
    full, core = res.fit_measures(), core_measures(res)
    assert {"gfi", "agfi", "cn_05", "rmr", "crmr", "mfi", "ecvi"} <= set(full) and set(core) < set(full)
    for key, value in core.items():
        assert full[key] == pytest.approx(value, abs=1e-12, nan_ok=True), key


def test_full_set_equals_lavaan_on_the_reference_cfa():
    want = REF["cases"]["info_expected"]["fit_measures"]
    got = survey.cfa(CFA, HS).fit_measures()
    keys = ("gfi", "agfi", "pgfi", "rmr", "crmr", "cn_05", "cn_01", "mfi", "ecvi", "rmsea.notclose.pvalue")
    for key in keys:
        assert got[key] == pytest.approx(want[key], abs=1e-3), key


@pytest.mark.parametrize("options", [{"group": "school"}, {"missing": "fiml"}, {"estimator": "MLM"}])
def test_explicit_constraints_hold_outside_single_group_ml(options):
    res = survey.fit("visual =~ x1 + a*x2 + x3\na > 0.9", HS, **options)
    est = res.estimates()
    assert (est.loc[(est["op"] == "=~") & (est["rhs"] == "x2"), "est"] >= 0.9 - 1e-6).all()
    boot = survey.fit("visual =~ x1 + a*x2 + x3\na > 0.9", HS, se="bootstrap", bootstrap=5, seed=2,
                      **options)  # the replicates too are fitted under the constraint (lavaan)
    assert boot.bootstrap.n_failed == 0
    assert (boot.bootstrap.ok.filter(regex=r"^a(\.g\d+)?$").to_numpy() >= 0.9 - 1e-6).all()


def test_per_group_vectors_label_each_group_also_with_ordered_items():
    # ordered items: = lavaan in tests/test_ordinal_missing.py (groups_vectors); three categories each, all
    # present in both groups (an empty one in a group is refused, as lavaan refuses it)
    data = HS.assign(**{c: pd.qcut(HS[c], 3, labels=False) + 1 for c in ("x1", "x2", "x3")})
    for options in ({}, {"ordered": ["x1", "x2", "x3"]}):
        res = survey.fit("visual =~ x1 + c(a1, a2)*x2 + x3", data, group="school", **options)
        est = res.estimates()
        assert list(est.loc[(est["op"] == "=~") & (est["rhs"] == "x2"), "label"]) == ["a1", "a2"]


def test_observed_information_reaches_the_engine():
    want = REF["cases"]["info_observed"]["estimates"]
    res = survey.cfa(CFA, HS, information="observed")
    ours = res.estimates().merge(pd.DataFrame(want), on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(ours) == len(want) and (ours["se"] - ours["se_ref"]).abs().max() < 1e-3


OPTIONS = json.loads((Path(__file__).parent / "fixtures" / "language_engine" / "options.json").read_text())
OPTION_CALLS = {
    "mg_std_lv": {"group": "school", "std_lv": True},
    "mg_orthogonal": {"group": "school", "orthogonal": True, "group_equal": ["loadings"]},
    "mlr_std_lv": {"estimator": "MLR", "std_lv": True},
    "mlm_orthogonal": {"estimator": "MLM", "orthogonal": True},
    "fiml_std_lv": {"missing": "fiml", "std_lv": True},
}


@pytest.mark.parametrize("name", sorted(OPTION_CALLS))
def test_partable_options_with_groups_and_robust_estimators_equal_lavaan(name):
    """std_lv / orthogonal now reach every estimator and multi-group fits (lavaan references from
    tests/fixtures/language_engine/make_options.R)."""
    case = OPTIONS["cases"][name]
    res = survey.cfa(OPTIONS["model"], HS, **OPTION_CALLS[name])
    ref = pd.DataFrame(case["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref else [])
    both = res.estimates().merge(ref, on=keys, suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        assert (both[col] - both[f"{col}_ref"]).abs().max() < 1e-3, col
    fm = res.fit_measures()
    for key, value in case["fit_measures"].items():
        if key in fm and value is not None:
            tol = 1e-5 if key in ("logl", "unrestricted.logl", "aic", "bic", "bic2") else 1e-3
            assert fm[key] == pytest.approx(value, abs=tol, nan_ok=True), key
