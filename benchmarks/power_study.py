"""N needed for .80 power on H1-H6 and on EMO > CON in the study's population (README example).

The study's population (:class:`survey.power.study.StudyPopulation`, follow-drivers@1.1.0): clean 7-point
answers from survey.simulate, ML fit of the analysis model, Wald tests at alpha = .05; EMO > CON is the
difference of the paths scaled by the drivers' SDs (the standardized comparison of ``--compare-paths``),
significant in the population direction. Sample-size search by bisection over N with ``--replications``
Monte Carlo replications per evaluated N (:func:`survey.power.search.search_n`), beside the analytic Wald N.
Same as ``survey power follow-drivers@1.1.0 --compare-paths FOL --search --hypotheses ...``.
Run: ``python benchmarks/power_study.py [--replications 200] [--workers 2] [--checkpoint FILE]
[--bracket 0.7,1.4] [--rel-tolerance 0.02]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.power.analytic import difference_power, parameter_power  # noqa: E402
from survey.power.command import path_pairs  # noqa: E402
from survey.power.replicate import PowerSpec  # noqa: E402
from survey.power.search import search_n  # noqa: E402
from survey.power.study import StudyPopulation  # noqa: E402

HYPOTHESES = {"H1": "FOL~SHI", "H2": "FOL~SKL", "H3": "FOL~AUT", "H4": "FOL~EMO", "H5": "FOL~CON",
              "H6": "FOL~PEER", "EMO > CON": "FOL~EMO-FOL~CON"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--bracket", default="0.7,1.4", help="analytic N times these factors: first bracket")
    parser.add_argument("--rel-tolerance", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--checkpoint", default=None)
    args = parser.parse_args()
    study = StudyPopulation()
    pairs = tuple(p for p in path_pairs(study, "FOL") if p.name == HYPOTHESES["EMO > CON"])
    spec = PowerSpec(study, study.model, pairs=pairs, seed=args.seed)
    t0 = time.perf_counter()
    lo, hi = (float(v) for v in args.bracket.split(","))
    res = search_n(spec, list(HYPOTHESES.values()), args.replications, workers=args.workers,
                   checkpoint=args.checkpoint, progress=False, bracket=(lo, hi),
                   rel_tolerance=args.rel_tolerance)
    seconds = time.perf_counter() - t0
    rows = {}
    print(f"{'hypothesis':<10} {'parameter':<18} {'N (Monte Carlo)':>15} {'power at N':>11} "
          f"{'N (analytic)':>13}")
    for h, key in HYPOTHESES.items():
        is_pair = key in {p.name for p in pairs}
        pp = difference_power(study, pairs[0]) if is_pair else parameter_power(study, key)
        analytic = pp.n_required(0.80, "wald")
        n_mc = res.n_required[key]
        rows[h] = {"parameter": key, "n_monte_carlo": n_mc, "n_smoothed": res.n_smoothed.get(key),
                   "power": res.power_at[key],
                   "mcse": res.mcse_at[key], "n_analytic_wald": analytic}
        print(f"{h:<10} {key:<18} {n_mc!s:>15} {res.power_at[key]:>7.3f}+-{res.mcse_at[key]:.3f} "
              f"{analytic:>13}")
    print(f"{len(res.evaluations)} sample sizes evaluated x {args.replications} replications "
          f"in {seconds:.0f} s")
    print(json.dumps({"replications": args.replications, "seed": args.seed, "results": rows,
                      "evaluated_n": res.evaluations}))


if __name__ == "__main__":
    main()
