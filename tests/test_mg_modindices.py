"""Modification indices of multi-group fits against lavaan 0.6.14's modindices()
(tests/fixtures/mg_modindices/make_mg_modindices.R -> mg_modindices.json): HolzingerSwineford1939 by
school, configural and group.equal (loadings; loadings + intercepts) under ML, MLR and FIML (data with
holes). The same candidate rows per group (lhs op rhs group); epc / sepc.lv / sepc.all / sepc.nox within
1e-3; mi within 1e-3 or 1e-4 relative (lavaan's optimum has max |gradient| 1.6e-6: its estimates differ
from the exact optimum by up to 1.6e-5, which moves an mi of 24.8 by 1.3e-3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.fit_report import extra_tables

HERE = Path(__file__).parent / "fixtures" / "mg_modindices"
REF = json.loads((HERE / "mg_modindices.json").read_text())
DATA = {"hs": pd.read_csv(HERE / "hs39.csv"), "holes": pd.read_csv(HERE / "hs39_holes.csv")}
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
}


def _fit(name: str):
    data, kw = CASES[name]
    return survey.sem.fit(REF["models"]["hs"], DATA[data], group="school", **kw)


def _compare(want: pd.DataFrame, ours: pd.DataFrame) -> None:
    both = want.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) > 100
    assert set(both["group"]) == {1, 2}
    mi, mi_ref = both["mi"].to_numpy(float), both["mi_ref"].to_numpy(float)
    assert np.all(np.abs(mi - mi_ref) <= np.maximum(1e-3, 1e-4 * mi_ref)), np.max(np.abs(mi - mi_ref))
    for col in ("epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)


@pytest.mark.parametrize("name", sorted(CASES))
def test_group_modindices_equal_lavaan(name):
    assert not REF["cases"][name]["error"] and not REF["cases"][name]["warnings"]
    _compare(pd.DataFrame(REF["cases"][name]["modindices"]), _fit(name).modindices())


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
