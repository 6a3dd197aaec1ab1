"""``survey fit --ordered`` and ``survey.sem.fit(..., ordered=...)``: routed to the ordinal WLSMV fit, with
lavaan's threshold rows in the JSON estimates and one-line errors (exit status 2) for bad combinations."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey.cli import main
from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((HERE / "reference.json").read_text())
BFI = HERE / "bfi.csv"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def model_file(tmp_path):
    path = tmp_path / "bfi.lav"
    path.write_text(REF["models"]["bfi"])
    return path


def test_cli_json_has_lavaans_threshold_rows_and_numbers(model_file, capsys):
    code, out, err = run(["fit", str(model_file), str(BFI), "--ordered", "all", "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["estimator"] == "WLSMV" and res["nobs"] == 941
    ref = REF["cases"]["bfi_wlsmv"]
    assert res["fit_measures"]["chisq.scaled"] == pytest.approx(ref["fit_measures"]["chisq.scaled"], rel=1e-6)
    th = [r for r in res["estimates"] if r["op"] == "|"]
    assert [r["rhs"] for r in th[:5]] == ["t1", "t2", "t3", "t4", "t5"] and len(th) == 50
    want = {(r["lhs"], r["op"], r["rhs"]): r for r in ref["estimates"]}
    for row in th + [r for r in res["estimates"] if r["op"] == "=~"]:
        key = (row["lhs"], row["op"], row["rhs"])
        assert row["est"] == pytest.approx(want[key]["est"], abs=1e-5)
        assert row["se"] == pytest.approx(want[key]["se"], abs=1e-5)
        assert row["group"] == 1
    assert set(res["r2"]) == {f"A{i}" for i in range(1, 6)} | {f"C{i}" for i in range(1, 6)}


def test_cli_text_summary_has_a_thresholds_section(model_file, capsys):
    items = ",".join(f"{f}{i}" for f in "AC" for i in range(1, 6))
    code, out, _ = run(["fit", str(model_file), str(BFI), "--estimator", "WLSMV", "--ordered", items,
                        "--missing", "pairwise"], capsys)
    assert code == 0
    assert "Thresholds:" in out and "A1|t1" in out and "Scales y*:" in out
    assert f"{REF['cases']['bfi_pairwise_wlsmv']['fit_measures']['chisq.scaled']:.3f}" in out


@pytest.mark.parametrize("argv,message", [
    (["--estimator", "WLSMV", "--missing", "fiml"], "not allowed for estimator"),  # continuous: DWLS
    (["--ordered", "age", "--group", "gender"], "none of the model's observed variables is ordered"),
    (["--ordered", "A1,A2", "--missing", "ml"], "not available in the categorical setting"),
    (["--ordered", "all", "--estimator", "MLR"], "not available with ordered"),
    (["--ordered", "all", "--missing", "fiml"], "missing"),
    (["--ordered", "all", "--group", "gender", "--group-equal", "slopes"], "unknown value for group.equal"),
    (["--ordered", "all", "--compare-paths", "A"], "no regression paths"),
    (["--ordered", "A1,A2", "--residuals", "normalized"], "not ready yet"),
])
def test_cli_bad_ordinal_options_exit_2_with_one_line(model_file, capsys, argv, message):
    code, out, err = run(["fit", str(model_file), str(BFI), *argv], capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_two_groups_with_thresholds_and_loadings_equal(model_file, capsys):
    code, out, err = run(["fit", str(model_file), str(BFI), "--ordered", "all", "--group", "gender",
                          "--group-equal", "thresholds,loadings", "--json"], capsys)
    assert code == 0, err
    res = json.loads(out)
    ref = REF["cases"]["bfi_groups_thresholds_loadings"]
    assert res["nobs"] == sum(ref["nobs"])
    assert res["fit_measures"]["chisq.scaled"] == pytest.approx(ref["fit_measures"]["chisq.scaled"], rel=1e-6)
    scale = [r for r in res["estimates"] if r["op"] == "~*~" and r["group"] == 2]
    want = {(r["lhs"], r["group"]): r["est"] for r in ref["estimates"] if r["op"] == "~*~"}
    assert len(scale) == 10 and all(r["est"] == pytest.approx(want[(r["lhs"], 2)], abs=1e-5) for r in scale)


def test_python_fit_routes_ordered_items():
    data = pd.read_csv(BFI)
    res = fit(REF["models"]["bfi"], data, ordered=True, parameterization="theta")
    assert res.estimator == "WLSMV" and res.parameterization == "theta"
    cases = REF["cases"]
    assert res.fit_measures()["chisq"] == pytest.approx(cases["bfi_theta"]["fit_measures"]["chisq"], rel=1e-6)
    ulsmv = fit(REF["models"]["bfi"], data, estimator="ULSMV", ordered="all")
    ref_chisq = cases["bfi_ulsmv"]["fit_measures"]["chisq"]
    assert ulsmv.fit_measures()["chisq"] == pytest.approx(ref_chisq, rel=1e-6)
    with pytest.raises(SurveyInputError, match="bootstrap"):
        fit(REF["models"]["bfi"], data, ordered=True, se="bootstrap")


def test_cli_modindices_with_ordered_items(model_file, capsys):
    code, out, err = run(["fit", str(model_file), str(BFI), "--ordered", "all", "--modindices", "--json"],
                         capsys)
    assert code == 0, err
    mi = json.loads(out)["modindices"]
    assert mi and mi[0]["mi"] >= mi[-1]["mi"] and {"lhs", "op", "rhs", "mi", "epc", "sepc.all"} <= set(mi[0])
