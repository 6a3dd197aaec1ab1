"""modindices() of one-group ordinal fits mixing ordered and continuous items, no covariates (issue 16,
brief ordmi): lavaan 0.6.14's candidates, mi, epc, sepc.lv and sepc.all (fixture
tests/fixtures/ordinal_more/modindices_mixed.json; make_modindices_mixed.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ordinal_more"
REF = json.loads((HERE / "modindices_mixed.json").read_text())
BFI = pd.read_csv(HERE.parent / "ordinal" / "bfi.csv")
KEY = ["lhs", "op", "rhs"]


@pytest.mark.parametrize("case,options", [("wlsmv", {}), ("ulsmv", {"estimator": "ULSMV"}),
                                          ("wlsmv_theta", {"parameterization": "theta"})])
def test_mixed_modindices_equal_lavaan(case, options):
    res = fit(REF["model"], BFI, ordered=REF["ordered"], **options)
    mine = res.modindices().set_index(KEY)
    ref = pd.DataFrame(REF[case]).set_index(KEY)
    assert set(mine.index) == set(ref.index) and len(mine) == 55  # 10 loadings + 45 residual covariances
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    # a continuous item's sepc.all divides by its model-implied SD (not 1 as for an ordered item)
    cont = m.loc[("A", "=~", "C1")]
    assert abs(cont["sepc.all"] - cont["sepc.lv"]) > 0.01


def test_mixed_configural_group_modindices_equal_lavaan():
    """Two groups without equality constraints: each group's one-group indices with its N_g."""
    res = fit(REF["model"], BFI, ordered=REF["ordered"], group="gender")
    key = [*KEY, "group"]
    mine = res.modindices().set_index(key)
    ref = pd.DataFrame(REF["groups"]).set_index(key)
    assert set(mine.index) == set(ref.index) and len(mine) == 110
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
