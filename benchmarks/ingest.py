"""Benchmark: ingest and screen 1,000,000 simulated responses, side by side with a bare pandas.read_csv.

A plain CSV of N responses (45 columns: Qualtrics metadata incl. two personal-data columns, and the
follow-drivers 1.0.0 items) is written once to a temporary directory. Then, in this one process:

* time: ``pandas.read_csv(path)`` and ``survey.quality.prepare(path, ...)`` (read, validate, drop personal
  data, screen, exclusion flow, missing-data report with Little's test), each timed without tracing,
  ``--repeat`` times (the fastest run counts: the machine is shared), wall time and the process's CPU
  time (pandas 3 parses a large CSV in threads, so its wall time shrinks with free cores while the
  CPU time does not depend on the load);
* memory: the same two calls again under ``tracemalloc`` (numpy and pandas report their buffers to it),
  peak traced bytes, compared with the peak of the bare read and with the DataFrame's own memory.

Targets: ingest <= 3x the time of the bare read, peak <= 4x the DataFrame's memory.
Run: .venv/bin/python benchmarks/ingest.py [--n 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
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


def timed(fn):
    """(result, wall seconds, CPU seconds of every thread of this process)."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


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
    ap.add_argument("--repeat", type=int, default=2, help="time each call this many times, keep the fastest")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.csv"
        t0 = time.perf_counter()
        simulate(args.n, args.seed).to_csv(path, index=False)
        print(f"wrote {path.stat().st_size / 1e6:.0f} MB ({args.n} rows) in {time.perf_counter() - t0:.1f} s")
        reads = [timed(lambda: pd.read_csv(path))[1:] for _ in range(args.repeat - 1)]
        frame, *last = timed(lambda: pd.read_csv(path))
        t_read, c_read = min([*reads, tuple(last)])
        df_bytes = int(frame.memory_usage(deep=True).sum())
        ncol = frame.shape[1]
        del frame
        result, t_ingest, c_ingest = timed(lambda: prepare(path, SPEC))
        for _ in range(args.repeat - 1):
            del result
            result, t_again, c_again = timed(lambda: prepare(path, SPEC))
            t_ingest, c_ingest = min((t_ingest, c_ingest), (t_again, c_again))
        r = result.report
        del result
        peak_read = traced(lambda: pd.read_csv(path))
        peak_ingest = traced(lambda: prepare(path, SPEC))
    print(f"columns: {ncol}; n_raw {r['n_raw']}, n_analytic {r['n_analytic']}, n_excluded {r['n_excluded']}")
    print(f"{'':28}{'time (s)':>10}{'CPU (s)':>10}{'peak (MB)':>12}")
    print(f"{'pandas.read_csv':28}{t_read:>10.2f}{c_read:>10.2f}{peak_read / 1e6:>12.0f}")
    print(f"{'survey.quality.prepare':28}{t_ingest:>10.2f}{c_ingest:>10.2f}{peak_ingest / 1e6:>12.0f}")
    print(f"DataFrame memory (read_csv, deep): {df_bytes / 1e6:.0f} MB")
    print(f"time ratio ingest / read_csv:          {t_ingest / t_read:.2f}x (target <= 3x)")
    print(f"CPU ratio ingest / read_csv:           {c_ingest / c_read:.2f}x (pandas parses in threads: "
          "CPU is the load-independent comparison)")
    print(f"peak ratio ingest / read_csv peak:     {peak_ingest / peak_read:.2f}x")
    print(f"peak ratio ingest / DataFrame memory:  {peak_ingest / df_bytes:.2f}x (target <= 4x)")


if __name__ == "__main__":
    main()
