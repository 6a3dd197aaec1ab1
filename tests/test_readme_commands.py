"""Every ``survey`` command of README.md's tour runs (issue 14): the shell block is parsed and each command
executed in order, in a temporary directory, on the simulated export it creates (``survey simulate`` ->
``survey ingest`` -> fit / invariance / reliability on ``clean/clean.csv``); each must exit 0 and the
``--json`` ones print one JSON object. ``survey paper`` (minutes; tests/test_paper.py builds the paper) and
the ``make`` targets are not re-run here."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from survey.cli import main

README = Path(__file__).parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("survey "):
                out.append(shlex.split(line)[1:])
    return out


def test_readme_has_the_tour_commands():
    cmds = readme_commands()
    assert [c[0] for c in cmds[:3]] == ["instrument", "simulate", "ingest"]
    assert sum(c[0] == "invariance" for c in cmds) >= 2


def _run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_every_readme_command_runs_on_the_simulated_export(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURVEY_PROGRESS", "0")
    ran = 0
    for args in readme_commands():
        if args[0] == "paper":
            continue
        code = _run(args)
        captured = capsys.readouterr()
        assert code == 0, (args, captured.err[-500:])
        if "--json" in args:
            out = json.loads(captured.out)
            assert isinstance(out, dict) and out, args
            if args[0] == "invariance":
                assert [s["model"] for s in out["steps"]][0] == "configural"
                assert out["steps"][0]["decision"] == "reference"  # the configural model converged
        ran += 1
    assert ran >= 8
    assert (tmp_path / "clean" / "clean.csv").is_file()


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
