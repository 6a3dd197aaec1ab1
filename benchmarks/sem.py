"""Fit time of the study model (6 drivers + FOL + FOLLOWED30, with :=) beside lavaan's ``sem()``.

Data: the fixed-seed simulation of tests/fixtures/sem/simulate_study.py at N = 1,000 and 100,000.
lavaan is timed inside R with ``system.time`` (R start-up excluded); the wall time of the Rscript call is
reported too. Ratio = survey time / lavaan time (target <= 1). Run: ``python benchmarks/sem.py``.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from survey.sem import fit  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
fit <- sem(model, data = data)  # warm-up (byte-compilation, first-call costs)
k <- as.integer(args[3])
t <- system.time(for (i in 1:k) fit <- sem(model, data = data))[["elapsed"]] / k
cat(sprintf('{"seconds": %.6f, "chisq": %.6f}\n', t, fitMeasures(fit, "chisq")))
"""


def _simulator():
    spec = importlib.util.spec_from_file_location(
        "simulate_study", ROOT / "tests" / "fixtures" / "sem" / "simulate_study.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_survey(model: str, data, repeats: int) -> tuple[float, float]:
    fit(model, data)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        res = fit(model, data)
    return (time.perf_counter() - t0) / repeats, res.fit_measures()["chisq"]


def time_lavaan(model: str, data, repeats: int, tmp: Path) -> tuple[float, float, float]:
    model_file, data_file, script = tmp / "model.lav", tmp / "data.csv", tmp / "bench.R"
    model_file.write_text(model)
    data.to_csv(data_file, index=False)
    script.write_text(R_SCRIPT)
    t0 = time.perf_counter()
    out = subprocess.run(
        ["Rscript", str(script), str(model_file), str(data_file), str(repeats)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["seconds"], wall, res["chisq"]


def main() -> None:
    sim = _simulator()
    have_r = shutil.which("Rscript") is not None
    print(f"{'N':>8} {'survey s':>10} {'lavaan s':>10} {'ratio':>7} {'R wall s':>9}  chisq survey / lavaan")
    with tempfile.TemporaryDirectory() as tmpdir:
        for n, repeats in ((1_000, 10), (100_000, 3)):
            data = sim.simulate_study(n, seed=20240611)
            ours, chisq = time_survey(sim.STUDY_MODEL, data, repeats)
            if have_r:
                lav, wall, lav_chisq = time_lavaan(sim.STUDY_MODEL, data, repeats, Path(tmpdir))
                print(
                    f"{n:>8} {ours:>10.4f} {lav:>10.4f} {ours / lav:>7.2f} {wall:>9.2f}  "
                    f"{chisq:.3f} / {lav_chisq:.3f}"
                )
            else:
                print(
                    f"{n:>8} {ours:>10.4f} {'-':>10} {'-':>7} {'-':>9}  {chisq:.3f} (Rscript not installed)"
                )
    robust_section()


# ---------------------------------------------------------------- robust, FIML, bootstrap (survey.sem)
R_ROBUST = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
what <- args[3]
k <- as.integer(args[4])
run <- switch(what,
  fiml = function() sem(model, data = data, missing = "ml"),
  mlr = function() sem(model, data = data, estimator = "MLR"),
  mgfiml = function() sem(model, data = data, group = "g", missing = "ml"),
  mimicmlr = function() sem(model, data = data, estimator = "MLR"),
  boot = function() sem(model, data = data, se = "bootstrap", bootstrap = 1000L, parallel = "multicore",
                        ncpus = 2L, iseed = 1L))
if (what != "boot") fit <- run()  # warm-up
t <- system.time(for (i in 1:k) {fit <- run(); fm <- fitMeasures(fit)})[["elapsed"]] / k
cat(sprintf('{"seconds": %.6f, "chisq": %.6f}\n', t, fitMeasures(fit, "chisq")))
"""


def _robust_data():
    spec = importlib.util.spec_from_file_location("robust_make_data", ROOT / "tests" / "fixtures" / "robust"
                                                  / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def robust_section(only: list[str] | None = None) -> None:
    """Multi-group FIML (two groups, N = 1,000, 10% MCAR; target <= 0.5 x lavaan ``group=, missing="ml"``),
    MIMIC with MLR (demographic covariates, fixed.x), FIML (N = 1,000, 27 items, 10% MCAR; target <= 0.5 x
    lavaan ``missing="ml"``), bootstrap (1,000
    replicates on 2 workers; target <= 0.5 x lavaan ``se="bootstrap"`` with ``parallel="multicore", ncpus=2``)
    and MLR (N = 1,000; target <= 1 x lavaan), fit plus all fit measures, beside lavaan in the same run."""
    md = _robust_data()
    items_model = "\n".join(line for line in md.STUDY_MODEL.splitlines()
                            if "FOLLOWED30" not in line and ":=" not in line) + "\n"
    complete = md.simulate_nonnormal(1000, seed=2024)
    rng = np.random.default_rng(7)
    grouped = md.add_mcar(complete.drop(columns="FOLLOWED30"), 0.10, seed=5).assign(
        g=np.where(rng.random(len(complete)) < 0.5, "a", "b"))
    with_x = complete.drop(columns="FOLLOWED30").assign(
        age=rng.normal(30, 8, len(complete)).round(), female=(rng.random(len(complete)) < 0.5).astype(float))
    mimic_model = items_model + "SHI ~ age + female\nPEER ~ age + female\nFOL ~ age\n"
    cases = [
        ("mgfiml", items_model, grouped, 1, lambda m, d: fit(m, d, group="g", missing="fiml")),
        ("mimicmlr", mimic_model, with_x, 3, lambda m, d: fit(m, d, estimator="MLR")),
        ("fiml", items_model, md.add_mcar(complete.drop(columns="FOLLOWED30"), 0.10, seed=5), 2,
         lambda m, d: fit(m, d, missing="fiml")),
        ("mlr", md.STUDY_MODEL, complete, 3, lambda m, d: fit(m, d, estimator="MLR")),
        ("boot", md.STUDY_MODEL, complete, 1,
         lambda m, d: fit(m, d, se="bootstrap", bootstrap=1000, seed=1, workers=2)),
    ]
    have_r = shutil.which("Rscript") is not None
    print(f"\n{'case':>8} {'survey s':>10} {'lavaan s':>10} {'ratio':>7}  chisq survey / lavaan")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, model, data, repeats, run in cases:
            if only and name not in only:
                continue
            if name != "boot":
                run(model, data)  # warm-up
            t0 = time.perf_counter()
            for _ in range(repeats):
                res = run(model, data)
                measures = res.fit_measures()
            ours = (time.perf_counter() - t0) / repeats
            if not have_r:
                print(f"{name:>6} {ours:>10.3f} {'-':>10} {'-':>7}  {measures['chisq']:.3f} (no Rscript)")
                continue
            (tmp / "m.lav").write_text(model)
            data.to_csv(tmp / "d.csv", index=False)
            (tmp / "r.R").write_text(R_ROBUST)
            out = subprocess.run(["Rscript", str(tmp / "r.R"), str(tmp / "m.lav"), str(tmp / "d.csv"), name,
                                  str(repeats)], check=True, capture_output=True, text=True)
            lav = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{name:>8} {ours:>10.3f} {lav['seconds']:>10.3f} {ours / lav['seconds']:>7.2f}  "
                  f"{measures['chisq']:.3f} / {lav['chisq']:.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--cases":  # e.g. --cases mgfiml,mimicmlr,fiml,mlr
        robust_section(sys.argv[2].split(","))
    else:
        main()
