"""Benchmark: ingest and screen 1,000,000 simulated responses, side by side with a bare pandas.read_csv.

A plain CSV of N responses (45 columns: Qualtrics metadata incl. two personal-data columns, and the
follow-drivers 1.0.0 items) is written once to a temporary directory. Then, in this one process:

* time: ``pandas.read_csv(path)`` and ``survey.quality.prepare(path, ...)`` (read, validate, drop personal
  data - left unread: ``read_raw(skip=)`` -, screen, exclusion flow, missing-data report with Little's
  test), each timed without tracing,
  ``--repeat`` times, alternately; the medians are printed, of the wall time and of the process's CPU
  time (user + system time of all its threads, ``resource.getrusage``). pandas 3 parses a large CSV in
  threads, so its wall time shrinks with free cores while its CPU time does not depend on the load:
  on a shared machine the CPU ratio is the fair one, and both are printed;
* memory: the same two calls again under ``tracemalloc`` (numpy and pandas report their buffers to it),
  peak traced bytes, compared with the peak of the bare read and with the DataFrame's own memory.

Targets: ingest <= 3x the time of the bare read, peak <= 4x the DataFrame's memory.
Run: .venv/bin/python benchmarks/ingest.py [--n 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from survey.instrument import load_instrument
from survey.quality import prepare

SPEC = "follow-drivers@1.0.0"


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Responses with a one-factor-per-construct structure plus a few planted screen cases."""
    inst = load_instrument(SPEC)
    rng = np.random.default_rng(seed)
    k = len(inst.construct_codes)
    eta = rng.standard_normal((n, k)) @ np.linalg.cholesky(0.4 + 0.6 * np.eye(k)).T
    cols: dict[str, np.ndarray] = {
        "Status": np.where(rng.random(n) < 0.01, 1, 0),
        "Progress": np.where(rng.random(n) < 0.03, 60, 100),
        "Duration (in seconds)": rng.integers(60, 1200, n),
        "Finished": np.ones(n, dtype=int),
        "ResponseId": np.char.add("R_", np.arange(n).astype(str)),
        "IPAddress": np.char.add("10.1.0.", (np.arange(n) % 250).astype(str)),
        "RecipientEmail": np.char.add(np.arange(n).astype(str), "@example.org"),
        "DistributionChannel": np.full(n, "anonymous"),
    }
    cols["Finished"][cols["Progress"] < 100] = 0
    for it in inst.items:
        sc = inst.scale_of(it.id)
        if it.construct:
            f = inst.construct_codes.index(it.construct)
            y = 0.8 * eta[:, f] * it.keyed + 0.6 * rng.standard_normal(n)
            v = np.clip(np.rint(4 + 1.4 * y), 1, 7).astype(np.int8)
            v[rng.random(n) < 0.005] = 8
            cols[it.id] = v
        elif it.role == "attention":
            cols[it.id] = np.where(rng.random(n) < 0.03, 5, int(it.expected))
        elif sc.type == "count":
            cols[it.id] = rng.poisson(4, n)
        elif sc.type == "numeric":
            cols[it.id] = rng.integers(5, 240, n)
        elif sc.type != "text":
            cols[it.id] = rng.choice(sorted(sc.points), n)
    return pd.DataFrame(cols)


def cpu_seconds() -> float:
    """User + system CPU time of every thread of this process (``getrusage(RUSAGE_SELF)``)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call; the result is dropped before returning."""
    gc.collect()
    t0, c0 = time.perf_counter(), cpu_seconds()
    out = fn()
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    del out
    gc.collect()
    return wall, cpu


def traced(fn) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    gc.collect()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="time each call this many times (medians printed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.csv"
        t0 = time.perf_counter()
        simulate(args.n, args.seed).to_csv(path, index=False)
        print(f"wrote {path.stat().st_size / 1e6:.0f} MB ({args.n} rows) in {time.perf_counter() - t0:.1f} s")
        frame = pd.read_csv(path)
        df_bytes = int(frame.memory_usage(deep=True).sum())
        ncol = frame.shape[1]
        del frame
        r = prepare(path, SPEC).report
        reads, ingests = [], []
        for _ in range(args.repeat):  # alternately, so that a change of load hits both alike
            reads.append(timed(lambda: pd.read_csv(path)))
            ingests.append(timed(lambda: prepare(path, SPEC)))
        t_read, c_read = (statistics.median(x) for x in zip(*reads, strict=True))
        t_ingest, c_ingest = (statistics.median(x) for x in zip(*ingests, strict=True))
        peak_read = traced(lambda: pd.read_csv(path))
        peak_ingest = traced(lambda: prepare(path, SPEC))
    print(f"columns: {ncol}; n_raw {r['n_raw']}, n_analytic {r['n_analytic']}, n_excluded {r['n_excluded']}")
    print(f"medians of {args.repeat} runs each")
    print(f"{'':28}{'wall (s)':>10}{'CPU (s)':>10}{'peak (MB)':>12}")
    print(f"{'pandas.read_csv':28}{t_read:>10.2f}{c_read:>10.2f}{peak_read / 1e6:>12.0f}")
    print(f"{'survey.quality.prepare':28}{t_ingest:>10.2f}{c_ingest:>10.2f}{peak_ingest / 1e6:>12.0f}")
    print(f"DataFrame memory (read_csv, deep): {df_bytes / 1e6:.0f} MB")
    print(f"wall ratio ingest / read_csv:          {t_ingest / t_read:.2f}x (target <= 3x; follows the load)")
    print(f"CPU ratio ingest / read_csv:           {c_ingest / c_read:.2f}x (target <= 3x; pandas parses in "
          "threads: CPU is the load-independent comparison)")
    print(f"peak ratio ingest / read_csv peak:     {peak_ingest / peak_read:.2f}x")
    print(f"peak ratio ingest / DataFrame memory:  {peak_ingest / df_bytes:.2f}x (target <= 4x)")


if __name__ == "__main__":
    main()
