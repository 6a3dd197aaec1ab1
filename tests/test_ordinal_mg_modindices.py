"""modindices() of two-group ordinal fits with equality constraints against lavaan 0.6.14
(tests/fixtures/mg_modindices/make_ordinal_mg_modindices.R -> ordinal_mg_modindices.json; bfi by gender):
equal thresholds and loadings (WLSMV; lavaan also scores the markers and the items' intercepts), equal
loadings (ULSMV; the scale factors), equal loadings and intercepts (WLS, full weight); parameterization
"theta" with equal loadings and configural (the residual variances). The same rows per
group, mi / epc / sepc.lv / sepc.all / sepc.nox within 1e-3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "mg_modindices" / "ordinal_mg_modindices.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")
KEY = ["lhs", "op", "rhs", "group"]
CASES = {"thr_load_wlsmv": ("WLSMV", ["thresholds", "loadings"], "delta"),
         "load_ulsmv": ("ULSMV", ["loadings"], "delta"),
         "scalar_wls": ("WLS", ["loadings", "intercepts"], "delta"),
         "load_theta_wlsmv": ("WLSMV", ["loadings"], "theta"),  # the residual variances freed
         "config_theta_wlsmv": ("WLSMV", [], "theta")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ordinal_group_equal_modindices_equal_lavaan(name):
    est, equal, param = CASES[name]
    assert not REF["cases"][name]["error"] and not REF["cases"][name]["warnings"]
    res = fit(REF["model"], BFI, ordered=True, group="gender", estimator=est, group_equal=equal,
              parameterization=param)
    want = pd.DataFrame(REF["cases"][name]["modindices"])
    both = want.merge(res.modindices(), on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) == (134 if equal else 110)
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)
    ops = set(both["op"])
    assert ("~1" in ops) == ("thresholds" in equal or "intercepts" in equal)
    assert ("~*~" in ops) == (param == "delta" and "thresholds" not in equal and "intercepts" not in equal)
    variances = both[(both["op"] == "~~") & (both["lhs"] == both["rhs"])]
    assert (len(variances) > 0) == (param == "theta" and bool(equal))  # configural: not identified

