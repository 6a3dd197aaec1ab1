"""Ordinal measurement invariance across gender (survey/sem/ordinal/invariance.py, ``survey invariance
--ordered``): Wu & Estabrook's (2016) order configural -> thresholds -> thresholds + loadings, each step's
scaled fit and lavaan's scaled-shifted difference test (lavTestLRT, Satorra 2000) against lavaan 0.6.14
(tests/fixtures/ordinal/make_invariance.R)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem.ordinal.difftest import satorra_2000
from survey.sem.ordinal.invariance import ordinal_invariance
from survey.sem.ordinal.multigroup import fit_ordinal_groups

HERE = Path(__file__).parent / "fixtures" / "ordinal"
REF = json.loads((HERE / "invariance.json").read_text())
BFI = pd.read_csv(HERE / "bfi.csv")
MODEL = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\n"


@cache
def sequence():
    return ordinal_invariance(MODEL, BFI, "gender")


def test_difference_tests_equal_lavtestlrt():
    seq = sequence()
    for step in ("thresholds", "loadings"):
        row = next(s for s in seq.steps if s["model"] == step)
        ref = REF["lrt"]["thresholds" if step == "thresholds" else "metric"]
        assert row["lrt.chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
        assert row["lrt.df"] == ref["df"]
        assert row["lrt.pvalue"] == pytest.approx(ref["pvalue"], rel=1e-5)


def test_steps_report_lavaan_scaled_fit_and_chen_decisions():
    seq = sequence()
    assert [s["model"] for s in seq.steps] == ["configural", "thresholds", "loadings"]
    for row, name in zip(seq.steps, ("configural", "thresholds", "metric"), strict=True):
        ref = REF["steps"][name]
        assert row["chisq"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)
        assert row["df"] == ref["df"]
        for ours, theirs in (("cfi", "cfi.scaled"), ("tli", "tli.scaled"), ("rmsea", "rmsea.scaled"),
                             ("srmr", "srmr")):
            assert row[ours] == pytest.approx(ref[theirs], abs=1e-6), (name, ours)
        assert row["aic"] is None and row["bic"] is None
    conf, thr, load = seq.steps
    assert conf["decision"] == "reference" and conf["delta.cfi"] is None
    # thresholds: delta CFI = .9378 - .9443 = -.0065 >= -.010 -> invariant; loadings improve the fit
    assert thr["delta.cfi"] == pytest.approx(REF["steps"]["thresholds"]["cfi.scaled"]
                                             - REF["steps"]["configural"]["cfi.scaled"], abs=1e-6)
    assert thr["decision"] == "invariant" and load["decision"] == "invariant"
    out = seq.to_dict()
    assert out["estimator"] == "WLSMV" and out["group_labels"] == [1, 2] and len(out["steps"]) == 3
    assert "thresholds" in seq.summary() and "Wu & Estabrook" in seq.summary()


def test_difftest_refuses_models_that_are_not_nested_in_that_order():
    conf = fit_ordinal_groups(MODEL, BFI, "gender")
    thr = sequence().fits["thresholds"]
    with pytest.raises(SurveyInputError, match="more degrees of freedom"):
        satorra_2000(thr, conf)
    with pytest.raises(SurveyInputError, match="configural"):
        ordinal_invariance(MODEL, BFI, "gender", steps=("thresholds", "configural"))
    with pytest.raises(SurveyInputError, match="unknown invariance step"):
        ordinal_invariance(MODEL, BFI, "gender", steps=("configural", "scalar"))


def test_cli_invariance_ordered(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(MODEL)

    def run(argv):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        return code, capsys.readouterr()

    code, out = run(["invariance", str(model), str(HERE / "bfi.csv"), "--group", "gender", "--ordered", "all",
                     "--json"])
    assert code == 0
    res = json.loads(out.out)
    assert [s["model"] for s in res["steps"]] == ["configural", "thresholds", "loadings"]
    assert res["steps"][2]["lrt.chisq"] == pytest.approx(REF["lrt"]["metric"]["chisq"], rel=1e-6)
    code, out = run(["invariance", str(model), str(HERE / "bfi.csv"), "--group", "gender", "--ordered",
                     "A1,A2", "--json"])
    assert code == 2 and out.out == "" and "--ordered all" in out.err and "Traceback" not in out.err
    code, out = run(["invariance", str(model), str(HERE / "bfi.csv"), "--group", "gender", "--ordered", "all",
                     "--estimator", "MLR"])
    assert code == 2 and "WLSMV" in out.err and len(out.err.strip().splitlines()) == 1
    code, out = run(["invariance", str(model), str(HERE / "bfi.csv"), "--group", "gender", "--ordered", "all",
                     "--criterion", "lrt"])
    assert code == 2 and "--criterion is not available with --ordered" in out.err
    # --groups chooses (and orders) the groups; the sequence is the one of the data restricted to them
    code, out = run(["invariance", str(model), str(HERE / "bfi.csv"), "--group", "gender", "--ordered", "all",
                     "--groups", "2,1", "--no-partial", "--json"])
    assert code == 0 and json.loads(out.out)["group_labels"] == [2, 1]
