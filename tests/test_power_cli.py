"""`survey power`: the analytic and Monte Carlo forms, JSON shapes (DESIGN.md), files, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from survey.cli import app

FIX = Path(__file__).parent / "fixtures" / "power"
REF = json.loads((FIX / "reference.json").read_text())
MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6\nF2 ~ F1\n"
runner = CliRunner()


@pytest.fixture()
def model_file(tmp_path):
    path = tmp_path / "model.lav"
    path.write_text(MODEL)
    return str(path)


def _run(args):
    return runner.invoke(app, args, catch_exceptions=False)


def test_rmsea_json_equals_semtools():
    keys = ("rmsea0", "rmseaA", "df", "n", "alpha", "group")
    r = next(x for x in REF["rmsea_power"] if tuple(x[k] for k in keys) == (0.05, 0.08, 55, 200, 0.05, 1))
    keys = ("rmsea0", "rmseaA", "df", "power", "group")
    s = next(x for x in REF["rmsea_samplesize"] if tuple(x[k] for k in keys) == (0.05, 0.08, 55, 0.8, 1))
    res = _run(["power", "--rmsea0", "0.05", "--rmsea1", "0.08", "--df", "55", "--n", "200", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["power"] == pytest.approx(r["power"], abs=1e-6) and out["n_required"] == s["n"]
    text = _run(["power", "--rmsea0", "0.05", "--rmsea1", "0.08", "--df", "55", "--n", "200,400"]).output
    assert "close fit" in text and f"{r['power']:.4f}" in text


def test_analytic_parameter_json_equals_lavaan(model_file):
    res = _run(["power", model_file, "--population", str(FIX / "population.json"), "--analytic",
                "--n", "100,200,500", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for k, ref in enumerate(REF["parameter"]):
        assert out["power"]["F2~F1"][k] == pytest.approx(ref["wald_power"], abs=1e-4)
        assert out["satorra_saris"]["F2~F1"][k] == pytest.approx(ref["satorra_saris_power"], abs=1e-4)
    assert out["n_required"]["F2~F1"] > 100


def test_monte_carlo_json_figure_and_report(model_file, tmp_path):
    stem, md, html = tmp_path / "out" / "curve", tmp_path / "out" / "power.md", tmp_path / "power.html"
    args = ["power", model_file, "--population", str(FIX / "population.json"), "--n", "80,120",
            "--replications", "6", "--workers", "1", "--seed", "3", "--figure", str(stem), "--json"]
    res = _run([*args, "--report", str(md)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n"] == [80, 120] and out["hypotheses"] == ["F2~F1"]
    assert len(out["power"]["F2~F1"]) == 2 and all(0 <= p <= 1 for p in out["power"]["F2~F1"])
    assert set(out["n_required"]) >= {"F2~F1"} and out["replications"] == 6
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in svg.read_bytes()
    first_png = png.read_bytes()
    report = md.read_text()
    assert "| N | F2~F1 |" in report and "![power curve](curve.png)" in report
    assert f"| 80 | {out['power']['F2~F1'][0]:.3f} |" in report
    again = _run([*args, "--report", str(html)])
    assert json.loads(again.output)["power"] == out["power"]  # same seed, same numbers
    assert png.read_bytes() == first_png  # stable bytes
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_monte_carlo_search_cli(model_file):
    res = _run(["power", model_file, "--population", str(FIX / "population.json"), "--search",
                "--replications", "16", "--workers", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    n = out["n_required"]["F2~F1"]
    assert n in out["n"] and out["power_at_n_required"]["F2~F1"] >= 0.8


@pytest.mark.parametrize("args, message", [
    (["power", "MODEL", "--n", "100"], "needs --population"),
    (["power", "MODEL", "--population", "POP", "--n", "10,abc"], "comma-separated whole numbers"),
    (["power", "MODEL", "--population", "POP", "--n", "100", "--invariance", "x2~1"], "PARAMETER:SHIFT"),
    (["power", "MODEL", "--population", "POP", "--n", "100", "--pipeline"], "NAME@VER"),
    (["power", "MODEL", "--population", "POP", "--n", "100", "--careless", "0.1"], "--pipeline"),
    (["power", "MODEL", "--population", "POP", "--n", "100", "--hypotheses", "F9~F1"], "no such hypothesis"),
    (["power", "--rmsea0", "0.05", "--rmsea1", "0.05", "--df", "10"], "must differ"),
    (["power", "--rmsea0", "0.05"], "give MODEL"),
    (["power", "follow-drivers@9.9.9", "--n", "100"], "9.9.9"),
])
def test_bad_input_exits_2_with_one_line(model_file, tmp_path, args, message, capsys):
    from survey.cli import main

    args = [model_file if a == "MODEL" else str(FIX / "population.json") if a == "POP" else a for a in args]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--workers", "1"] if args[1] != "--rmsea0" else args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_bad_population_key_names_the_file(model_file, tmp_path, capsys):
    from survey.cli import main

    pop = tmp_path / "pop.json"
    values = json.loads((FIX / "population.json").read_text())
    values["F2~F9"] = 0.2
    pop.write_text(json.dumps(values))
    with pytest.raises(SystemExit) as exc:
        main(["power", model_file, "--population", str(pop), "--n", "100", "--workers", "1"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and str(pop) in err and "F2~F9" in err
