"""Issue 16, the ordinal combinations left after ord1/ord2, against lavaan 0.6.14 (fixtures in
tests/fixtures/ordinal_more/, R scripts beside them).

Point 1 (groups.json): two-group fits (bfi by gender, equal thresholds and loadings) with the estimator,
se and test
choices other than WLSMV's defaults: estimates, SEs, every test lavaan reports and the fit measures.
Points 3 and 5 (groups_more.json): sampling weights, orthogonal = TRUE, ordered and continuous items under
the theta (and delta) parameterization with groups."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.ordinal.multigroup import fit_ordinal_groups

HERE = Path(__file__).parent / "fixtures" / "ordinal_more"
GROUPS = json.loads((HERE / "groups.json").read_text())
BFI = pd.read_csv(Path(__file__).parent / "fixtures" / "ordinal" / "bfi.csv")
CHOICES = {"wlsm": ("WLSM", {}), "wlsmvs": ("WLSMVS", {}), "ulsmv": ("ULSMV", {}), "ulsm": ("ULSM", {}),
           "dwls": ("DWLS", {}), "uls": ("ULS", {}), "wls": ("WLS", {}),
           "wlsmv_se_standard": ("WLSMV", {"se": "standard"}),
           "dwls_se_robust": ("DWLS", {"se": "robust.sem"}),
           "wlsmv_test_sb": ("WLSMV", {"test": "satorra.bentler"}),
           "dwls_test_ss": ("DWLS", {"test": "scaled.shifted"}),
           "wlsmv_test_browne": ("WLSMV", {"test": "browne.residual.adf"}),
           "dwls_test_browne": ("DWLS", {"test": "browne.residual.adf"})}


@cache
def grouped(case: str):
    est, kw = CHOICES[case]
    return fit_ordinal_groups(GROUPS["model"], BFI, "gender", group_equal=tuple(GROUPS["group_equal"]),
                              estimator=est, **kw)


@pytest.mark.parametrize("case", sorted(CHOICES))
def test_group_choices_estimates_equal_lavaan(case):
    res = grouped(case)
    assert res.converged and res.estimator == CHOICES[case][0]
    ref = pd.DataFrame(GROUPS["cases"][case]["estimates"]).set_index(["lhs", "op", "rhs", "group"])
    mine = res.estimates().set_index(["lhs", "op", "rhs", "group"])
    assert set(ref.index) == set(mine.index)
    m = mine.join(ref.add_suffix("_r"))
    for col in ("est", "se"):
        diff = np.abs(m[col] - m[f"{col}_r"])
        assert (diff.isna() == m[f"{col}_r"].isna()).all() and diff.max() < 1e-4, col


@pytest.mark.parametrize("case", sorted(CHOICES))
def test_group_choices_tests_and_fit_measures_equal_lavaan(case):
    res, ref = grouped(case), GROUPS["cases"][case]
    assert [t.name for t in res.test_list] == [t["test"] for t in ref["tests"]]
    for mine, theirs in zip(res.test_list, ref["tests"], strict=True):
        assert mine.stat == pytest.approx(theirs["stat"], abs=1e-5, rel=1e-6), mine.name
        assert mine.df == pytest.approx(theirs["df"], abs=1e-5), mine.name  # mean.var.adjusted: df*
        if isinstance(theirs.get("pvalue"), float):  # lavaan's NA (ULS) is checked below
            assert mine.pvalue == pytest.approx(theirs["pvalue"], abs=1e-6), mine.name
        if "scaling.factor" in theirs:
            assert mine.scaling_factor == pytest.approx(theirs["scaling.factor"], rel=1e-6), mine.name
    measures = res.fit_measures()
    compared = [k for k in measures if k in ref["fit_measures"]]
    assert {"chisq", "cfi", "rmsea", "srmr"} <= set(compared)
    robust = [t["test"] for t in ref["tests"] if t["test"] not in ("standard", "browne.residual.adf")]
    assert ("chisq.scaled" in compared) == bool(robust)
    for name in compared:
        assert measures[name] == pytest.approx(ref["fit_measures"][name], abs=1e-6, rel=1e-6), name
    if CHOICES[case][0].startswith("ULS"):  # lavaan: no chi-square p-value for ULS
        assert np.isnan(res.test_list[0].pvalue)


def test_group_choices_through_sem_fit_and_lavaans_refusals():
    res = fit(GROUPS["model"], BFI, ordered=True, group="gender", group_equal=GROUPS["group_equal"],
              estimator="WLSM")
    ref = GROUPS["cases"]["wlsm"]["fit_measures"]
    assert res.fit_measures()["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)
    with pytest.raises(SurveyInputError, match="refuses it"):  # lavaan 0.6.14's own refusal, as one group
        fit(GROUPS["model"], BFI, ordered=True, group="gender", se="robust.huber.white")


# Points 3 and 5: sampling weights, orthogonal = TRUE and the theta parameterization with ordered and
# continuous items, two groups (groups_more.json; make_groups_more.R)
MORE = json.loads((HERE / "groups_more.json").read_text())
WEIGHTED = pd.read_csv(Path(__file__).parent / "fixtures" / "ordinal_options" / "bfi_weighted.csv")
FITTED = ("weighted", "weighted_configural", "weighted_norm_group", "orthogonal", "orthogonal_configural",
          "theta_mixed_configural",
          "theta_mixed", "theta_mixed_thresholds", "delta_mixed", "delta_mixed_thresholds")


def _options(case: str) -> dict:
    opts = MORE["options"][case]
    out = {"ordered": True if len(opts["ordered"]) == 10 else opts["ordered"], "group": "gender",
           "group_equal": opts.get("group.equal", []), "estimator": "WLSMV"}
    renames = {"sampling.weights": "sampling_weights", "orthogonal": "orthogonal",
               "sampling.weights.normalization": "sampling_weights_normalization",
               "parameterization": "parameterization"}
    out.update({new: opts[old] for old, new in renames.items() if old in opts})
    return out


@cache
def more(case: str):
    return fit(MORE["model"], WEIGHTED, **_options(case))


@pytest.mark.parametrize("case", FITTED)
def test_more_group_fits_equal_lavaan(case):
    res, ref = more(case), MORE["cases"][case]
    assert res.converged and list(res.nobs) == ref["nobs"]
    theirs = pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs", "group"])
    mine = res.estimates().set_index(["lhs", "op", "rhs", "group"])
    assert set(theirs.index) == set(mine.index)
    m = mine.join(theirs.add_suffix("_r"))
    for col in ("est", "se"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-4, col
    measures = res.fit_measures()
    compared = [k for k in measures if k in ref["fit_measures"]]
    assert {"chisq", "chisq.scaled", "cfi.scaled", "rmsea", "srmr"} <= set(compared)
    for name in compared:
        assert measures[name] == pytest.approx(ref["fit_measures"][name], abs=1e-6, rel=1e-6), name


def test_orthogonal_groups_fix_the_factor_covariances():
    est = more("orthogonal").estimates()
    cov = est[(est["op"] == "~~") & (est["lhs"] == "A") & (est["rhs"] == "C")]
    assert len(cov) == 2 and (cov["est"] == 0).all()


def test_weights_with_groups_normalizations_differ_as_lavaans():
    # lavaan's "total" (default): N_g is the group's weight sum (group_weights docstring); "group": N_g
    total, group = more("weighted"), more("weighted_norm_group")
    assert total.nobs == group.nobs == MORE["cases"]["weighted"]["nobs"]  # reported: the case counts
    assert 1e-3 < abs(total.fit_measures()["chisq"] - group.fit_measures()["chisq"]) < 0.1
    # the weighted fit differs from the unweighted one (the weights are used)
    plain = fit(MORE["model"], WEIGHTED, ordered=True, group="gender", group_equal=["thresholds", "loadings"])
    assert abs(plain.fit_measures()["chisq"] - group.fit_measures()["chisq"]) > 1


# Point 4: modindices() of a configural two-group model (modindices.json; make_modindices.R)
MI = json.loads((HERE / "modindices.json").read_text())


@pytest.mark.parametrize("case,estimator", [("configural", "WLSMV"), ("configural_ulsmv", "ULSMV")])
def test_group_modindices_equal_lavaan(case, estimator):
    res = fit(MI["model"], BFI, ordered=True, group="gender", estimator=estimator)
    mine = res.modindices().set_index(["lhs", "op", "rhs", "group"])
    ref = pd.DataFrame(MI[case]).set_index(["lhs", "op", "rhs", "group"])
    assert set(mine.index) == set(ref.index) and len(mine) == 110  # 10 loadings + 45 covariances per group
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col


def test_group_modindices_with_equality_constraints_equal_lavaan_under_wlsm():
    """Equal thresholds and loadings: lavaan also scores the markers and intercepts; WLSM has WLSMV's
    estimates and weight, so lavaan's WLSMV table (tests/test_ordinal_mg_modindices.py's fixture)."""
    res = grouped("wlsm")
    ref = json.loads((HERE.parent / "mg_modindices" / "ordinal_mg_modindices.json").read_text())
    want = pd.DataFrame(ref["cases"]["thr_load_wlsmv"]["modindices"]).set_index(["lhs", "op", "rhs", "group"])
    mine = res.modindices().set_index(["lhs", "op", "rhs", "group"])
    assert set(mine.index) == set(want.index)
    m = mine.join(want.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col


# Point 4: residuals() of ordinal fits (residuals.json; make_residuals.R)
RES = json.loads((HERE / "residuals.json").read_text())


def _same(mine, ref) -> None:
    assert np.abs(mine.cov.to_numpy() - np.array(ref["cov"])).max() < 1e-5
    assert list(mine.th.index) == list(ref["th"])
    assert np.abs(mine.th.to_numpy() - np.array(list(ref["th"].values()))).max() < 1e-5


def test_residuals_of_ordinal_fits_equal_lavaan():
    single = fit(RES["model"], BFI, ordered=True)
    _same(single.residuals()[0], RES["single"])
    _same(single.residuals("cor.bentler")[0], RES["single_bentler"])
    assert (single.residuals()[0].mean == 0).all()  # group 2's latent means: test_ordinal_residuals_more
    groups = fit(RES["model"], BFI, ordered=True, group="gender", group_equal=["thresholds", "loadings"])
    mine = groups.residuals()
    assert len(mine) == 2
    for res, ref in zip(mine, RES["groups"].values(), strict=True):
        _same(res, ref)
        assert np.abs(res.th).max() > 0.05  # equal thresholds: their residuals are not zero


def test_cli_residuals_with_ordered_items(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(RES["model"])
    data = Path(__file__).parent / "fixtures" / "ordinal" / "bfi.csv"
    with pytest.raises(SystemExit) as done:
        main(["fit", str(model), str(data), "--ordered", "all", "--group", "gender", "--group-equal",
              "thresholds,loadings", "--residuals", "raw", "--json"])
    assert not done.value.code
    out = json.loads(capsys.readouterr().out)
    groups = out["residuals"]["groups"]
    assert [g["group"] for g in groups] == ["1", "2"]
    ref = RES["groups"]["1"]
    assert groups[0]["th"]["A1|t1"] == pytest.approx(ref["th"]["A1|t1"], abs=1e-5)
    assert groups[0]["cov"]["A2"]["A1"] == pytest.approx(ref["cov"][1][0], abs=1e-5)


def test_cli_modindices_of_a_configural_ordinal_group_model(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MI["model"])
    data = Path(__file__).parent / "fixtures" / "ordinal" / "bfi.csv"
    with pytest.raises(SystemExit) as done:
        main(["fit", str(model), str(data), "--ordered", "all", "--group", "gender", "--modindices",
              "--json"])
    assert not done.value.code
    top = json.loads(capsys.readouterr().out)["modindices"][0]  # largest first
    ref = pd.DataFrame(MI["configural"]).sort_values("mi", ascending=False).iloc[0]
    key = ["lhs", "op", "rhs", "group"]
    assert [top[k] for k in key] == [ref[k] for k in key]
    assert top["mi"] == pytest.approx(ref["mi"], abs=1e-3)
