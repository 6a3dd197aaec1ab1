"""std.nox (standardizedSolution(type="std.nox")) and modindices() with epc/sepc.lv/sepc.all/sepc.nox
against lavaan 0.6.14. Fixtures: tests/fixtures/language_modindices/make_modindices.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.results.std_nox import nox_adjust, result_std_nox

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "language_modindices" / "modindices.json").read_text())["cases"]


@pytest.fixture(scope="module")
def results():
    return {name: fit(c["syntax"], pd.read_csv(FIXTURES / "sem" / f"{c['data']}.csv"))
            for name, c in REFERENCE.items()}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_std_nox_equals_lavaan(results, name):
    ours = result_std_nox(results[name])
    ref = pd.DataFrame(REFERENCE[name]["std_nox"])
    keys = list(zip(ref.lhs, ref.op, ref.rhs, strict=True))
    assert list(zip(ours.lhs, ours.op, ours.rhs, strict=True)) == keys
    np.testing.assert_allclose(ours["est.std"], ref["est.std"], atol=1e-3)
    np.testing.assert_allclose(ours["se"], ref["se"].fillna(0), atol=1e-3)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_modindices_with_sepc_nox_equal_lavaan(results, name):
    res = results[name]
    ours = res.modindices()
    ref = pd.DataFrame(REFERENCE[name]["modindices"])
    x = set(res.ram.names.ov_x)  # fixed.x moments (mi ~ 1e-30 in lavaan) are not candidates
    ref = ref[~(ref.lhs.isin(x) & ref.rhs.isin(x) & (ref.op == "~~"))].reset_index(drop=True)
    keys = list(zip(ref.lhs, ref.op, ref.rhs, strict=True))
    assert list(zip(ours.lhs, ours.op, ours.rhs, strict=True)) == keys
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(ours[col], ref[col], atol=1e-3, err_msg=col)


def test_nox_differs_from_all_only_on_covariate_rows():
    rows = pd.DataFrame({"lhs": ["y", "y", "x", "f"], "op": ["~", "~", "~~", "=~"],
                         "rhs": ["x", "f", "x", "y"]})
    raw = np.array([0.5, 0.3, 4.0, 1.0])
    std_all = np.array([0.4, 0.2, 1.0, 0.7])
    out = nox_adjust(rows, raw, std_all, ["x"], {"x": 2.0})
    assert list(out) == [0.2, 0.2, 4.0, 0.7]
