"""lavaan's threshold formulas ``item | t1`` with ordered items (one group): labels shared among items,
fixed values, start(), theta parameterization, ULSMV, 3 / 5 / 6 categories; meanstructure = TRUE and
fixed.x = TRUE, which lavaan accepts with ordered items without effect. Reference:
tests/fixtures/ordinal_labels/make_ordinal_labels.R (lavaan 0.6.14); est, se, std.all and the fit
measures within 1e-3."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "ordinal_labels"
REF = json.loads((HERE / "ordinal_labels.json").read_text())
DATA = {"hs": pd.read_csv(HERE / "hs_cut.csv").drop(columns="id"),
        "bfi": pd.read_csv(HERE.parent / "ordinal" / "bfi.csv")}


@cache  # each case fitted once per module (the tests only read the result)
def _fit(name: str):
    case = REF[name]
    opts = {k.replace(".", "_"): v for k, v in (case["opts"] or {}).items()}  # lavaan's names, ours
    return survey.cfa(case["model"], DATA[case["data"]], ordered=True, **opts)


@pytest.mark.parametrize("name", sorted(REF))
def test_threshold_formulas_equal_lavaan(name):
    res = _fit(name)
    ours = res.estimates().set_index(["lhs", "op", "rhs"])
    for row in REF[name]["estimates"]:
        key = (row["lhs"], row["op"], row["rhs"])
        got = ours.loc[key]
        for col in ("est", "se", "std.all"):
            want = row[col]
            if want is None:
                continue
            assert float(got[col]) == pytest.approx(want, abs=1e-3, rel=1e-3), (key, col)
        if row["op"] == "|":
            assert (got["label"] or "") == (row["label"] or ""), key
    fm = res.fit_measures()
    for k, want in REF[name]["fit_measures"].items():
        if want is None or (isinstance(want, float) and math.isnan(want)):
            continue
        assert fm[k] == pytest.approx(want, abs=1e-3, rel=1e-3), k


def test_threshold_labels_in_inequality_constraints_are_refused_in_one_line():
    model = REF["shared"]["model"] + "\na < b"  # := and label == label: test_threshold_groups
    with pytest.raises(SurveyInputError, match="threshold labels") as info:
        survey.cfa(model, DATA["hs"], ordered=True)
    assert "\n" not in str(info.value)


def test_threshold_formulas_with_groups_and_continuous_items_are_refused_in_one_line():
    data = DATA["hs"].assign(g=[i % 2 for i in range(len(DATA["hs"]))])  # groups: test_threshold_groups
    with pytest.raises(SurveyInputError, match="continuous variables are not available yet") as info:
        survey.cfa(REF["shared"]["model"], data, ordered=[f"r{i}" for i in range(1, 6)], group="g")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("method", ["modindices"])  # delta, vcov, score tests: test_threshold_groups
def test_what_tied_thresholds_do_not_carry_is_refused_in_one_line(method):
    res = _fit("theta")  # modindices after threshold formulas with the theta parameterization
    with pytest.raises(SurveyInputError, match="threshold formulas") as info:
        getattr(res, method)()
    assert "\n" not in str(info.value)


def test_bootstrap_after_threshold_formulas_is_refused_in_one_line():
    with pytest.raises(SurveyInputError, match="bootstrap standard errors after threshold formulas"):
        survey.cfa(REF["shared"]["model"], DATA["hs"], ordered=True, estimator="DWLS", se="bootstrap")


def test_residuals_and_summary_after_threshold_formulas():
    res = _fit("shared")
    assert "Thresholds" in res.summary()
    assert res.to_dict()["estimates"]
    assert res.residuals()


def _cli(argv, capsys):
    from survey.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_fits_threshold_formulas_with_ordered_items(tmp_path, capsys):
    model = tmp_path / "m.lav"
    model.write_text(REF["shared"]["model"] + "\n")
    data = str(HERE / "hs_cut.csv")
    code, out, _ = _cli(["fit", str(model), data, "--ordered", "r1,r2,r3,r4,r5,r6", "--json"], capsys)
    assert code == 0
    got = json.loads(out)
    assert got["fit_measures"]["chisq"] == pytest.approx(REF["shared"]["fit_measures"]["chisq"], abs=1e-3)
    th = {(e["lhs"], e["rhs"]): e for e in got["estimates"] if e["op"] == "|"}
    assert th[("r1", "t1")]["label"] == th[("r2", "t1")]["label"] == "a"
    code, _, err = _cli(["fit", str(model), data, "--json"], capsys)  # continuous: one-line refusal
    assert code == 2 and "need ordered items" in err and err.strip().count("\n") == 0
