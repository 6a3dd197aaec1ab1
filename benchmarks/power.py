"""Monte Carlo power of the study model at N = 500: survey.power on Dask beside an R loop of lavaan.

Both sides do the same work per replication: draw N = 500 multivariate-normal rows from the study
model's population (the pseudo-true values of the analysis model, :class:`survey.power.study.
StudyPopulation`), fit the model by ML and keep the estimates:

* R: ``lavaan::simulateData()`` + ``sem()`` in ``parallel::mclapply(..., mc.cores = 2)``, timed inside R
  with ``system.time`` (R start-up excluded);
* survey: :func:`survey.power.montecarlo.monte_carlo_power` on a 2-worker Dask ``LocalCluster``, timed
  as a whole (cluster start-up included).

Ratio = survey time / R time (target <= 0.25). Run: ``python benchmarks/power.py [--replications 200,1000]
[--workers 2]`` (default 1000); every count runs both sides, one after the other, on the same cores.

Each replication refits a prepared model (:mod:`survey.sem.prepared`: parsed and built once per worker,
warm start at the population values, only estimates, SEs and the chi-square; the numbers of
``survey.sem.fit`` within 1e-8, tests/test_sem_prepared.py); the worker processes are forked, as mclapply's.

Measured 2026-12-01 18:40-18:51 UTC on the 2-core machine shared with five other sessions (load average
7-10), one run, 2 workers / 2 cores: 200 replications: survey 9.3 s, lavaan 80.7 s, ratio 0.115;
1,000 replications: survey 26.7 s, lavaan 381.1 s, ratio 0.070. A second run (18:58-19:07, load 8-11):
1,000: 33.1 s vs 393.8 s, 0.084; 200: 6.5 s vs 77.9 s, 0.084. (Before the prepared model and forked
workers: 200 replications 277.9 s vs 301.3 s, 0.92.) In one process a replication takes ~14 ms of CPU
(the fit ~12 ms: ~11 warm-started Fisher-scoring/BFGS iterations), lavaan's ~160 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.power.montecarlo import monte_carlo_power  # noqa: E402
from survey.power.population import Population  # noqa: E402
from survey.power.replicate import PowerSpec  # noqa: E402
from survey.power.study import StudyPopulation  # noqa: E402

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(parallel); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(args[1]), collapse = "\n")
pop <- paste(readLines(args[2]), collapse = "\n")
R <- as.integer(args[3]); n <- as.integer(args[4]); cores <- as.integer(args[5])
one <- function(i) {
  d <- simulateData(pop, sample.nobs = n, seed = 1000 + i)
  f <- sem(model, data = d)
  c(converged = lavInspect(f, "converged"), coef(f)[["FOL~EMO"]], parameterEstimates(f)$pvalue[1])
}
invisible(one(0))  # warm-up
t <- system.time(out <- mclapply(seq_len(R), one, mc.cores = cores))[["elapsed"]]
conv <- mean(sapply(out, function(x) x[[1]]))
cat(toJSON(list(seconds = t, converged = conv, replications = R), auto_unbox = TRUE), "\n")
"""


def population_syntax(pop: Population) -> str:
    """lavaan syntax with every parameter fixed to its population value (for ``simulateData``)."""
    lines = []
    for row in pop.partable.itertuples(index=False):
        op = "~" if row.op == "~1" else row.op
        rhs = "1" if row.op == "~1" else row.rhs
        lines.append(f"{row.lhs} {op} {pop.values[row.key]!r}*{rhs}")
    return "\n".join(lines)


def run_ours(spec: PowerSpec, replications: int, n: int, workers: int) -> tuple[float, dict]:
    """Seconds of ``monte_carlo_power`` (Dask LocalCluster start-up included) and its FOL~EMO row."""
    t0 = time.perf_counter()
    res = monte_carlo_power(spec, [n], replications, workers=workers, progress=False)
    seconds = time.perf_counter() - t0
    row = res.table.set_index("parameter").loc["FOL~EMO"]
    return seconds, {"convergence": float(row["convergence"]), "power": float(row["power"])}


def run_lavaan(pop: Population, model: str, replications: int, n: int, workers: int) -> dict:
    """R's loop, timed inside R (start-up and one warm-up replication excluded)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "model.lav").write_text(model)
        (d / "pop.lav").write_text(population_syntax(pop))
        (d / "bench.R").write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(d / "bench.R"), str(d / "model.lav"), str(d / "pop.lav"),
                              str(replications), str(n), str(workers)],
                             capture_output=True, text=True, check=True, env={**os.environ})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", default="1000", help="one count or several: 200,1000")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-r", action="store_true")
    args = parser.parse_args()

    study = StudyPopulation()
    pop = Population.from_dict(study.model, study.truth, source="study pseudo-true values")
    with_r = not args.skip_r and shutil.which("Rscript") is not None
    summary = []
    for reps in (int(v) for v in str(args.replications).split(",")):
        spec = PowerSpec(pop, study.model, seed=20240601)
        ours, row = run_ours(spec, reps, args.n, args.workers)
        print(f"survey.power: {reps} replications, N = {args.n}, {args.workers} Dask workers: {ours:.1f} s "
              f"({ours / reps * 1000:.1f} ms per replication, convergence {row['convergence']:.3f}, "
              f"power FOL~EMO {row['power']:.3f})", flush=True)
        entry = {"replications": reps, "survey_seconds": round(ours, 2)}
        if with_r:
            r = run_lavaan(pop, study.model, reps, args.n, args.workers)
            print(f"lavaan (simulateData + sem, mclapply {args.workers} cores): {r['seconds']:.1f} s "
                  f"({r['seconds'] / reps * 1000:.1f} ms per replication, convergence "
                  f"{r['converged']:.3f})")
            print(f"ratio survey / lavaan = {ours / r['seconds']:.3f} (target <= 0.25)", flush=True)
            entry.update(lavaan_seconds=round(r["seconds"], 2), ratio=round(ours / r["seconds"], 3))
        summary.append(entry)
    if not with_r:
        print("lavaan: not run (Rscript missing or --skip-r)")
    print(json.dumps({"n": args.n, "workers": args.workers, "runs": summary}))


if __name__ == "__main__":
    main()
