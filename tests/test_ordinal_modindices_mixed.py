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


# With observed covariates (lavaan conditional.x): modindices_mixed_cx.json; make_modindices_mixed_cx.R
CX = json.loads((HERE / "modindices_mixed_cx.json").read_text())
BFI_X = BFI.assign(age10=BFI["age"] / 10)


@pytest.mark.parametrize("case,options", [("wlsmv", {}), ("ulsmv", {"estimator": "ULSMV"})])
def test_mixed_modindices_with_covariates_equal_lavaan(case, options):
    res = fit(CX["model"], BFI_X, ordered=CX["ordered"], **options)
    mine = res.modindices().set_index(KEY)
    ref = pd.DataFrame(CX[case]).set_index(KEY)
    # C ~ A is not identified beside the free A ~~ C (A has no covariate C lacks): lavaan drops its NA row
    assert set(mine.index) == set(ref.index) and len(mine) == 57 and ("C", "~", "A") not in mine.index
    m = mine.join(ref.add_suffix("_r"))
    for col in ("sepc.lv", "sepc.all", "sepc.nox", "epc"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
    close = m.drop(index=("A", "~", "C"))
    assert np.abs(close["mi"] - close["mi_r"]).max() < 1e-3
    # A ~ C frees the same direction as A ~ gender (A ~ age10 and A ~~ C are free): equal score tests.
    # lavaan's two differ by 3e-3 / 6e-3 (relative 3e-5 / 1e-5); ours agree with its A ~ gender to 1e-3
    ac, ag = m.loc[("A", "~", "C")], m.loc[("A", "~", "gender")]
    assert abs(ac["mi"] - ag["mi"]) < 1e-3 and abs(ag["mi"] - ag["mi_r"]) < 1e-3
    assert abs(ac["mi"] - ac["mi_r"]) < 1e-4 * ac["mi_r"]
    # an item's sepc.all divides by its total SD (given x an ordered y* has variance 1, not in total)
    a4 = m.loc[("C", "=~", "A4")]
    assert abs(a4["sepc.all"] - a4["sepc.lv"]) > 1e-4


def test_mixed_configural_group_modindices_with_covariates_equal_lavaan():
    res = fit(CX["model_groups"], BFI_X, ordered=CX["ordered"], group="gender")
    key = [*KEY, "group"]
    mine = res.modindices().set_index(key)
    ref = pd.DataFrame(CX["groups"]).set_index(key)
    assert set(mine.index) == set(ref.index) and len(mine) == 110  # A ~ C, C ~ A unidentified: dropped
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col


def test_cli_modindices_of_a_mixed_ordinal_fit(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(REF["model"])
    with pytest.raises(SystemExit) as done:
        main(["fit", str(model), str(HERE.parent / "ordinal" / "bfi.csv"), "--ordered",
              ",".join(REF["ordered"]), "--modindices", "--json"])
    assert not done.value.code
    top = json.loads(capsys.readouterr().out)["modindices"][0]  # largest first
    ref = pd.DataFrame(REF["wlsmv"]).sort_values("mi", ascending=False).iloc[0]
    assert [top[k] for k in KEY] == [ref[k] for k in KEY] == ["A1", "~~", "A2"]
    assert top["mi"] == pytest.approx(ref["mi"], abs=1e-3)
    assert top["sepc.all"] == pytest.approx(ref["sepc.all"], abs=1e-3)


@pytest.mark.parametrize("case,options", [
    ("groups_equal", {"group_equal": ["thresholds", "loadings"]}),
    ("groups_theta", {"parameterization": "theta"}),
])
def test_mixed_group_modindices_with_constraints_or_theta_equal_lavaan(case, options):
    """Equal thresholds and loadings: lavaan also scores the markers, the intercepts and the ordered items'
    scale factors (a continuous item has none); theta without constraints: the configural indices."""
    res = fit(REF["model"], BFI, ordered=REF["ordered"], group="gender", **options)
    key = [*KEY, "group"]
    mine = res.modindices().set_index(key)
    ref = pd.DataFrame(REF[case]).set_index(key)
    assert set(mine.index) == set(ref.index)
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col


def test_mixed_group_modindices_with_constraints_and_theta_equal_lavaan():
    res = fit(REF["model"], BFI, ordered=REF["ordered"], group="gender",
              group_equal=["thresholds", "loadings"], parameterization="theta")
    assert len(REF["groups_equal_theta"]) == 134  # lavaan: also 10 scale factors ~*~ of the ordered items
    keys = KEY + ["group"]
    mine = res.modindices().set_index(keys)
    ref = pd.DataFrame(REF["groups_equal_theta"]).set_index(keys)
    assert set(mine.index) == set(ref.index)
    m = mine.join(ref.add_suffix("_r"))
    for col in ("mi", "epc", "sepc.lv", "sepc.all"):
        assert np.abs(m[col] - m[f"{col}_r"]).max() < 1e-3, col
