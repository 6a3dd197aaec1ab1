"""Monte Carlo: 95% CI coverage and bias of the six paths to FOL (and FOL -> FOLLOWED30) at N = 500.

Design: 200 replications of ``survey.simulate.simulate_clean(500, seed=BASE + r)`` under
follow-drivers@1.1.0 (clean respondents, 7-point items, reverse-keyed items reverse-scored before
fitting), the instrument's lavaan model fitted by semopy (ML, ``obj="MLW"``, marker identification:
first loading of each factor fixed to 1), Wald intervals est +- 1.96 SE with two kinds of SE: the
normal-theory SE (expected information) and semopy's robust sandwich SE (``inspect(se_robust=True)``,
the Huber-White form that MLR uses; Yuan & Bentler 2000). The 7-point items are skewed and the count
is overdispersed, so normal-theory SEs are expected to be too small.

What the intervals are compared with: semopy gives no standard errors for standardized estimates, so
coverage is computed for the UNSTANDARDIZED paths. Their population values depend on the marker items'
scale; we use the pseudo-true values (``survey.simulate.pseudo_true``): the ML solution of the model
fitted to the exact population covariance matrix of the 7-point scores and the count, i.e. what the
estimator converges to (White 1982). For the standardized paths we report the bias against the
generating values (b = .25 .18 .15 .30 .08 .10, and the count's standardized slope).

Run: ``.venv/bin/python benchmarks/coverage.py [--reps 200] [--n 500] [--seed 20261128]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def one_fit(n: int, seed: int, inst, model: str) -> pd.DataFrame:
    import semopy

    from survey.simulate import simulate_clean

    data, _ = simulate_clean(n, seed, inst)
    for item, key in inst.keys().items():
        if key == -1 and item in data.columns:
            data[item] = 8 - data[item]
    data = data.astype(float)  # semopy's robust SEs centre the data in place
    fit = semopy.Model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.fit(data, obj="MLW")
        est = fit.inspect(std_est=True)
        robust = fit.inspect(se_robust=True)
    keep = (est["op"] == "~") & est["lval"].isin(["FOL", "FOLLOWED30"])
    est, robust = est[keep], robust[keep]
    return pd.DataFrame({
        "path": est["lval"] + " ~ " + est["rval"],
        "est": est["Estimate"].astype(float).to_numpy(),
        "se": pd.to_numeric(est["Std. Err"], errors="coerce").to_numpy(),
        "se_robust": pd.to_numeric(robust["Std. Err"], errors="coerce").to_numpy(),
        "std": est["Est. Std"].astype(float).to_numpy(),
        "seed": seed,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", default=None, help="optional CSV of every replication's estimates")
    args = parser.parse_args()

    from survey.instrument import lavaan_model, load_instrument
    from survey.simulate import DEFAULT_POPULATION, DRIVERS, pseudo_true

    inst = load_instrument("follow-drivers@1.1.0")
    model = "\n".join(line for line in lavaan_model(inst).splitlines() if ":=" not in line)
    items = [i for i in DEFAULT_POPULATION.loadings if i in {it.id for it in inst.items}]
    pt = pseudo_true(items)
    pt = pt[(pt["op"] == "~") & pt["lhs"].isin(["FOL", "FOLLOWED30"])]
    truth = dict(zip(pt["lhs"] + " ~ " + pt["rhs"], pt["est"], strict=True))
    gen_std = {f"FOL ~ {d}": DEFAULT_POPULATION.paths[d] for d in DRIVERS}
    gen_std["FOLLOWED30 ~ FOL"] = DEFAULT_POPULATION.count_moments()["std_slope"]

    t0 = time.time()
    runs = []
    for r in range(args.reps):
        runs.append(one_fit(args.n, args.seed + r, inst, model))
        if (r + 1) % 20 == 0:
            print(f"  {r + 1}/{args.reps} replications, {time.time() - t0:.0f} s", flush=True)
    allfits = pd.concat(runs, ignore_index=True)
    if args.out:
        allfits.to_csv(args.out, index=False)

    rows = []
    for path, g in allfits.groupby("path", sort=False):
        true = truth[path]
        lo, hi = g["est"] - 1.959964 * g["se"], g["est"] + 1.959964 * g["se"]
        lo_r, hi_r = g["est"] - 1.959964 * g["se_robust"], g["est"] + 1.959964 * g["se_robust"]
        rows.append({
            "path": path,
            "true (marker)": true,
            "mean est": g["est"].mean(),
            "bias": g["est"].mean() - true,
            "rel.bias %": 100 * (g["est"].mean() - true) / true,
            "emp. SD": g["est"].std(ddof=1),
            "mean SE": g["se"].mean(),
            "coverage 95%": float(((lo <= true) & (true <= hi)).mean()),
            "mean SE rob.": g["se_robust"].mean(),
            "cov. robust": float(((lo_r <= true) & (true <= hi_r)).mean()),
            "true std": gen_std[path],
            "mean std": g["std"].mean(),
            "std bias": g["std"].mean() - gen_std[path],
        })
    table = pd.DataFrame(rows)
    mc_se = np.sqrt(0.95 * 0.05 / args.reps)
    print(f"\nCoverage of Wald 95% CIs, {args.reps} replications at N = {args.n} (clean data, ML), "
          f"seeds {args.seed}..{args.seed + args.reps - 1}; Monte Carlo SE of a 95% coverage = {mc_se:.3f}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nelapsed {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
