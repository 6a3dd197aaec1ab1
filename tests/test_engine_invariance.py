"""Invariance on survey data (issue 14, point 3): FIML (ML and MLR) across groups, choosing the groups
(``groups=``, ``--groups``) and leaving small ones out (``min_group_size=``, ``--min-group-size``), latent
mean differences once (partial) scalar invariance holds. Numbers against lavaan 0.6.14
(tests/fixtures/sem_engine/make_reference.R, tests/fixtures/invariance/make_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.errors import SurveyInputError
from survey.sem import fit, invariance
from survey.sem.invariance_groups import latent_means

HERE = Path(__file__).parent / "fixtures"
ENG = json.loads((HERE / "sem_engine" / "reference.json").read_text())
MAR = pd.read_csv(HERE / "sem_engine" / "hs_mar.csv")
CFA = ENG["models"]["cfa"]
INV = json.loads((HERE / "invariance" / "reference.json").read_text())["cases"]


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_fiml_sequence_equals_lavaan_configural_and_scalar():
    res = invariance(
        CFA, MAR, "school", missing="fiml", steps=["configural", "metric", "scalar"], partial=False
    )
    frame = res.to_frame().set_index("model")
    for step, case in (("configural", "mg_fiml_ml_configural"), ("scalar", "mg_fiml_ml_scalar")):
        if step not in frame.index:
            continue
        fm = ENG["cases"][case]["fit_measures"]
        for name in ("chisq", "df", "cfi", "tli", "rmsea", "srmr"):
            assert frame.loc[step, name] == pytest.approx(fm[name], abs=1e-3), (step, name)
    fm = ENG["cases"]["mg_fiml_ml_configural"]["fit_measures"]
    assert frame.loc["configural", "aic"] == pytest.approx(fm["aic"], rel=1e-8)
    assert res.steps[0].fit.nobs == 301  # every respondent, none deleted


def test_mlr_fiml_sequence_reports_lavaans_robust_measures():
    res = invariance(CFA, MAR, "school", missing="fiml", estimator="MLR", steps=["configural"])
    row = res.to_frame().iloc[0]
    fm = ENG["cases"]["mg_fiml_mlr_configural"]["fit_measures"]
    assert row["chisq"] == pytest.approx(fm["chisq.scaled"], abs=1e-3)
    assert row["cfi"] == pytest.approx(fm["cfi.robust"], abs=1e-3)
    assert row["rmsea"] == pytest.approx(fm["rmsea.robust"], abs=1e-3)


def test_latent_means_with_se_equal_lavaan_scalar_fiml():
    res = fit(CFA, MAR, group="school", missing="fiml", group_equal=["loadings", "intercepts"])
    means = latent_means(res)
    ref = pd.DataFrame(ENG["cases"]["mg_fiml_ml_scalar"]["estimates"])
    ref = ref[(ref["op"] == "~1") & ref["lhs"].isin(["visual", "textual", "speed"]) & (ref["group"] == 2)]
    merged = means.merge(ref, on=["lhs", "group"], suffixes=("", "_r"))
    assert len(merged) == 3
    np.testing.assert_allclose(merged["est"], merged["est_r"], atol=1e-3)
    np.testing.assert_allclose(merged["se"], merged["se_r"], atol=1e-3)
    np.testing.assert_allclose(merged["z"], merged["est_r"] / merged["se_r"], atol=1e-2)


def test_latent_means_reported_once_partial_scalar_holds():
    c = INV["planted"]
    data = pd.read_csv(HERE / "invariance" / c["data"])
    res = invariance(c["model"], data, c["group"], steps=["configural", "metric", "scalar"])
    assert res.freed["scalar"] == ["y3~1"]
    means = res.latent_means()
    scalar = res.fits["scalar"].estimates()
    lv = set(res.fits["scalar"].mg.models[0].lv)
    rows = scalar[(scalar["op"] == "~1") & scalar["lhs"].isin(lv) & (scalar["group"] > 1)]
    assert len(means) == len(rows) > 0
    np.testing.assert_allclose(means["est"], rows["est"], atol=1e-12)
    assert (means["se"] > 0).all()
    assert "latent_means" in res.to_dict() and len(res.to_dict()["latent_means"]) == len(rows)


def test_no_scalar_step_after_a_failed_metric_step():
    """A metric step that fails (here: forced by the LRT criterion at alpha = 0.999, nothing released)
    ends the sequence: no scalar model is fitted or declared on top of it."""
    res = invariance(CFA, MAR, "school", missing="fiml", criterion="lrt", alpha=0.999, partial=False)
    frame = res.to_frame()
    assert list(frame["model"]) == ["configural", "metric"]
    assert frame["decision"].iloc[-1] == "not invariant"
    assert any(w.code == "invariance_not_tenable" and "scalar" in w.message for w in res.warnings)


def test_min_group_size_and_groups_choose_the_comparison():
    tiny = MAR.iloc[:12].assign(school="Tiny")
    data = pd.concat([MAR, tiny], ignore_index=True)
    base = invariance(CFA, MAR, "school", missing="fiml", steps=["configural"])
    small = invariance(CFA, data, "school", missing="fiml", steps=["configural"], min_group_size=30)
    assert small.steps[0].fit.group_labels == ["Pasteur", "Grant-White"]
    assert small.to_frame()["chisq"].iloc[0] == pytest.approx(base.to_frame()["chisq"].iloc[0], abs=1e-8)
    assert any(w.code == "small_group" and "Tiny" in w.message and "12" in w.message for w in small.warnings)
    chosen = invariance(
        CFA, data, "school", missing="fiml", steps=["configural"], groups=["Grant-White", "Pasteur"]
    )
    assert chosen.steps[0].fit.group_labels == ["Grant-White", "Pasteur"]
    assert chosen.to_frame()["chisq"].iloc[0] == pytest.approx(base.to_frame()["chisq"].iloc[0], abs=1e-6)
    with pytest.raises(SurveyInputError, match="group not found"):
        invariance(CFA, data, "school", groups=["Pasteur", "Nope"])
    with pytest.raises(SurveyInputError, match="fewer than two groups"):
        invariance(CFA, data, "school", min_group_size=200)


def test_cli_invariance_fiml_mlr_groups_min_size(tmp_path, capsys):
    model = tmp_path / "hs.lav"
    model.write_text(CFA)
    tiny = MAR.iloc[:12].assign(school="Tiny")
    csv = tmp_path / "d.csv"
    pd.concat([MAR, tiny], ignore_index=True).to_csv(csv, index=False)
    code = _cli(
        [
            "invariance",
            str(model),
            str(csv),
            "--group",
            "school",
            "--missing",
            "fiml",
            "--estimator",
            "MLR",
            "--min-group-size",
            "30",
            "--steps",
            "configural",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    fm = ENG["cases"]["mg_fiml_mlr_configural"]["fit_measures"]
    assert out["steps"][0]["chisq"] == pytest.approx(fm["chisq.scaled"], abs=1e-3)
    assert out["group_labels"] == ["Pasteur", "Grant-White"]
    code = _cli(
        [
            "invariance",
            str(model),
            str(csv),
            "--group",
            "school",
            "--groups",
            "Grant-White,Pasteur",
            "--missing",
            "fiml",
            "--steps",
            "configural",
            "--json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["group_labels"] == ["Grant-White", "Pasteur"]
    code = _cli(["invariance", str(model), str(csv), "--group", "school", "--groups", "Pasteur,Nope"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Nope" in err


def test_mlm_sequence_reports_lavaans_scaled_and_robust_measures():
    complete = pd.read_csv(HERE / "sem_engine" / "hs_complete.csv")
    res = invariance(CFA, complete, "school", estimator="MLM", steps=["configural", "metric"], partial=False)
    frame = res.to_frame().set_index("model")
    for step, case in (("configural", "mg_mlm_configural"), ("metric", "mg_mlm_metric")):
        fm = ENG["cases"][case]["fit_measures"]
        assert frame.loc[step, "chisq"] == pytest.approx(fm["chisq.scaled"], abs=1e-3)
        assert frame.loc[step, "cfi"] == pytest.approx(fm["cfi.robust"], abs=1e-3)
        assert frame.loc[step, "rmsea"] == pytest.approx(fm["rmsea.robust"], abs=1e-3)
    assert np.isfinite(frame.loc["metric", "lrt.chisq"])
