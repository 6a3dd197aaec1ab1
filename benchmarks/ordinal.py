"""WLSMV fit time of the study model with ordered items beside lavaan's ``sem(..., ordered = TRUE)``.

Data: the simulated study (survey.simulate's population, 27 seven-point items skewed toward agreement)
at N = 1,000 (and 5,000). lavaan is timed inside R with ``system.time`` after a warm-up fit (R start-up
excluded), in the same run. Ratio = survey time / lavaan time (target <= 1).
Run: ``python benchmarks/ordinal.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.sem.ordinal.fit import fit_ordinal  # noqa: E402
from survey.simulate.population import DEFAULT_POPULATION, DRIVERS  # noqa: E402
from survey.simulate.responses import (  # noqa: E402
    categorize,
    draw_groups,
    draw_latent,
    latent_responses,
    streams,
)

MODEL = "\n".join(
    [f"{d} =~ {' + '.join(f'{d}{i}' for i in range(1, 5))}" for d in DRIVERS]
    + ["FOL =~ FOL1 + FOL2 + FOL3", "FOL ~ " + " + ".join(DRIVERS)]
)
ITEMS = [f"{d}{i}" for d in DRIVERS for i in range(1, 5)] + ["FOL1", "FOL2", "FOL3"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
data <- read.csv(args[2])
fit <- sem(model, data = data, ordered = TRUE, estimator = "WLSMV")  # warm-up
k <- as.integer(args[3])
t <- system.time(for (i in 1:k) fit <- sem(model, data = data, ordered = TRUE,
                                           estimator = "WLSMV"))[["elapsed"]] / k
cat(sprintf('{"seconds": %.6f, "chisq": %.6f}\n', t, fitMeasures(fit, "chisq.scaled")))
"""


def simulate(n: int, seed: int = 20261201):
    population = replace(DEFAULT_POPULATION, noninvariance=())
    rng = streams(seed)
    groups = draw_groups(n, rng["groups"], population)
    latent = draw_latent(n, rng["latent"], population)
    return categorize(latent_responses(latent, groups, rng["items"], population), population)[ITEMS]


def time_survey(data, repeats: int) -> tuple[float, float]:
    fit_ordinal(MODEL, data)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        res = fit_ordinal(MODEL, data)
    return (time.perf_counter() - t0) / repeats, res.fit_measures()["chisq.scaled"]


def time_lavaan(data, repeats: int, tmp: Path) -> tuple[float, float]:
    model_file, data_file, script = tmp / "model.lav", tmp / "data.csv", tmp / "bench.R"
    model_file.write_text(MODEL)
    data.to_csv(data_file, index=False)
    script.write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(script), str(model_file), str(data_file), str(repeats)],
                         check=True, capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["seconds"], res["chisq"]


def main() -> None:
    have_r = shutil.which("Rscript") is not None
    print(f"{'N':>7} {'survey s':>9} {'lavaan s':>9} {'ratio':>6}  chisq.scaled survey / lavaan")
    with tempfile.TemporaryDirectory() as tmpdir:
        for n, repeats in ((1_000, 5), (5_000, 2)):
            data = simulate(n)
            ours, chisq = time_survey(data, repeats)
            if have_r:
                lav, lav_chisq = time_lavaan(data, repeats, Path(tmpdir))
                print(f"{n:>7} {ours:>9.3f} {lav:>9.3f} {ours / lav:>6.2f}  {chisq:.4f} / {lav_chisq:.4f}")
            else:
                print(f"{n:>7} {ours:>9.3f} {'-':>9} {'-':>6}  {chisq:.4f} (Rscript not found)")


if __name__ == "__main__":
    main()
