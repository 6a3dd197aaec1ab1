"""`survey invariance --json`: progress goes to stderr only where stderr is a terminal (a script capturing
stderr gets the JSON on stdout and nothing else); without --json a line per step, as before."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from survey.cli import main
from survey.progress import quiet, quiet_for_json


@pytest.fixture(autouse=True)
def _progress_on(monkeypatch):
    monkeypatch.delenv("SURVEY_PROGRESS", raising=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 300
    f = rng.normal(size=n)
    x = np.column_stack([lam * f + rng.normal(0, 0.7, n) for lam in (1.0, 0.9, 0.8, 0.7)])
    folder = tmp_path_factory.mktemp("inv")
    data = folder / "d.csv"
    lines = ["x1,x2,x3,x4,g"] + [",".join(f"{v:.3f}" for v in row) + f",{'ab'[i % 2]}"
                                 for i, row in enumerate(x)]
    data.write_text("\n".join(lines) + "\n")
    model = folder / "m.lav"
    model.write_text("F =~ x1 + x2 + x3 + x4\n")
    return model, data


def _invariance(files, capsys, *flags):
    model, data = files
    with pytest.raises(SystemExit) as info:
        main(["invariance", str(model), str(data), "--group", "g", "--steps", "configural,metric", *flags])
    assert info.value.code in (0, None)
    return capsys.readouterr()


def test_json_off_a_terminal_has_no_progress(files, capsys) -> None:
    out = _invariance(files, capsys, "--json")
    assert out.err == ""
    steps = json.loads(out.out)["steps"]
    assert [s["model"] for s in steps] == ["configural", "metric"]
    assert os.environ.get("SURVEY_PROGRESS") is None  # restored after the command


def test_text_output_keeps_a_line_per_step(files, capsys) -> None:
    out = _invariance(files, capsys)
    assert out.err.splitlines() == ["invariance: [1/2] configural fitted", "invariance: [2/2] metric fitted"]


def test_json_on_a_terminal_keeps_progress(monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with quiet_for_json(True):
        assert not quiet()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with quiet_for_json(True):
        assert quiet()
    assert not quiet()
    with quiet_for_json(False):
        assert not quiet()
    monkeypatch.setenv("SURVEY_PROGRESS", "0")  # an explicit setting survives the block
    with quiet_for_json(True):
        assert quiet()
    assert os.environ["SURVEY_PROGRESS"] == "0"
