"""Your own study, end to end: `survey init` on an export of another, smaller instrument (another latent
outcome, another behaviour variable, a negative hypothesis), then `survey paper` outside the repository.

Nothing in survey/report may know follow-drivers: the outcome (SAT), the behaviour variable (VISITS) and
the hypotheses come from the instrument file. Under MLR the fit table and the text carry the
Yuan-Bentler scaled chi-square and the robust indices, equal to `survey fit --json` on the same data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENT = ROOT / "tests" / "fixtures" / "report" / "mini-wellbeing.yaml"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    return subprocess.run([sys.executable, "-m", "survey.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env)


def _export(path: Path, n: int = 400, seed: int = 7) -> Path:
    """A plain-CSV export under mini-wellbeing: SAT = .5 SUP - .4 STR + e, VISITS Poisson(e^(1 + .4 SAT))."""
    rng = np.random.default_rng(seed)
    sup = rng.normal(size=n)
    stress = -0.3 * sup + 0.95 * rng.normal(size=n)
    sat = 0.5 * sup - 0.4 * stress + 0.7 * rng.normal(size=n)
    frame = pd.DataFrame({"ResponseId": [f"R_{i:04d}" for i in range(n)]})
    for code, factor in (("SUP", sup), ("STR", stress), ("SAT", sat)):
        for k in (1, 2, 3):
            answer = np.round(3 + 0.8 * factor + 0.6 * rng.normal(size=n))
            frame[f"{code}{k}"] = np.clip(answer, 1, 5).astype(int)
    frame["VISITS"] = rng.poisson(np.exp(1.0 + 0.4 * sat))
    frame["GENDER"] = rng.integers(1, 3, size=n)
    frame.loc[rng.choice(n, 20, replace=False), "SAT2"] = np.nan  # a few skipped answers: FIML
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("own")  # outside the repository
    raw = _export(work / "export.csv")
    init = _cli("init", "mystudy", "--data", str(raw), "--instrument", str(INSTRUMENT), cwd=work)
    assert init.returncode == 0, init.stderr
    paper = _cli("paper", "--config", "mystudy/paper.yaml", "--out", "mystudy/paper", cwd=work)
    assert paper.returncode == 0, paper.stderr
    assert "survey paper: configuration mystudy/paper.yaml" in paper.stderr
    assert "survey paper: wrote" in paper.stderr and " s\n" in paper.stderr  # wall time on stderr
    return work / "mystudy"


def test_init_writes_a_commented_valid_config(study: Path) -> None:
    from survey.report import load_config

    text = (study / "paper.yaml").read_text()
    assert "# " in text and "instrument: instrument.yaml" in text
    assert "candidates: GENDER" in text and "H2 STR -> SAT" in text
    config = load_config(study / "paper.yaml")
    assert config.estimator == "MLR" and config.data[0].path == "data/export.csv"
    assert (study / "data" / "export.csv").is_file() and (study / "instrument.yaml").is_file()


def test_init_refuses_to_overwrite_and_bad_input_exits_2(study: Path) -> None:
    again = _cli("init", str(study), "--data", str(study / "data" / "export.csv"), "--instrument",
                 str(INSTRUMENT), cwd=study.parent)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    bad = _cli("init", "other", "--data", str(study / "nope.csv"), "--instrument", str(INSTRUMENT),
               cwd=study.parent)
    assert bad.returncode == 2 and "nope.csv" in bad.stderr and not (study.parent / "other").exists()


def test_paper_is_about_the_instrument_given(study: Path) -> None:
    md = (study / "paper" / "paper.md").read_text()
    assert md.startswith("# Support, stress and life satisfaction")
    for foreign in ("FOLLOWED30", "FOL ", "follow-drivers", "SHI"):
        assert foreign not in md
    assert ("H2 predicted that perceived stress (STR) would be negatively related to life satisfaction "
            "(SAT)") in md
    assert "Indirect effects driver \u2192 SAT \u2192 VISITS" in md
    assert "Visits to friends" in (study / "paper" / "tables" / "sample.csv").read_text()
    manifest = json.loads((study / "paper" / "manifest.json").read_text())
    assert manifest["instrument"]["spec"] == "mini-wellbeing@1.0.0"
    assert manifest["data"]["sources"][0]["path"] == "data/export.csv"
    assert {"figure_path.png", "tables/hypotheses.csv", "tables/indirect.csv"} <= set(manifest["files"])
    local = json.loads((study / "paper" / "provenance.local.json").read_text())  # `survey paper`'s git + time
    assert "git" in local and "analysis_seconds" in local and "provenance.local.json" not in manifest["files"]
    hypotheses = pd.read_csv(study / "paper" / "tables" / "hypotheses.csv").set_index("hypothesis")
    assert list(hypotheses.index) == ["H1", "H2", "H3"]
    assert hypotheses.loc["H2", "b"] < 0 and hypotheses.loc["H2", "supported"] == "yes"  # the planted sign


def test_mlr_fit_table_and_text_carry_the_scaled_measures(study: Path, tmp_path: Path) -> None:
    """The CFA row of the fit table equals `survey fit --json` (MLR, FIML) on the same analytic sample."""
    ingest = _cli("ingest", str(study / "data" / "export.csv"), "--instrument", str(INSTRUMENT), "--out",
                  str(tmp_path / "ingest"), cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    model = tmp_path / "cfa.lav"
    model.write_text("SUP =~ SUP1 + SUP2 + SUP3\nSTR =~ STR1 + STR2 + STR3\nSAT =~ SAT1 + SAT2 + SAT3\n")
    fit = _cli("fit", str(model), str(tmp_path / "ingest" / "clean.csv"), "--estimator", "MLR", "--missing",
               "fiml", "--json", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    measures = json.loads(fit.stdout)["fit_measures"]
    table = pd.read_csv(study / "paper" / "tables" / "fit.csv").set_index("model")
    cfa = table.loc["CFA (measurement model)"]
    for name in ("chisq.scaled", "chisq.scaling.factor", "pvalue.scaled", "cfi.robust", "tli.robust",
                 "rmsea.robust", "srmr", "chisq"):
        assert cfa[name] == pytest.approx(measures[name], abs=1e-3), name
    assert measures["chisq.scaled"] != pytest.approx(measures["chisq"], abs=0.5)  # the scaling matters here
    text = (study / "paper" / "results.md").read_text()
    expected = (f"Yuan-Bentler scaled \u03c7\u00b2({int(measures['df'])}) = {measures['chisq.scaled']:.2f} "
                f"(scaling factor c = {measures['chisq.scaling.factor']:.3f})")
    assert expected in text
    assert re.search(r"robust CFI = [.0-9]+ \(cutoff \u2265 \.95\)", text)
    md = (study / "paper" / "paper.md").read_text()
    assert "Yuan-Bentler scaled chi-square" in md and "cfi.robust" in md  # the table note says which


def test_paper_without_config_says_it_uses_the_defaults(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    import survey.report.cli as report_cli
    from survey.cli import app

    seen = {}
    monkeypatch.setattr(report_cli, "run_paper",
                        lambda config, out, start=None: seen.setdefault("c", [config]))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["paper", "--out", "out"])
    assert result.exit_code == 0
    assert seen["c"] == [None]
    assert "using the built-in defaults (the embedded demo study)" in result.output
