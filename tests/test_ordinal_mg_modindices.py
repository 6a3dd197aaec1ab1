"""modindices() of two-group ordinal fits with equality constraints against lavaan 0.6.14
(tests/fixtures/mg_modindices/make_ordinal_mg_modindices.R -> ordinal_mg_modindices.json; bfi by gender):
equal thresholds and loadings (WLSMV; lavaan also scores the markers and the items' intercepts), equal
loadings (ULSMV; the scale factors), equal loadings and intercepts (WLS, full weight). The same rows per
group, mi / epc / sepc.lv / sepc.all / sepc.nox within 1e-3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "mg_modindices" / "ordinal_mg_modindices.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")
KEY = ["lhs", "op", "rhs", "group"]
CASES = {"thr_load_wlsmv": ("WLSMV", ["thresholds", "loadings"]), "load_ulsmv": ("ULSMV", ["loadings"]),
         "scalar_wls": ("WLS", ["loadings", "intercepts"])}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ordinal_group_equal_modindices_equal_lavaan(name):
    est, equal = CASES[name]
    assert not REF["cases"][name]["error"] and not REF["cases"][name]["warnings"]
    res = fit(REF["model"], BFI, ordered=True, group="gender", estimator=est, group_equal=equal)
    want = pd.DataFrame(REF["cases"][name]["modindices"])
    both = want.merge(res.modindices(), on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(want) == 134
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col].to_numpy(float), both[f"{col}_ref"].to_numpy(float), atol=1e-3,
                                   err_msg=col)
    ops = set(both["op"])
    assert ("~1" in ops) == ("thresholds" in equal or "intercepts" in equal) and ("~*~" in ops) == (
        "thresholds" not in equal and "intercepts" not in equal)


def test_theta_parameterization_still_refused_in_one_line():
    res = fit(REF["model"], BFI, ordered=True, group="gender", group_equal=["loadings"],
              parameterization="theta")
    with pytest.raises(SurveyInputError, match="parameterization='delta'") as err:
        res.modindices()
    assert "\n" not in str(err.value)
