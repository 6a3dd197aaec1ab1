"""The console script's fast path for `survey fit` (survey.cli_light, argparse) against the typer command
(survey.cli): the same flags, defaults and help, and on a set of flag combinations the same stdout, exit
status and one-line errors; the fast path of a plain ML fit imports neither typer, pydantic nor scipy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from survey import cli, cli_light
from survey.cli_fit import FIT_HELP

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    """Two correlated factors, three indicators each, two groups (N = 240; seed 17)."""
    rng = np.random.default_rng(17)
    n = 240
    f = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    load = [1.0, 0.8, 0.7]
    cols = {f"x{i + 1}": load[i] * f[:, 0] + rng.normal(0, 0.6, n) for i in range(3)}
    cols |= {f"y{i + 1}": load[i] * f[:, 1] + rng.normal(0, 0.6, n) for i in range(3)}
    folder = tmp_path_factory.mktemp("light")
    data = folder / "d.csv"
    names = list(cols)
    rows = [",".join(names + ["g"])]
    rows += [",".join(f"{cols[c][r]:.4f}" for c in names) + f",{'ab'[r % 2]}" for r in range(n)]
    data.write_text("\n".join(rows) + "\n")
    model = folder / "m.lav"
    model.write_text("F1 =~ x1 + x2 + x3\nF2 =~ y1 + y2 + y3\n")
    return model, data


def _run(entry, argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        entry(argv)
    out = capsys.readouterr()
    return int(exit_info.value.code or 0), out.out, out.err


def _click_fit():
    import typer.main

    return typer.main.get_command(cli.app).commands["fit"]


def test_the_same_options_defaults_and_help() -> None:
    command = _click_fit()
    click_opts = {p.opts[0]: p for p in command.params if p.param_type_name == "option"}
    light = {flag: (dest, kind, default) for flag, dest, kind, default in cli_light.FIT_FLAGS}
    assert set(click_opts) == set(light)
    for flag, param in click_opts.items():
        dest, kind, default = light[flag]
        assert param.name == dest
        assert param.help == FIT_HELP[dest]
        assert bool(param.is_flag) == (kind == "flag"), flag
        assert bool(param.multiple) == (kind == "list"), flag
        assert (param.default in (None, (), []) and default in (None, [])) or param.default == default, flag
    arguments = [p.name for p in command.params if p.param_type_name == "argument"]
    assert arguments == ["model", "data"]
    helptext = cli_light.fit_parser().format_help()
    for flag in light:
        assert flag in helptext
    assert command.help == cli_light.FIT_DOC


COMBINATIONS = [
    ["--json"],
    [],
    ["--std-lv", "--json"],
    ["--estimator", "MLR", "--json"],
    ["--estimator=MLM", "--orthogonal"],
    ["--meanstructure", "--information", "observed", "--json"],
    ["--group", "g", "--group-equal", "loadings,intercepts", "--json"],
    ["--group", "g", "--group-equal", "loadings", "--group-partial", "F1=~x2"],
    ["--option", "auto.fix.first=FALSE", "--option", "std.lv=TRUE", "--json"],
    ["--modindices", "--residuals", "cor", "--json"],
    ["--se", "robust", "--json"],
    ["--json", "--missing", "fiml"],
    ["--test", "satorra.bentler,browne.residual.adf", "--json"],
    ["--estimator", "ULS", "--test", "scaled.shifted"],
]


@pytest.mark.parametrize("flags", COMBINATIONS, ids=lambda f: " ".join(f) or "text")
def test_the_same_output(files, flags, capsys) -> None:
    model, data = files
    argv = ["fit", str(model), str(data), *flags]
    slow = _run(cli.main, argv, capsys)
    fast = _run(cli_light.main, argv, capsys)
    assert slow[0] == fast[0] == 0
    assert fast == slow
    if "--json" in flags:
        out = json.loads(fast[1])
        assert out["converged"] is True and out["nobs"] == 240


ERRORS = [
    ["--estimator", "FOO"],
    ["--group", "nope"],
    ["--residuals", "bogus"],
    ["--option", "nonsense"],
    ["--test", "nonsense"],
]


@pytest.mark.parametrize("flags", ERRORS, ids=" ".join)
def test_the_same_one_line_errors(files, flags, capsys) -> None:
    model, data = files
    argv = ["fit", str(model), str(data), *flags]
    slow = _run(cli.main, argv, capsys)
    fast = _run(cli_light.main, argv, capsys)
    assert fast == slow
    assert fast[0] == 2 and fast[1] == "" and fast[2].startswith("error: ") and fast[2].count("\n") == 1


def test_missing_files_give_the_same_error(files, tmp_path, capsys) -> None:
    model, data = files
    missing_model = ["fit", str(tmp_path / "none.lav"), str(data)]
    for argv in (missing_model, ["fit", str(model), str(tmp_path / "no.csv")]):
        slow = _run(cli.main, argv, capsys)
        fast = _run(cli_light.main, argv, capsys)
        assert fast == slow and fast[0] == 2 and fast[2].startswith("error: ")


@pytest.mark.parametrize("flags, names", [
    (["--bootstrap", "abc"], "--bootstrap"),
    (["--seed", "1.5"], "--seed"),
    (["--nope"], "--nope"),
    (["--std-lv=yes"], "--std-lv"),
])
def test_bad_flags_exit_2_and_name_the_flag(files, flags, names, capsys) -> None:
    model, data = files
    argv = ["fit", str(model), str(data), *flags]
    for entry in (cli.main, cli_light.main):
        status, out, err = _run(entry, argv, capsys)
        assert status == 2 and out == "" and names in err and "Traceback" not in err


def test_a_missing_argument_exits_2(files, capsys) -> None:
    model, _ = files
    for entry in (cli.main, cli_light.main):
        status, out, err = _run(entry, ["fit", str(model)], capsys)
        assert status == 2 and out == "" and "DATA" in err.upper()


def test_other_commands_go_to_typer(capsys) -> None:
    status, out, _ = _run(cli_light.main, ["instrument", "list"], capsys)
    assert status == 0 and "follow-drivers@" in out


def test_the_fast_path_imports_no_cli_framework(files) -> None:
    model, data = files
    code = ("import sys, io, contextlib\nfrom survey.cli_light import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try: main(['fit', {str(model)!r}, {str(data)!r}, '--json'])\n"
            "    except SystemExit as e: assert not e.code, e.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click', 'pydantic', 'rich', "
            "'scipy', 'matplotlib', 'jinja2', 'statsmodels', 'yaml', 'dask'}))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_python_m_survey_is_the_console_script(files) -> None:
    model, data = files
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    out = subprocess.run([sys.executable, "-m", "survey", "fit", "--help"], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0 and "--compare-paths" in out.stdout and "--json" in out.stdout
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["survey"] == "survey.cli_light:main"


def test_the_start_up_imports_run_with_the_collector_paused_then_frozen(files) -> None:
    """The fast path imports the pipeline with the cyclic GC off, freezes what the imports built and turns
    the GC back on (survey.cli_light._startup_imports): afterwards the collector runs, the imported
    modules sit in the permanent generation, and the JSON equals the typer command's."""
    model, data = files
    code = ("import gc, sys, io, json, contextlib\nfrom survey import cli, cli_light\n"
            "outs = []\n"
            "for entry in (cli_light.main, cli.main):\n"
            "    buf = io.StringIO()\n"
            "    with contextlib.redirect_stdout(buf):\n"
            f"        try: entry(['fit', {str(model)!r}, {str(data)!r}, '--json', '--estimator', 'MLR'])\n"
            "        except SystemExit as e: assert not e.code, e.code\n"
            "    outs.append(buf.getvalue())\n"
            "    if entry is cli_light.main:\n"
            "        state = (gc.isenabled(), gc.get_freeze_count() > 10000, 'pandas' in sys.modules)\n"
            "print(json.dumps([state, outs[0] == outs[1], json.loads(outs[0])['estimator']]))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [[True, True, True], True, "MLR"]


def test_a_bad_flag_fails_before_the_heavy_imports(files) -> None:
    """Flags are parsed before numpy/pandas are imported: a typo costs no start-up."""
    model, data = files
    code = ("import sys\nfrom survey.cli_light import main\n"
            f"try: main(['fit', {str(model)!r}, {str(data)!r}, '--nope'])\n"
            "except SystemExit as e: print(e.code, sorted({'pandas', 'numpy'} & set(sys.modules)))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.stdout.strip() == "2 []", out.stdout + out.stderr
    assert "--nope" in out.stderr
