"""`survey weights DATA --margins MARGINS.yaml --out W.csv [--json]` (DESIGN.md): W.csv keeps the data's
rows in order, its id column and `weight` (mean 1); the JSON carries weights, iterations, converged and
the Kish design effect; bad margins exit 2 with one line and write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.cli import main

HERE = Path(__file__).parent / "fixtures" / "raking"
REF = json.loads((HERE / "reference.json").read_text())


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_weights_json_and_w_csv(tmp_path, capsys):
    out = tmp_path / "W.csv"
    code, stdout, _ = run(["weights", str(HERE / "data.csv"), "--margins", str(HERE / "margins.yaml"),
                           "--out", str(out), "--json"], capsys)
    assert code == 0
    payload = json.loads(stdout)
    assert {"weights", "iterations", "converged", "design_effect"} <= set(payload)
    assert payload["converged"] is True and payload["warnings"] == []
    ref = REF["cases"]["three"]
    assert np.max(np.abs(np.array(payload["weights"]) - ref["weights"])) < 1e-6
    assert payload["design_effect"] == pytest.approx(ref["design_effect"], abs=1e-6)
    assert payload["effective_n"] == pytest.approx(ref["effective_n"], abs=1e-6)
    frame = pd.read_csv(out)
    data = pd.read_csv(HERE / "data.csv")
    assert list(frame.columns) == ["id", "weight"]
    assert list(frame["id"]) == list(data["id"])
    assert frame["weight"].mean() == pytest.approx(1.0, abs=1e-12)
    assert np.max(np.abs(frame["weight"] - payload["weights"])) < 1e-12


def test_weights_trimming_base_weights_and_text_summary(tmp_path, capsys):
    out = tmp_path / "W.csv"
    code, stdout, _ = run(["weights", str(HERE / "data.csv"), "--margins", str(HERE / "margins.yaml"),
                           "--out", str(out), "--trim-lower", "0.5", "--trim-upper", "2", "--strict-trim"],
                          capsys)
    assert code == 0
    assert "Raking converged" in stdout and "trimmed to [0.5, 2]" in stdout and "Kish design effect" in stdout
    assert np.max(np.abs(pd.read_csv(out)["weight"] - REF["cases"]["trim_strict"]["weights"])) < 1e-6
    code, stdout, _ = run(["weights", str(HERE / "data.csv"), "--margins", str(HERE / "margins.yaml"),
                           "--out", str(out), "--base-weights", "bw", "--json"], capsys)
    assert np.max(np.abs(np.array(json.loads(stdout)["weights"]) - REF["cases"]["base"]["weights"])) < 1e-6


def test_no_id_column_and_missing_category(tmp_path, capsys):
    data = pd.read_csv(HERE / "data.csv").drop(columns="id")
    path = tmp_path / "noid.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "W.csv"
    code, _, _ = run(["weights", str(path), "--margins", str(HERE / "margins_missing.yaml"),
                      "--out", str(out)], capsys)
    assert code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["weight"] and len(frame) == len(data)
    assert np.max(np.abs(frame["weight"] - REF["cases"]["missing"]["weights"])) < 1e-6


@pytest.mark.parametrize(("margins", "message"), [
    ("age: {1: 0.5, 2: 0.4}\n", "margins.yaml: field 'age': proportions sum to 0.9, not 1"),
    ("age: {1: 0.15, 2: 0.2, 3: 0.35, 4: 0.25, 5: 0.05}\n",
     "data.csv: column 'age', value '5': margin category absent from the data"),
    ("region: {N: 0.5, S: 0.5}\n", "data.csv: column 'region': margin column not in the data (named in "
     "margins.yaml)"),
    ("age: {1: 0.5, 2: 0.5}\n", "data.csv: row 4, column 'age', value '4': category not in the margins"),
    ("gender_m: {f: 0.5, m: 0.48, d: 0.02}\n", "data.csv: row 33, column 'gender_m': missing value"),
    ("age: {1: 0.5\n", "margins.yaml: row 2: not valid YAML"),
])
def test_bad_margins_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, margins, message):
    (tmp_path / "margins.yaml").write_text(margins)
    out = tmp_path / "W.csv"
    code, stdout, stderr = run(["weights", str(HERE / "data.csv"), "--margins",
                                str(tmp_path / "margins.yaml"), "--out", str(out)], capsys)
    assert code == 2 and stdout == ""
    assert stderr.startswith("error: ") and message in stderr and stderr.count("\n") == 1
    assert "Traceback" not in stderr and not out.exists()
