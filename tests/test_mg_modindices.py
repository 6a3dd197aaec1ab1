"""Modification indices of multi-group fits against lavaan 0.6.14's modindices()
(tests/fixtures/mg_modindices/make_mg_modindices.R -> mg_modindices.json): HolzingerSwineford1939 by
school, configural and group.equal (loadings; loadings + intercepts) under ML, MLR, MLM, FIML (data with
holes; also MLR, two.stage, a MIMIC model), ULS, GLS, DWLS; a MIMIC model (fixed.x covariate), labels shared
across groups, sampling weights (MLR).

The same candidate rows per group (lhs op rhs group); epc / sepc.lv / sepc.all / sepc.nox within 1e-3;
mi within 1e-3 or 1e-3 relative, as lavaan's optima are not exact (ML: max |gradient| 1.6e-6, estimates
1.6e-5 from ours, an mi of 24.8 moves by 1.3e-3; least squares with equality constraints: ULS estimates
6e-5 from ours, an mi of 7.04 moves by 4e-3, one of 1.40 by 1.5e-3; GLS / DWLS by up to 2.6e-3: mi within
5e-3 there). At lavaan's own estimates every
column equals lavaan's to 1e-6."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.fit_report import extra_tables

HERE = Path(__file__).parent / "fixtures" / "mg_modindices"
REF = json.loads((HERE / "mg_modindices.json").read_text())
DATA = {"hs": pd.read_csv(HERE / "hs39_weighted.csv"), "holes": pd.read_csv(HERE / "hs39_holes.csv")}
KEY = ["lhs", "op", "rhs", "group"]
SCALAR = ["loadings", "intercepts"]
CASES = {
    "config_ml": ("hs", {}),
    "load_ml": ("hs", {"group_equal": ["loadings"]}),
    "scalar_ml": ("hs", {"group_equal": SCALAR}),
    "config_mlr": ("hs", {"estimator": "MLR"}),
    "scalar_mlr": ("hs", {"estimator": "MLR", "group_equal": SCALAR}),
    "config_fiml": ("holes", {"missing": "ml"}),
    "scalar_fiml": ("holes", {"missing": "ml", "group_equal": SCALAR}),
    "config_uls": ("hs", {"estimator": "ULS"}),
    "load_uls": ("hs", {"estimator": "ULS", "group_equal": ["loadings"]}),
    "mimic_ml": ("hs", {}),  # fixed.x covariate ageyr
    "mimic_scalar_ml": ("hs", {"group_equal": SCALAR}),
    "labels_ml": ("hs", {}),  # c(a, a)*x2: equal by shared labels
    "config_mlm": ("hs", {"estimator": "MLM"}),
    "config_fimlr": ("holes", {"missing": "ml", "estimator": "MLR"}),
    "config_twostage": ("holes", {"missing": "two.stage"}),  # information at the EM moments
    "load_twostage": ("holes", {"missing": "two.stage", "group_equal": ["loadings"]}),
    "load_gls": ("hs", {"estimator": "GLS", "group_equal": ["loadings"]}),
    "scalar_dwls": ("hs", {"estimator": "DWLS", "group_equal": SCALAR}),
    "mimic_fiml": ("holes", {"missing": "ml"}),
    "weighted_mlr": ("hs", {"estimator": "MLR", "sampling_weights": "wt", "group_equal": ["loadings"]}),
}
LS_CONSTRAINED = ("load_uls", "load_gls", "scalar_dwls")  # lavaan's least-squares optimum (module notes)


@cache  # each case fitted once per module (the tests only read the result)
def _fit(name: str):
    data, kw = CASES[name]
    model = name.split("_")[0] if name.split("_")[0] in REF["models"] else "hs"
    return survey.sem.fit(REF["models"][model], DATA[data], group="school", **kw)


def _compare(want: pd.DataFrame, ours: pd.DataFrame, tol: float, rel: float, mi_tol: float) -> None:
    both = want.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) > 100
    assert set(both["group"]) == {1, 2}
    mi, mi_ref = both["mi"].to_numpy(float), both["mi_ref"].to_numpy(float)
    assert np.all(np.abs(mi - mi_ref) <= np.maximum(mi_tol, rel * mi_ref)), np.max(np.abs(mi - mi_ref))
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=tol,
                                   err_msg=col)


@pytest.mark.parametrize("name", sorted(CASES))
def test_group_modindices_equal_lavaan(name):
    assert not REF["cases"][name]["error"] and not REF["cases"][name]["warnings"]
    mi_tol = 5e-3 if name in LS_CONSTRAINED else 1e-3
    _compare(pd.DataFrame(REF["cases"][name]["modindices"]), _fit(name).modindices(), tol=1e-3,
             rel=1e-3, mi_tol=mi_tol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_group_modindices_at_lavaans_estimates_equal_lavaan_exactly(name):
    """The formulas alone: our fit moved to lavaan's estimates (its parameterEstimates) gives lavaan's
    table to 1e-6."""
    res = _fit(name)
    est = pd.DataFrame(REF["cases"][name]["estimates"]).fillna({"rhs": ""}).set_index(KEY)["est"]
    pt = res.mg.partable
    theta = np.full(res.mg.npar, np.nan)
    for r in pt[(pt["free"] > 0) & (pt["op"] != ":=")].itertuples():
        theta[int(r.free) - 1] = est[(r.lhs, r.op, r.rhs, int(r.group))]
    assert np.max(np.abs(theta - res.theta)) < 1e-3  # the same optimum, to lavaan's precision
    res.theta, res.theta_full = theta, res.mg.k @ theta
    _compare(pd.DataFrame(REF["cases"][name]["modindices"]), res.modindices(), tol=1e-6, rel=0.0,
             mi_tol=1e-6)


def test_equal_loadings_make_the_markers_candidates():
    """With equal loadings a marker loading freed in one group is identified (lavaan lists it); configural
    fits drop it (V ~ 0)."""
    config, equal = _fit("config_ml").modindices(), _fit("load_ml").modindices()
    marker = (equal["lhs"] == "visual") & (equal["rhs"] == "x1")
    assert marker.sum() == 2 and not ((config["lhs"] == "visual") & (config["rhs"] == "x1")).any()
    assert len(config) == 108 and len(equal) == 114


def test_cli_table_lists_group_rows():
    res = _fit("scalar_ml")
    table = extra_tables(res, modindices=True)["modindices"]
    top = table["json"][0]  # lavaan: visual =~ x9 in group 2, mi 19.548, epc 0.568
    assert (top["lhs"], top["op"], top["rhs"], top["group"]) == ("visual", "=~", "x9", 2)
    assert abs(top["mi"] - 19.548) < 2e-3 and abs(top["epc"] - 0.568) < 1e-3
    assert "group" in table["text"].splitlines()[3]
    assert all(r["mi"] >= 3.84 for r in table["json"])


@pytest.mark.parametrize("name,model,estimator", [("single_uls_means", "hs", "ULS"),
                                                  ("single_gls_means", "mimic", "GLS")])
def test_single_group_least_squares_with_a_mean_structure_equal_lavaan(name, model, estimator):
    """One block with meanstructure=True (lavaan's table has no group column; was refused)."""
    res = survey.sem.fit(REF["models"][model], DATA["hs"], estimator=estimator, meanstructure=True)
    ours = res.modindices()
    assert "group" not in ours.columns
    want = pd.DataFrame(REF["cases"][name]["modindices"])
    both = want.merge(ours, on=KEY[:3], how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) > 50
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)
