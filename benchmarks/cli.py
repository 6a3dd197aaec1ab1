"""Whole-process time of `survey fit --json` on a 9-item CFA beside Rscript loading lavaan and fitting it.

    PYTHONPATH=$PWD python benchmarks/cli.py [--runs 5] [--paper] [--baseline /path/to/other/checkout]

Both sides start a fresh process, read the same CSV and fit the same model (ML, complete data); the
median wall time of ``--runs`` runs is printed with the median CPU time (user + system of the child,
less sensitive to a loaded machine), and their ratio. The Python side is the console script's path
(``python -m survey``: survey.cli_light parses ``fit`` with argparse), and, for comparison, the typer
command (``python -m survey.cli``). ``--baseline`` times the same commands from
another source tree (e.g. the main checkout: before/after a change), the runs of both trees interleaved.
``--paper`` also times ``survey paper`` (the committed analysis/paper.yaml) once per tree. Without
Rscript/lavaan only the Python side is timed. The import profile of the fit command (``python -X
importtime``) is summarised at the end: what a command imports is what its start-up costs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "SHI =~ SHI1 + SHI2 + SHI3\nSKL =~ SKL1 + SKL2 + SKL3\nEMO =~ EMO1 + EMO2 + EMO3\n"
R_SCRIPT = """suppressMessages(library(lavaan))
d <- read.csv("{data}")
f <- cfa("{model}", data = d)
x <- fitMeasures(f)
"""


def _once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process. It runs in a scratch folder: ``python
    -m`` puts the working directory first on sys.path, which would shadow PYTHONPATH's tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _time(cmds: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) per command, the commands' runs interleaved so that load hits them alike, after
    one untimed run each (it writes the bytecode caches an installed package has)."""
    for cmd, env in cmds.values():
        _once(cmd, env)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            times[name].append(_once(cmd, env))
    return {name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
            for name, ts in times.items()}


def _data(folder: Path) -> Path:
    from survey.quality import prepare
    from survey.simulate import demo_files

    path, spec = demo_files()[-1]
    clean = prepare([(path, spec)]).clean
    out = folder / "clean.csv"
    clean.to_csv(out, index=False)
    return out


def _fit_command(tree: Path, model: Path, data: Path) -> list[str]:
    """The console script's ``survey fit`` of ``tree`` (``python -m survey``; trees older than the
    argparse fast path: ``python -m survey.cli``)."""
    entry = "survey" if (tree / "survey" / "cli_light.py").is_file() else "survey.cli"
    return [sys.executable, "-m", entry, "fit", str(model), str(data), "--json"]


def _imports(cmd: list[str], env: dict[str, str], top: int = 8) -> list[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True,
                            env=env, cwd=tempfile.gettempdir())
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return [f"{us / 1e6:6.2f} s  {name}" for us, name in rows[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--paper", action="store_true")
    parser.add_argument("--baseline", type=Path, help="another source tree to time beside this one")
    args = parser.parse_args()
    trees = {"this tree": ROOT} | ({f"baseline {args.baseline}": args.baseline} if args.baseline else {})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # bytecode as an installed package has it (pip compiles it), cached outside the source trees
        envs = {name: {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
                | {"PYTHONPATH": str(tree), "SURVEY_PROGRESS": "0",
                   "PYTHONPYCACHEPREFIX": str(folder / f"pycache{i}")}
                for i, (name, tree) in enumerate(trees.items())}
        env = envs["this tree"]
        data = _data(folder)
        model = folder / "cfa.lav"
        model.write_text(MODEL)
        fit = _fit_command(ROOT, model, data)
        cmds = {f"survey fit --json, {name}": (_fit_command(tree, model, data), envs[name])
                for name, tree in trees.items()}
        cmds["python -m survey.cli fit --json (typer), this tree"] = (
            [sys.executable, "-m", "survey.cli", "fit", str(model), str(data), "--json"], env)
        if shutil.which("Rscript"):
            script = folder / "fit.R"
            script.write_text(R_SCRIPT.format(data=data, model=MODEL.replace("\n", "\\n")))
            cmds["Rscript + lavaan, same model and data"] = (["Rscript", str(script)], env)
        else:
            print("Rscript not installed: lavaan side not timed")
        result = _time(cmds, args.runs)
        r = result.get("Rscript + lavaan, same model and data")
        rows = sum(1 for _ in data.open()) - 1
        print(f"9-item CFA on {rows} rows, median of {args.runs} runs (wall, CPU):")
        for name, (wall, cpu) in result.items():
            ratio = f"  -> {wall / r[0]:.2f}x wall, {cpu / r[1]:.2f}x CPU of Rscript" if r else ""
            print(f"  {name:<60} {wall:5.2f} s  {cpu:5.2f} s{ratio}")
        print("largest cumulative imports of the fit command:")
        for line in _imports(fit, env):
            print("  " + line)
        if args.paper:
            config = str(ROOT / "analysis" / "paper.yaml")
            papers = {}
            for name, e in envs.items():
                out = folder / f"paper-{len(papers)}"
                papers[f"survey paper, {name}"] = (
                    [sys.executable, "-m", "survey.cli", "paper", "--config", config, "--out", str(out)], e)
            for name, (wall, cpu) in _time(papers, 1).items():
                print(f"  {name:<60} {wall:5.1f} s  {cpu:5.1f} s")


if __name__ == "__main__":
    main()
