"""efa() blocks, round 2 (issue 15): combinations round 1 refused that lavaan 0.6.14 fits, against
tests/fixtures/efa/efa2.json (make_efa2.R: ordered items under WLSMV, geomin, varimax, mixed;
group.equal loadings with varimax, lv.variances, lv.covariances; continuous ULS and DWLS): est, se,
std.all within 1e-3 (relative beyond 1), every fitMeasures() entry we report within 1e-3, npar as
lavaan's. (group.equal loadings with geomin: tests/test_efa_blocks.py, efa.json.)"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "efa"
REF = json.loads((HERE / "efa2.json").read_text())
ORD = pd.read_csv(HERE / "hs_ord.csv")
HS = pd.read_csv(HERE / "hs.csv")
ITEMS = [f"o{i}" for i in range(1, 7)]
CASES = {  # lavaan's case -> (model, survey's keywords)
    "ord_wlsmv": ("efa2_o", dict(ordered=ITEMS)),
    "ord_wlsmv_varimax": ("efa2_o", dict(ordered=ITEMS, rotation="varimax")),
    "ord_mixed": ("efa2_mix", dict(ordered=["o1", "o2", "o3"])),
}


def compare(case: dict, res, keys=("lhs", "op", "rhs")) -> None:
    ref, ours = pd.DataFrame(case["estimates"]), res.estimates()
    both = ref.merge(ours, on=list(keys), how="left", suffixes=("_ref", ""))
    assert len(both) == len(ref) and both["est"].notna().all()
    for col in ("est", "se", "std.all"):
        want, got = both[f"{col}_ref"].to_numpy(float), both[col].to_numpy(float)
        bad = np.abs(got - want) > 1e-3 * np.maximum(1.0, np.abs(want))
        assert not bad.any(), f"{col}:\n{both.loc[bad, [*keys, f'{col}_ref', col]]}"
    fm = res.fit_measures()
    compared = 0
    for key, want in case["fit_measures"].items():
        if key not in fm or not isinstance(want, (int, float)) or math.isnan(float(want)):
            continue
        tol = 1e-3 * max(1.0, abs(want))
        assert abs(float(fm[key]) - want) <= tol, f"{key}: ours {fm[key]} lavaan {want}"
        compared += 1
    assert compared > 10
    assert fm["npar"] == case["npar"]


@pytest.mark.parametrize("name", list(CASES))
def test_ordered_efa_block_equals_lavaan(name):
    model, options = CASES[name]
    res = survey.cfa(REF["models"][model], ORD, **options)
    compare(REF["cases"][name], res)
    loads = res.estimates().query("op == '=~' and lhs == 'f2' and rhs == 'o1'")["est"].iloc[0]
    assert abs(loads) > 0.1  # rotated: the echelon zero of the unrotated solution is gone


def test_ordered_efa_unrotated_is_lavaans():
    case = REF["cases"]["ord_wlsmv"]
    res = survey.cfa(REF["models"]["efa2_o"], ORD, ordered=ITEMS, rotation="none")
    ref = pd.DataFrame(case["unrotated"])
    ref = ref[ref["op"] == "=~"]
    both = ref.merge(res.estimates(), on=["lhs", "op", "rhs"], how="left")
    for _, one in both.groupby("lhs"):  # a factor's sign is arbitrary in the unrotated solution
        ours, want = one["est"].fillna(0.0).to_numpy(), one["est.unrotated"].to_numpy()
        np.testing.assert_allclose(np.sign(ours @ want) * ours, want, atol=1e-4)


def test_ordered_efa_refusals_name_lavaans_fit():
    with pytest.raises(SurveyInputError, match="ordered items and groups beside group_equal"):
        survey.cfa(REF["models"]["efa2_o"], ORD, ordered=ITEMS, group="school", group_equal="loadings")
    with pytest.raises(SurveyInputError, match="rotation='varimin' is not available"):
        survey.cfa(REF["models"]["efa2_o"], ORD, ordered=ITEMS, rotation="varimin")


LOADINGS = {  # group.equal loadings (make_efa2.R): lavaan frees the later groups' factor (co)variances
    "load_varimax": dict(group_equal="loadings", rotation="varimax"),
    "load_lvvar": dict(group_equal=["loadings", "lv.variances"]),
    "load_lvcov": dict(group_equal=["loadings", "lv.covariances"]),
}


@pytest.mark.parametrize("name", list(LOADINGS))
def test_equal_loadings_efa_block_equals_lavaan(name):
    res = survey.cfa(REF["models"]["efa2"], HS, group="school", **LOADINGS[name])
    compare(REF["cases"][name], res, keys=("lhs", "op", "rhs", "group"))
    se = res.estimates().query("op == '=~'").pivot_table(index=["lhs", "rhs"], columns="group", values="se")
    np.testing.assert_allclose(se[1], se[2], atol=1e-10)  # the kept equalities: equal SEs, as lavaan


def test_lv_variances_without_loadings_refused():
    with pytest.raises(SurveyInputError, match="group_equal lv.variances"):
        survey.cfa(REF["models"]["efa2"], HS, group="school", group_equal="lv.variances")


@pytest.mark.parametrize("name, estimator", [("cont_uls", "ULS"), ("cont_dwls", "DWLS")])
def test_least_squares_efa_block_equals_lavaan(name, estimator):
    res = survey.cfa(REF["models"]["efa2"], HS, estimator=estimator)
    compare(REF["cases"][name], res)


def test_least_squares_efa_refusals():
    with pytest.raises(SurveyInputError, match="least-squares estimators .* beside groups and group_equal"):
        survey.cfa(REF["models"]["efa2"], HS, estimator="ULS", group="school", group_equal="loadings")
    with pytest.raises(SurveyInputError, match="beside weights, the bootstrap"):
        survey.cfa(REF["models"]["efa2"], HS, estimator="DWLS", se="bootstrap")


MI = json.loads((HERE / "efa2_mi.json").read_text())  # make_efa2_mi.R


@pytest.mark.parametrize("name", ["efa2", "mixed"])
def test_modindices_of_rotated_fit_equal_lavaan(name):
    """Candidates on and off the efa factors (f1 =~ x7 ...): the bordered inverse of the rotated model."""
    ref = pd.DataFrame(MI["cases"][name]["mi"])
    ours = survey.sem(MI["models"][name][0], HS).modindices()
    assert len(ours) == len(ref)
    both = ref.merge(ours, on=["lhs", "op", "rhs"], how="left", suffixes=("_ref", ""))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        want, got = both[f"{col}_ref"].to_numpy(float), both[col].to_numpy(float)
        assert np.nanmax(np.abs(got - want) / np.maximum(1.0, np.abs(want))) < 1e-3, col


@pytest.mark.parametrize("name, kinds", [("efa2", ("raw", "cor", "standardized", "normalized")),
                                         ("mixed", ("raw", "cor", "normalized"))])
def test_residuals_of_rotated_fit_equal_lavaan(name, kinds):
    from survey.sem.results.residuals import result_residuals

    res = survey.sem(MI["models"][name][0], HS)
    for kind in kinds:
        got = result_residuals(res, kind)[0].cov.to_numpy()
        want = np.array(MI["cases"][name][kind], dtype=float)
        np.testing.assert_allclose(got, want, atol=1e-4, err_msg=kind)


TARGET = json.loads((HERE / "efa2_target.json").read_text())  # make_efa2_target.R


@pytest.mark.parametrize("name, orthogonal", [("target", False), ("target_orth", True)])
def test_target_rotation_equals_lavaan(name, orthogonal):
    res = survey.cfa(TARGET["models"]["efa2"], HS, rotation="target",
                     rotation_args={"target": np.array(TARGET["target"]), "orthogonal": orthogonal})
    compare(TARGET["cases"][name], res)


def test_target_rotation_needs_its_matrix():
    with pytest.raises(SurveyInputError, match="takes rotation_args"):
        survey.cfa(TARGET["models"]["efa2"], HS, rotation="target")
    with pytest.raises(SurveyInputError, match="target has shape"):
        survey.cfa(TARGET["models"]["efa2"], HS, rotation="target", rotation_args={"target": np.ones((5, 2))})
