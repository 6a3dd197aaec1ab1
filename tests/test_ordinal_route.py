"""The engine's ``survey.sem.fit`` with ordered items (survey/sem/ordinal/route.py): its options reach the
ordinal fits (std_lv, se="robust.sem" = lavaan's WLSMV default) with lavaan's numbers, and the options the
ordinal fits do not implement are refused with one-line input errors instead of being ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((HERE / "reference.json").read_text())
MODEL = REF["models"]["bfi"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(HERE / "bfi.csv")


def test_std_lv_and_lavaans_se_name_reach_the_ordinal_fit(data):
    res = fit(MODEL, data, ordered=True, std_lv=True, se="robust.sem")
    ref = REF["cases"]["bfi_stdlv"]
    want = {(r["lhs"], r["op"], r["rhs"]): r for r in ref["estimates"]}
    rows = res.estimates()[res.estimates()["op"] == "=~"]
    assert len(rows) == 10
    for row in rows.itertuples():
        assert row.est == pytest.approx(want[(row.lhs, row.op, row.rhs)]["est"], abs=1e-5)
        assert row.se == pytest.approx(want[(row.lhs, row.op, row.rhs)]["se"], abs=1e-5)
    assert res.fit_measures()["chisq.scaled"] == pytest.approx(ref["fit_measures"]["chisq.scaled"], rel=1e-6)


@pytest.mark.parametrize("options,message", [
    ({"group": "gender", "parameterization": "gamma"},
     "argument `parameterization' should be `delta' or `theta'"),
    ({"se": "robust.huber.white"}, "lavaan 0.6.14 refuses it (invalid value in se= argument"),
    ({"se": "first.order"}, "if robust test statistics are requested"),
    ({"auto_fix_first": False}, "auto_fix_first= is not available with ordered items"),
    ({"cluster": "no_such_column"}, "cluster column not found in the data"),
])
def test_unimplemented_options_with_ordered_items_are_refused(data, options, message):
    with pytest.raises(SurveyInputError, match=message.replace("(", r"\(")):
        fit(MODEL, data, ordered=True, **options)


def test_two_groups_take_continuous_variables_beside_the_ordered_ones(data):
    # lavaan fits these (tests/test_ordinal_missing.py holds them to lavaan); none ordered is refused
    res = fit(MODEL, data, ordered=["A1", "A2"], group="gender")
    est = res.estimates()
    assert set(est.loc[est["op"] == "|", "lhs"]) == {"A1", "A2"}
    assert set(est.loc[est["op"] == "~*~", "lhs"]) == {"A1", "A2"}
    with pytest.raises(SurveyInputError, match="none of the model's observed variables is ordered"):
        fit(MODEL, data, ordered=["age"], group="gender")


def test_cluster_with_ordered_items_is_lavaans_unclustered_fit_with_a_warning(data):
    """lavaan 0.6.14 accepts cluster= with ordered items and returns the unclustered SEs and tests (checked in
    R: max |se diff| 0, se labelled robust.cluster.sem); we fit the same numbers and say it in a warning."""
    plain = fit(MODEL, data, ordered=True)
    clustered = fit(MODEL, data, ordered=True, cluster="age")
    assert clustered.estimates()[["est", "se"]].equals(plain.estimates()[["est", "se"]])
    assert clustered.fit_measures()["chisq.scaled"] == plain.fit_measures()["chisq.scaled"]
    lavaan = REF["cases"]["bfi_wlsmv"]["fit_measures"]["chisq.scaled"]
    assert plain.fit_measures()["chisq.scaled"] == pytest.approx(lavaan, rel=1e-6)
    codes = [w.code for w in clustered.warnings]
    assert codes.count("cluster_ignored_ordinal") == 1
    assert "cluster_ignored_ordinal" not in [w.code for w in plain.warnings]
