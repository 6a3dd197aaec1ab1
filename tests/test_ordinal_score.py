"""lavTestScore(fit) of ordinal fits against lavaan 0.6.14 (tests/fixtures/ordinal_score/make_score.R;
bfi): the total and univariate score tests of the equality constraints (group.equal thresholds and
loadings, shared labels), two groups (WLSMV, DWLS, theta, a covariate, continuous items) and one group
(WLSMV, WLS, a covariate); under robust SEs lavaan's ordinary score test with its warning."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "ordinal_score" / "score.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")


@cache
def fitted(case: str):
    opts = dict(REF["cases"][case]["options"])
    group, equal = opts.pop("group", None), opts.pop("group.equal", ())
    ordered = opts.pop("ordered", True)
    return fit(REF["cases"][case]["model"], BFI, ordered=ordered, group=group,
               group_equal=[equal] if isinstance(equal, str) else equal, **opts)


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_score_tests_equal_lavaan(case):
    ref = REF["cases"][case]
    res = fitted(case)
    mine = res.score_tests()
    total = mine.attrs["total"]
    assert total["df"] == ref["total"]["df"]
    assert abs(total["X2"] - ref["total"]["X2"]) < 1e-3
    assert abs(total["p.value"] - ref["total"]["p.value"]) < 1e-3
    assert len(mine) == len(ref["uni"])
    want = pd.DataFrame([{"lhs": u["a"]["lhs"], "op": u["a"]["op"], "rhs": u["a"]["rhs"],
                          "group.a": u["a"]["group"], "group.b": u["b"]["group"], "X2": u["X2"],
                          "p.value": u["p.value"]} for u in ref["uni"]])
    for u in ref["uni"]:  # every constraint ties the same parameter in two rows
        assert (u["a"]["lhs"], u["a"]["op"]) == (u["b"]["lhs"], u["b"]["op"])
    assert mine[["lhs", "op", "rhs", "group.a", "group.b"]].values.tolist() == \
        want[["lhs", "op", "rhs", "group.a", "group.b"]].values.tolist()  # lavaan's order
    assert np.abs(mine["X2"].to_numpy() - want["X2"].to_numpy()).max() < 1e-3
    assert np.abs(mine["p.value"].to_numpy() - want["p.value"].to_numpy()).max() < 1e-3
    assert (mine["df"] == 1).all()
    warned = [ref["warnings"]] if isinstance(ref["warnings"], str) else ref["warnings"]
    assert mine.attrs["warnings"] == warned  # lavaan warns when se is not "standard"
    assert all(w in [str(x) for x in res.warnings] for w in warned)


def test_score_test_of_a_fit_without_constraints_is_refused_as_lavaan():
    model = REF["cases"]["groups"]["model"]
    with pytest.raises(SurveyInputError, match="no equality constraints found"):
        fit(model, BFI, ordered=True).score_tests()


def test_se_standard_override_has_no_warning():
    ref = REF["cases"]["groups"]
    res = fit(ref["model"], BFI, ordered=True, group="gender", group_equal=ref["options"]["group.equal"],
              se="standard")
    out = res.score_tests()
    assert out.attrs["warnings"] == []
    assert abs(out.attrs["total"]["X2"] - ref["total"]["X2"]) < 1e-3  # the same ordinary score test
