"""Modification indices of the continuous least-squares estimators (GLS, ULS, WLS, DWLS) against lavaan
0.6.14's modindices() (tests/fixtures/language/make_ls_modindices.R -> ls_modindices.json): the HS CFA
and MIMIC models, every candidate lavaan lists, mi / epc / sepc.lv / sepc.all / sepc.nox within 1e-3."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem.fit_report import extra_tables

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "ls_modindices.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")
COLS = ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox")


@cache  # each case fitted once per module (the tests only read the result)
def _fit(name: str):
    case = REF["cases"][name]
    return survey.cfa(REF["models"][case["model"]], HS, estimator=case["estimator"])


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_ls_modindices_equal_lavaan(name):
    want = pd.DataFrame(REF["cases"][name]["modindices"])
    ours = _fit(name).modindices()
    both = want.merge(ours, on=["lhs", "op", "rhs"], how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) > 50
    for col in COLS:
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)


def test_ls_modindices_differ_from_ml_and_reach_the_cli_table():
    uls = _fit("hs_uls")
    ml = survey.cfa(REF["models"]["hs"], HS).modindices().set_index(["lhs", "op", "rhs"])["mi"]
    mi = uls.modindices(sort=True)
    assert mi.iloc[0][["lhs", "op", "rhs"]].tolist() == ["visual", "=~", "x9"]
    assert abs(mi.iloc[0]["mi"] - ml[("visual", "=~", "x9")]) > 1.0  # the estimator's own W, not ML's
    table = extra_tables(uls, modindices=True)["modindices"]
    assert table["json"][0]["lhs"] == "visual" and table["json"][0]["mi"] == pytest.approx(mi.iloc[0]["mi"])
