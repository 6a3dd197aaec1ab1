"""Measurement invariance sequence (survey.sem.invariance) against lavaan 0.6.14, partial invariance
recovering planted non-invariant intercepts, and the ``survey invariance`` / ``survey fit --group`` CLI.

Reference: tests/fixtures/invariance/make_reference.R (reference.json): fitMeasures and lavTestLRT of the
configural, metric, scalar and strict models, and the partial models lavaan fits with group.partial.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.errors import SurveyInputError
from survey.sem import InvarianceResult, invariance
from survey.sem.invariance import CUTOFFS, chen_decision

HERE = Path(__file__).parent / "fixtures" / "invariance"
REF = json.loads((HERE / "reference.json").read_text())["cases"]
TOL = 1e-3
STEPS = ["configural", "metric", "scalar", "strict"]
MEASURES = ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
DESIGN_KEYS = [
    "model",
    "chisq",
    "df",
    "cfi",
    "tli",
    "rmsea",
    "srmr",
    "aic",
    "bic",
    "delta.cfi",
    "delta.rmsea",
    "delta.srmr",
    "lrt.chisq",
    "lrt.df",
    "lrt.pvalue",
    "decision",
]


@cache
def _run(case: str, partial: bool) -> InvarianceResult:
    c = REF[case]
    return invariance(c["model"], pd.read_csv(HERE / c["data"]), c["group"], partial=partial)


@pytest.mark.parametrize("case", ["holzinger", "planted"])
def test_full_sequence_matches_lavaan(case):
    """Without partial release the sequence stops at the first step that fails (scalar, in both cases):
    no strict step is declared on top of a failed scalar step (issue 14)."""
    res = _run(case, False)
    frame = res.to_frame()
    assert list(frame["model"]) == STEPS[:3]
    assert frame["decision"].iloc[-1] == "not invariant"
    assert any(w.code == "invariance_not_tenable" and "strict" in w.message for w in res.warnings)
    assert res.latent_means().empty  # scalar invariance does not hold
    ref = REF[case]
    for k, step in enumerate(STEPS[:3]):
        row = frame.iloc[k]
        fm = ref["steps"][step]["fit_measures"]
        for name in MEASURES:
            assert row[name] == pytest.approx(fm[name], abs=TOL), (step, name)
        if k == 0:
            assert row["decision"] == "reference" and np.isnan(row["lrt.chisq"])
            continue
        lrt = ref["lrt"][step]
        assert row["lrt.chisq"] == pytest.approx(lrt["chisq"], abs=TOL)
        assert row["lrt.df"] == lrt["df"]
        assert row["lrt.pvalue"] == pytest.approx(lrt["pvalue"], abs=TOL)
        prev = ref["steps"][STEPS[k - 1]]["fit_measures"]
        for name in ("cfi", "rmsea", "srmr"):
            assert row[f"delta.{name}"] == pytest.approx(fm[name] - prev[name], abs=TOL)


def test_holzinger_decisions_and_partial_invariance():
    """HS by school: metric holds; scalar fails (dCFI = -.038); the score tests release x3~1 and then x7~1
    (the well-known partial solution), after which the partial scalar model passes and strict holds."""
    res = _run("holzinger", True)
    frame = res.to_frame()
    assert list(frame["model"]) == [
        "configural",
        "metric",
        "scalar",
        "scalar (partial 1)",
        "scalar (partial 2)",
        "strict",
    ]
    decisions = dict(zip(frame["model"], frame["decision"], strict=True))
    assert decisions["metric"] == "invariant"
    assert decisions["scalar"] == "not invariant"
    assert decisions["scalar (partial 2)"] == "partially invariant (freed: x3~1, x7~1)"
    assert res.freed["scalar"] == ["x3~1", "x7~1"]
    ref = REF["holzinger"]
    partial = frame.set_index("model").loc["scalar (partial 2)"]
    strict = frame.set_index("model").loc["strict"]
    for name in MEASURES:
        assert partial[name] == pytest.approx(ref["partial_scalar_2"]["fit_measures"][name], abs=TOL)
        assert strict[name] == pytest.approx(ref["partial_strict"]["fit_measures"][name], abs=TOL)
    # the partial row is compared with the metric model, strict with the partial scalar model
    metric = ref["steps"]["metric"]["fit_measures"]
    assert partial["lrt.chisq"] == pytest.approx(
        ref["partial_scalar_2"]["fit_measures"]["chisq"] - metric["chisq"], abs=TOL
    )
    assert partial["lrt.df"] == 4


def test_planted_intercept_is_found():
    res = _run("planted", True)
    assert res.freed["scalar"] == ["y3~1"]
    frame = res.to_frame().set_index("model")
    row = frame.loc["scalar (partial 1)"]
    assert row["decision"] == "partially invariant (freed: y3~1)"
    for name in MEASURES:
        assert row[name] == pytest.approx(REF["planted"]["partial_scalar"]["fit_measures"][name], abs=TOL)
    assert frame.loc["metric", "decision"] == "invariant"
    assert frame.loc["strict", "decision"] == "invariant"


def test_to_dict_follows_design():
    res = _run("planted", True)
    d = res.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["steps"][0]["model"] == "configural"
    for step in d["steps"]:
        assert list(step)[: len(DESIGN_KEYS)] == DESIGN_KEYS
    assert d["steps"][0]["delta.cfi"] is None
    assert set(d["rules"]) == {"metric", "scalar", "strict"}
    assert "Chen 2007" in d["rules"]["scalar"]
    assert "Decision rules (Chen 2007)" in res.summary()
    assert "<table" in res._repr_html_()


def test_chen_rules():
    assert CUTOFFS["metric"] == (-0.010, 0.015, 0.030)
    assert CUTOFFS["scalar"] == CUTOFFS["strict"] == (-0.010, 0.015, 0.010)
    assert chen_decision("metric", -0.009, 0.020, 0.020)
    assert not chen_decision("metric", -0.011, 0.0, 0.0)
    assert not chen_decision("metric", -0.005, 0.020, 0.031)
    assert chen_decision("scalar", -0.010, 0.016, 0.010)
    assert not chen_decision("scalar", -0.005, 0.016, 0.011)


def test_bad_steps_and_estimator():
    c = REF["planted"]
    data = pd.read_csv(HERE / c["data"])
    with pytest.raises(SurveyInputError):
        invariance(c["model"], data, c["group"], steps=["metric", "configural"])
    with pytest.raises(SurveyInputError):
        invariance(c["model"], data, c["group"], steps=["weak"])
    with pytest.raises(SurveyInputError, match="estimator"):
        invariance(c["model"], data, c["group"], estimator="WLSMV")


def _run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:  # typer's standalone mode exits 0 on success
        return int(exc.code or 0)
    return 0


def test_cli_invariance_json(capsys):
    assert (
        _run_cli(
            [
                "invariance",
                str(HERE / "hs.lav"),
                str(HERE / "holzinger.csv"),
                "--group",
                "school",
                "--no-partial",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert [s["model"] for s in d["steps"]] == STEPS[:3]  # stops at the failed scalar step
    ref = REF["holzinger"]["steps"]
    for s in d["steps"]:
        assert s["chisq"] == pytest.approx(ref[s["model"]]["fit_measures"]["chisq"], abs=TOL)


def test_cli_fit_group_equal(capsys):
    assert (
        _run_cli(
            [
                "fit",
                str(HERE / "hs.lav"),
                str(HERE / "holzinger.csv"),
                "--group",
                "school",
                "--group-equal",
                "loadings,intercepts",
                "--json",
            ]
        )
        == 0
    )
    d = json.loads(capsys.readouterr().out)
    ref = REF["holzinger"]["steps"]["scalar"]["fit_measures"]
    for name in MEASURES:
        assert d["fit_measures"][name] == pytest.approx(ref[name], abs=TOL)
    assert {e["group"] for e in d["estimates"]} == {1, 2}


def test_cli_bad_group_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["invariance", str(HERE / "hs.lav"), str(HERE / "holzinger.csv"), "--group", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


def _demo_frame() -> pd.DataFrame:
    """The embedded demo data (both waves, ingested), driver items reverse keyed, missing codes as NaN."""
    from survey.instrument import load_instrument

    root = Path(__file__).parents[1] / "survey" / "data" / "demo"
    try:
        from survey.quality import prepare
    except ImportError:  # pragma: no cover - fallback when ingest is not available
        prepare = None
    if prepare is not None and (root / "wave1.csv").is_file():
        data = prepare(
            [(root / "wave1.csv", "follow-drivers@1.0.0"), (root / "wave2.csv", "follow-drivers@1.1.0")]
        ).data.copy()
    else:  # pragma: no cover
        from survey.simulate import simulate_clean

        data, _ = simulate_clean(1200, 20260301)
    inst = load_instrument("follow-drivers@1.0.0")
    for item_id, key in inst.keys().items():
        if item_id in data.columns:
            scale = inst.scale_of(item_id)
            data[item_id] = data[item_id].mask(data[item_id].isin(list((scale.missing or {}).keys())))
            if key == -1:
                data[item_id] = scale.min + scale.max - data[item_id]
    return data


def test_demo_data_peer2_intercept_across_age_bands():
    """survey.simulate plants a non-invariant PEER2 intercept in age band 1: the scalar step fails and the
    score test releases PEER2~1 first, after which partial scalar invariance holds."""
    data = _demo_frame()
    res = invariance(
        "PEER =~ PEER1 + PEER2 + PEER3 + PEER4", data, "AGEBAND", steps=["configural", "metric", "scalar"]
    )
    frame = res.to_frame().set_index("model")
    assert frame.loc["metric", "decision"] == "invariant"
    assert frame.loc["scalar", "decision"] == "not invariant"
    assert res.freed["scalar"] == ["PEER2~1"]
    assert frame.loc["scalar (partial 1)", "decision"] == "partially invariant (freed: PEER2~1)"
    # the largest score test of the scalar model is an age-band-1 PEER2 intercept constraint
    tests = res.steps[2].score_tests
    top = tests.iloc[0]
    labels = res.steps[0].fit.group_labels
    assert (top["lhs"], top["op"]) == ("PEER2", "~1")
    assert "1" in (labels[top["group.a"] - 1], labels[top["group.b"] - 1])


@pytest.mark.slow
def test_demo_data_full_measurement_model():
    """All seven constructs: the scalar step still releases PEER2~1 first."""
    data = _demo_frame()
    model = "\n".join(
        f"{c} =~ " + " + ".join(f"{c}{k}" for k in range(1, 4 if c == "FOL" else 5))
        for c in ["SHI", "SKL", "AUT", "EMO", "CON", "PEER", "FOL"]
    )
    res = invariance(model, data, "AGEBAND", steps=["configural", "metric", "scalar"])
    assert res.freed["scalar"][0] == "PEER2~1"


def test_mlr_scaled_difference_tests_match_lavaan():
    """MLR: the table reports chisq.scaled and the robust CFI/TLI/RMSEA; the LRT is the Satorra-Bentler
    (2001) scaled difference, as lavaan's lavTestLRT for MLR fits."""
    c = REF["holzinger"]
    data = pd.read_csv(HERE / c["data"])
    res = invariance(c["model"], data, c["group"], estimator="MLR", partial=False)
    frame = res.to_frame().set_index("model")
    assert list(frame.index) == STEPS[:3]  # the sequence stops at the failed scalar step
    strict = invariance(c["model"], data, c["group"], estimator="MLR", steps=["strict"]).to_frame()
    frame = pd.concat([frame, strict.set_index("model")])
    for step in STEPS:
        fm = c["mlr"]["steps"][step]["fit_measures"]
        row = frame.loc[step]
        assert row["chisq"] == pytest.approx(fm["chisq.scaled"], abs=TOL)
        assert row["cfi"] == pytest.approx(fm["cfi.robust"], abs=TOL)
        assert row["tli"] == pytest.approx(fm["tli.robust"], abs=TOL)
        assert row["rmsea"] == pytest.approx(fm["rmsea.robust"], abs=TOL)
        assert row["srmr"] == pytest.approx(fm["srmr"], abs=TOL)
        if step in ("configural", "strict"):  # strict alone: no reference model
            continue
        lrt = c["mlr"]["lrt"][step]
        assert row["lrt.chisq"] == pytest.approx(lrt["chisq"], abs=TOL)
        assert row["lrt.df"] == lrt["df"]
        assert row["lrt.pvalue"] == pytest.approx(lrt["pvalue"], abs=TOL)
    assert res.to_dict()["estimator"] == "MLR"
    assert "chisq.scaling.factor" in res.to_dict()["steps"][0]


@pytest.mark.slow
def test_cli_instrument_model_on_raw_demo_wave(capsys):
    """End to end on the RAW (unscreened) demo wave: with careless respondents and 47 respondents in one age
    band for 105 parameters per group, the configural model does not converge; the sequence must stop there
    and report no fit measures, differences or decisions, never numbers from an unfinished optimizer."""
    demo = Path(__file__).parents[1] / "survey" / "data" / "demo" / "wave1.csv"
    code = _run_cli(["invariance", "follow-drivers@1.0.0", str(demo), "--group", "AGEBAND", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert [s["model"] for s in d["steps"]] == ["configural"]
    assert d["steps"][0]["decision"] == "not converged"
    assert d["steps"][0]["chisq"] is None and d["steps"][0]["cfi"] is None
    assert any("did not converge, so the invariance sequence stopped" in w for w in d["warnings"])


def test_adjust_pvalues_match_r_p_adjust():
    """R: p.adjust(c(.01, .04, .03, .005, NA), "holm") and "bonferroni" (NA kept, not counted in m)."""
    from survey.sem.invariance import adjust_pvalues

    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    holm = adjust_pvalues(p, "holm")
    assert holm[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)
    assert np.isnan(holm[4])
    assert adjust_pvalues(p, "bonferroni")[:4] == pytest.approx([0.04, 0.16, 0.12, 0.02], abs=1e-12)
    with pytest.raises(SurveyInputError, match="adjust"):
        adjust_pvalues(p, "fdr")


def test_criteria_and_localized_score_tests_on_planted_case():
    """The planted y3 intercept: every criterion, with Holm-adjusted score tests, frees y3~1 and nothing else;
    the score tests of the tenable steps are reported with their adjusted p-values."""
    c = REF["planted"]
    data = pd.read_csv(HERE / c["data"])
    for criterion in ("lrt", "both"):
        res = invariance(c["model"], data, c["group"], criterion=criterion, adjust="holm")
        assert res.freed["scalar"] == ["y3~1"], criterion
        assert res.freed["strict"] == ["y3~1"], criterion
        assert res.freed["metric"] == []
        tests = res.score_tests()
        assert {"p.adj", "flagged"} <= set(tests.columns)
        final = tests[tests["model"] == "scalar (partial 1)"]
        assert not final["flagged"].any() and (final["p.adj"] >= final["p.value"]).all()
        assert "Holm" in res.rules["scalar"] and "likelihood-ratio" in res.rules["scalar"]
        assert res.to_dict()["flagged"][0]["lhs"] == "y3"
    with pytest.raises(SurveyInputError, match="criterion"):
        invariance(c["model"], data, c["group"], criterion="bic")
    with pytest.raises(SurveyInputError, match="adjust"):
        invariance(c["model"], data, c["group"], adjust="fdr")


def test_demo_data_localized_score_tests_find_peer2_across_age_bands():
    """The paper's model (all seven constructs, common items) on the demo data: across AGEBAND the scalar
    step passes Chen's rule (dCFI = -.0096), but the Holm-adjusted score test of the PEER2 intercept is
    significant, so PEER2~1 is released and partial scalar invariance holds; across instrument versions,
    invariant by construction, nothing is released."""
    data = _demo_frame()
    items = {c: [f"{c}{k}" for k in range(1, 4 if c == "FOL" else 5)] for c in
             ["SHI", "SKL", "AUT", "EMO", "CON", "PEER", "FOL"]}
    items["AUT"].remove("AUT2")  # reworded in 1.1.0: not a common item
    model = "\n".join(f"{c} =~ " + " + ".join(v) for c, v in items.items())
    steps = ["configural", "metric", "scalar"]
    chen = invariance(model, data, "AGEBAND", steps=steps)
    assert chen.freed["scalar"] == []  # the global rule alone misses it
    res = invariance(model, data, "AGEBAND", steps=steps, adjust="holm")
    frame = res.to_frame().set_index("model")
    assert frame.loc["scalar", "delta.cfi"] > -0.010
    assert frame.loc["scalar", "decision"] == "not invariant (score test)"
    assert res.freed["scalar"] == ["PEER2~1"]
    assert frame.loc["scalar (partial 1)", "decision"] == "partially invariant (freed: PEER2~1)"
    flagged = res.score_tests(flagged_only=True)
    assert list(flagged["lhs"] + flagged["op"]) == ["PEER2~1"]
    version = invariance(model, data, "instrument_version", steps=steps, adjust="holm")
    assert all(v == [] for v in version.freed.values())
    assert version.score_tests(flagged_only=True).empty


def test_cli_invariance_criterion_adjust_steps_equal_api(capsys, tmp_path):
    """`survey invariance --criterion lrt --adjust holm --steps ...` gives the Python API's numbers and
    decisions for the same options (planted y3 intercept: y3~1 freed at the scalar step)."""
    c = REF["planted"]
    model_file = tmp_path / "planted.lav"
    model_file.write_text(c["model"])
    args = ["invariance", str(model_file), str(HERE / c["data"]), "--group", c["group"]]
    opts = ["--criterion", "lrt", "--adjust", "holm", "--steps", "configural,metric,scalar", "--json"]
    assert _run_cli(args + opts) == 0
    cli = json.loads(capsys.readouterr().out)
    api = invariance(
        c["model"],
        pd.read_csv(HERE / c["data"]),
        c["group"],
        criterion="lrt",
        adjust="holm",
        steps=["configural", "metric", "scalar"],
    ).to_dict()
    assert [s["model"] for s in cli["steps"]] == [s["model"] for s in api["steps"]]
    assert [s["model"] for s in cli["steps"]][-1] == "scalar (partial 1)"
    for mine, theirs in zip(cli["steps"], api["steps"], strict=True):
        assert mine["decision"] == theirs["decision"]
        assert mine["chisq"] == pytest.approx(theirs["chisq"], abs=1e-9)
    assert cli["flagged"][0]["lhs"] == "y3"
    # without the options: Chen's rule and no adjustment, the API's defaults
    assert _run_cli(args + ["--steps", "configural,metric", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert [(s["model"], s["decision"]) for s in default["steps"]] == [
        ("configural", "reference"),
        ("metric", "invariant"),
    ]


def test_cli_invariance_bad_option_values_exit_2(capsys):
    base = ["invariance", str(HERE / "hs.lav"), str(HERE / "holzinger.csv"), "--group", "school"]
    for extra, word in [
        (["--criterion", "bic"], "criterion"),
        (["--adjust", "fdr"], "adjust"),
        (["--alpha", "1.5"], "alpha"),
        (["--steps", "metric,configural"], "steps"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(base + extra)
        assert exc.value.code == 2, extra
        err = capsys.readouterr().err.strip()
        assert word in err and "\n" not in err and "Traceback" not in err
