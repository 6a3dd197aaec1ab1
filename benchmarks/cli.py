"""Whole-process time of `survey fit --json` on a 9-item CFA beside Rscript loading lavaan and fitting it.

    PYTHONPATH=$PWD python benchmarks/cli.py [--runs 5] [--paper]

Both sides start a fresh process, read the same CSV and fit the same model (ML, complete data); the
median wall time of ``--runs`` runs is printed, and their ratio. ``--paper`` also times
``survey paper`` (the committed analysis/paper.yaml) once. Without Rscript/lavaan only the Python side
is timed. The import profile of the fit command (``python -X importtime``) is summarised at the end:
what a command imports is what its start-up costs.
"""

from __future__ import annotations

import argparse
import os
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


def _time(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _data(folder: Path) -> Path:
    from survey.quality import prepare
    from survey.simulate import demo_files

    path, spec = demo_files()[-1]
    clean = prepare([(path, spec)]).clean
    out = folder / "clean.csv"
    clean.to_csv(out, index=False)
    return out


def _imports(cmd: list[str], env: dict[str, str], top: int = 8) -> list[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", *cmd[1:]], capture_output=True, text=True,
                            env=env)
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
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), SURVEY_PROGRESS="0")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = _data(folder)
        model = folder / "cfa.lav"
        model.write_text(MODEL)
        fit = [sys.executable, "-m", "survey.cli", "fit", str(model), str(data), "--json"]
        py = _time(fit, args.runs, env)
        print(f"survey fit --json (9-item CFA, N = {sum(1 for _ in data.open()) - 1}): {py:.2f} s "
              f"(median of {args.runs})")
        if shutil.which("Rscript"):
            script = folder / "fit.R"
            script.write_text(R_SCRIPT.format(data=data, model=MODEL.replace("\n", "\\n")))
            r = _time(["Rscript", str(script)], args.runs, env)
            print(f"Rscript + lavaan, same model and data:    {r:.2f} s  -> ratio {py / r:.2f}x")
        else:
            print("Rscript not installed: lavaan side not timed")
        print("largest cumulative imports of the fit command:")
        for line in _imports(fit, env):
            print("  " + line)
        if args.paper:
            out = folder / "paper"
            config = str(ROOT / "analysis" / "paper.yaml")
            paper = [sys.executable, "-m", "survey.cli", "paper", "--config", config, "--out", str(out)]
            print(f"survey paper (analysis/paper.yaml): {_time(paper, 1, env):.1f} s")


if __name__ == "__main__":
    main()
