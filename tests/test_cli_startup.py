"""Command-line start-up: `survey --version`, and what `import survey` and `survey fit` load (a command
imports what it needs when it needs it; benchmarks/cli.py times it beside Rscript/lavaan)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "scipy", "matplotlib", "importlib.metadata", "openpyxl", "semopy", "statsmodels",
         "pingouin", "dask", "docx", "jinja2")


def _run(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_version() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "survey.cli", "--version"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0
    import survey

    assert out.stdout.strip() == f"survey {survey.__version__}" and survey.__version__


def test_import_survey_is_light() -> None:
    loaded = _run(f"import sys, survey; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert loaded == "[]"


def test_import_survey_cli_is_light() -> None:
    """The command table alone: no numerical, report or distributed library before a command runs."""
    loaded = _run("import sys, survey.cli\n"
                  f"print([m for m in {HEAVY + ('numpy', 'scipy.optimize', 'yaml', 'pyreadstat')!r} "
                  "if m in sys.modules])")
    assert loaded == "[]"


def test_fit_command_loads_no_report_or_crosscheck_libraries(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    rows = ["x1,x2,x3"] + [f"{i % 5 + 1},{(i * 3) % 5 + 1},{(i * 7 + i // 5) % 5 + 1}" for i in range(60)]
    data.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.lav"
    model.write_text("F =~ x1 + x2 + x3\n")
    code = ("import sys, io, contextlib\nfrom survey.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try: main(['fit', {str(model)!r}, {str(data)!r}, '--json'])\n"
            "    except SystemExit: pass\n"
            "print([m for m in ('matplotlib', 'openpyxl', 'semopy', 'statsmodels', 'pingouin', 'dask', "
            "'docx', 'jinja2', 'scipy.stats', 'pyreadstat', 'openpyxl') if m in sys.modules])")
    assert _run(code) == "[]"  # scipy.stats: survey.distributions serves the tails a fit needs


def test_instrument_commands_load_no_pandas() -> None:
    """`survey instrument list | show | validate` read YAML only: the diff (pandas) is imported by `diff`."""
    code = ("import sys, io, contextlib\nfrom survey.cli import main\n"
            "for args in (['instrument', 'list'], ['instrument', 'show', 'follow-drivers@1.1.0'],\n"
            "             ['instrument', 'validate', 'follow-drivers@1.1.0']):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        try: main(args)\n"
            "        except SystemExit as e: assert not e.code, (args, e.code)\n"
            "print([m for m in ('pandas', 'scipy', 'openpyxl') if m in sys.modules])")
    assert _run(code) == "[]"
    from survey.instrument import diff_instruments, versioned_column  # still importable from the package

    assert callable(diff_instruments) and callable(versioned_column)


def test_analytic_power_loads_no_scipy_stats_or_monte_carlo() -> None:
    """`survey power --rmsea0 ...` calls the ufuncs scipy.stats would (same numbers; test_power_analytic);
    pandas and the Monte Carlo modules are imported by the commands that run replicates."""
    code = ("import sys, io, contextlib\nfrom survey.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try: main(['power', '--rmsea0', '.05', '--rmsea1', '.08', '--df', '55', '--n', '200',\n"
            "               '--json'])\n"
            "    except SystemExit as e: assert not e.code, e.code\n"
            "print([m for m in ('scipy.stats', 'dask', 'matplotlib', 'survey.power.montecarlo', "
            "'survey.simulate', 'survey.sem', 'pandas') if m in sys.modules])")
    assert _run(code) == "[]"
