"""The invariance sequence with missing = "two.stage" / "robust.two.stage" (ML and MLR) against lavaan
0.6.14 (tests/fixtures/invariance_twostage/make_invariance_twostage.R -> invariance_twostage.json; HS CFA
by school on data with holes, every fit the sequence makes, partial ones included).

lavaan's test of a two-stage fit is "satorra.bentler" beside the standard one, and ``lavTestLRT`` of two
two-stage fits is the Satorra-Bentler (2001) scaled difference: the table reports chisq.scaled and the
robust CFI / TLI / RMSEA (as under MLR) and that difference; the score tests that choose the released
constraints are lavaan's ``lavTestScore(fit)$uni`` (expected information at the EM moments). Fit measures,
differences and score tests within 1e-3."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.sem.invariance import invariance

HERE = Path(__file__).parent / "fixtures" / "invariance_twostage"
REF = json.loads((HERE / "invariance_twostage.json").read_text())
MAR = pd.read_csv(HERE / REF["data"])
NAMES = {"configural": "configural", "metric": "metric", "scalar": "scalar",
         "scalar (partial 1)": "scalar_p1", "scalar (partial 2)": "scalar_p2", "strict": "strict",
         "strict (partial 1)": "strict_p1"}
REPORTED = {"chisq": "chisq.scaled", "df": "df", "cfi": "cfi.robust", "tli": "tli.robust",
            "rmsea": "rmsea.robust", "srmr": "srmr", "aic": "aic", "bic": "bic"}
KEY = ["lhs", "op", "rhs", "group.a", "group.b"]


@pytest.fixture(scope="module", params=sorted(REF["cases"]))
def sequence(request):
    missing, estimator = request.param.rsplit("_", 1)
    return REF["cases"][request.param], invariance(REF["model"], MAR, "school", missing=missing,
                                                   estimator=estimator)


def test_every_fitted_step_equals_lavaan(sequence):
    ref, res = sequence
    frame = res.to_frame()
    assert [NAMES[m] for m in frame["model"]] == list(ref)  # the same fits, released in the same order
    for row, step in zip(frame.to_dict(orient="records"), res.steps, strict=True):
        want = ref[NAMES[row["model"]]]
        assert sorted(step.freed) == sorted(want["partial"])
        for ours, theirs in REPORTED.items():
            assert row[ours] == pytest.approx(want["fit_measures"][theirs], abs=1e-3), (row["model"], ours)
        if "lrt" in want:
            assert "satorra.bentler.2001" in want["lrt"]["method"]
            assert row["lrt.chisq"] == pytest.approx(want["lrt"]["chisq"], abs=1e-3)
            assert row["lrt.df"] == want["lrt"]["df"]
            assert row["lrt.pvalue"] == pytest.approx(want["lrt"]["pvalue"], abs=1e-4)


def test_score_tests_equal_lavaan_and_choose_the_released_constraint(sequence):
    ref, res = sequence
    for step in res.steps[1:]:
        want = pd.DataFrame(ref[NAMES[step.model]]["score"])
        ours = step.fit.score_tests()
        both = want.merge(ours, on=KEY, how="outer", suffixes=("_ref", ""), indicator=True)
        assert (both["_merge"] == "both").all() and len(both) == len(want) > 5
        np.testing.assert_allclose(both["X2"], both["X2_ref"], atol=1e-3)
        if not step.final:  # the next fit released lavaan's largest score test of this step's class
            nxt = res.steps[res.steps.index(step) + 1]
            released = [f for f in nxt.freed if f not in step.freed]
            assert len(released) == 1
            cls = want[want["op"] == ("~1" if step.step == "scalar" else "~~")]
            top = cls.sort_values("X2", ascending=False).iloc[0]
            assert released[0] == f"{top['lhs']}{top['op']}{top['rhs']}"


def test_measures_name_the_robust_columns(sequence):
    _, res = sequence
    assert res.measures["chisq"] == "chisq.scaled" and "Satorra-Bentler" in res.measures["lrt.chisq"]
    assert "chisq = chisq.scaled" in res.summary()


def test_cli_invariance_two_stage(capsys, tmp_path):
    csv = tmp_path / "mar.csv"
    MAR.to_csv(csv, index=False)
    lav = tmp_path / "hs.lav"
    lav.write_text(REF["model"])
    try:
        main(["invariance", str(lav), str(csv), "--group", "school", "--missing", "two.stage", "--json"])
    except SystemExit as exc:
        assert int(exc.code or 0) == 0
    out = json.loads(capsys.readouterr().out)
    ref = REF["cases"]["two.stage_ML"]
    assert [NAMES[s["model"]] for s in out["steps"]] == list(ref)
    for s in out["steps"]:
        assert s["chisq"] == pytest.approx(ref[NAMES[s["model"]]]["fit_measures"]["chisq.scaled"], abs=1e-3)


def test_single_group_two_stage_score_tests_equal_lavaan():
    from survey.sem import fit

    ref = REF["single_labels"]
    res = fit(ref["model"], MAR, missing="two.stage")
    both = pd.DataFrame(ref["score"]).merge(res.score_tests(), on=KEY, suffixes=("_ref", ""))
    assert len(both) == 2
    np.testing.assert_allclose(both["X2"], both["X2_ref"], atol=1e-3)
