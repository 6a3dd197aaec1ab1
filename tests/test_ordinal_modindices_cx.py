"""modindices() of one-group ordinal fits with observed covariates (lavaan conditional.x) against lavaan
0.6.14 (tests/fixtures/ordinal_more/make_modindices_cx.R: bfi MIMIC model, A ~ age, C ~ gender; WLSMV and
ULSMV): the same 59 candidates (cross-loadings, residual covariances, factor regressions on factors and
covariates), mi, epc, sepc.lv, sepc.all and sepc.nox."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_more" / "modindices_cx.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")
KEYS = ["lhs", "op", "rhs"]


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_modindices_with_covariates_equal_lavaan(case):
    c = REF["cases"][case]
    res = fit(REF["model"], BFI, ordered=REF["ordered"], estimator=c["estimator"])
    mine = res.modindices()
    ref = pd.DataFrame(c["modindices"])
    assert sorted(map(tuple, mine[KEYS].to_numpy())) == sorted(map(tuple, ref[KEYS].to_numpy()))
    both = ref.merge(mine, on=KEYS, suffixes=("_r", ""))
    assert set(mine["op"]) == {"=~", "~~", "~"}
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        want, got = both[f"{col}_r"].to_numpy(dtype=float), both[col].to_numpy(dtype=float)
        # relative beyond 1: the factor-on-factor candidates beside a free factor covariance have mi ~ 10^2
        assert np.all(np.abs(got - want) <= 1e-3 * np.maximum(1.0, np.abs(want))), col
    # sepc.nox differs from sepc.all exactly for the regressions on covariates
    on_x = both["rhs"].isin(["age", "gender"]).to_numpy()
    assert np.allclose(both.loc[on_x, "sepc.nox"], both.loc[on_x, "sepc.lv"])
    assert np.allclose(both.loc[~on_x, "sepc.nox"], both.loc[~on_x, "sepc.all"])
