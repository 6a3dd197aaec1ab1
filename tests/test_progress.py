"""Progress on stderr (survey.progress): a line per stage or per tenth of the work off a terminal, a bar on
one, silent with SURVEY_PROGRESS=0; the bootstrap, invariance and power report through it, and never on
stdout."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest

from survey.progress import Progress


@pytest.fixture(autouse=True)
def _progress_on(monkeypatch):
    monkeypatch.delenv("SURVEY_PROGRESS", raising=False)
    monkeypatch.delenv("CI", raising=False)  # the bootstrap's replicates are quiet under CI


def test_stages_print_one_line_each_off_a_terminal(capsys) -> None:
    with Progress("invariance", 3) as bar:
        for step in ("configural", "metric", "scalar"):
            bar.stage(step)
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == ["invariance: [1/3] configural", "invariance: [2/3] metric",
                                    "invariance: [3/3] scalar"]


def test_units_print_a_line_per_tenth(capsys) -> None:
    bar = Progress("bootstrap", 100, unit="rep")
    for _ in range(15):  # chunks of 7: 7, 14, ..., 105 (the last chunk overshoots)
        bar.update(7)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "bootstrap: 14/100 rep" and lines[-1] == "bootstrap: 100/100 rep"
    assert 9 <= len(lines) <= 11


def test_resumed_work_counts_from_where_it_was(capsys) -> None:
    bar = Progress("power", 40, unit="rep", initial=30)  # a tenth is 4 replications
    bar.update(1)  # 31: no line
    bar.update(1)  # 32
    bar.update(8)  # 40
    assert capsys.readouterr().err.splitlines() == ["power: 32/40 rep", "power: 40/40 rep"]


def test_quiet_unless_asked(capsys, monkeypatch) -> None:
    monkeypatch.setenv("SURVEY_PROGRESS", "0")
    Progress("paper", 2).stage("data")
    Progress("power", 10, unit="rep").update(10)
    assert capsys.readouterr().err == ""
    Progress("power", 10, unit="rep", enabled=True).update(10)  # survey power --progress
    assert capsys.readouterr().err == "power: 10/10 rep\n"
    Progress("power", 10, unit="rep", enabled=False).update(10)
    assert capsys.readouterr().err == ""


def test_a_bar_on_a_terminal(monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    with Progress("bootstrap", 50, unit="rep") as bar:
        bar.update(50)
    text = term.getvalue()
    assert "bootstrap:" in text and "|" in text and "/50 [" in text  # tqdm's bar (it refreshes at its pace)
    assert "bootstrap: 50/50 rep" not in text


def _two_groups(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 1))
    x = 0.7 * f + 0.6 * rng.standard_normal((n, 4))
    frame = pd.DataFrame(np.round(x, 2), columns=["x1", "x2", "x3", "x4"])
    frame["g"] = np.where(np.arange(n) % 2, "a", "b")
    return frame


def test_invariance_reports_each_step(capsys) -> None:
    from survey.sem import invariance

    invariance("F =~ x1 + x2 + x3 + x4", _two_groups(), "g", steps=("configural", "metric"))
    err = capsys.readouterr().err.splitlines()
    assert "invariance: [1/2] configural fitted" in err and "invariance: [2/2] metric fitted" in err


def test_an_invariance_input_error_is_the_only_line(capsys) -> None:
    from survey.errors import SurveyInputError
    from survey.sem import invariance

    with pytest.raises(SurveyInputError):
        invariance("F =~ x1 + x2 + nope", _two_groups(), "g", steps=("configural", "metric"))
    assert capsys.readouterr().err == ""


def test_bootstrap_reports_its_replicates(capsys) -> None:
    from survey.sem import fit

    fit("F =~ x1 + x2 + x3 + x4", _two_groups(), se="bootstrap", bootstrap=20, seed=1)
    out = capsys.readouterr()
    assert out.out == "" and "bootstrap: 20/20 rep" in out.err.splitlines()


def test_power_reports_through_it() -> None:
    from survey.power.runner import _progress

    bar = _progress(8, None, initial=2)
    assert isinstance(bar, Progress) and (bar.name, bar.total, bar.done, bar.unit) == ("power", 8, 2, "rep")
