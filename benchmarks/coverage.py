"""Monte Carlo: 95% CI coverage and bias of the six paths to FOL (and FOL -> FOLLOWED30) at N = 500.

Design: ``--reps`` replications (default 200) of ``survey.simulate.simulate_clean(500, seed=BASE + r)``
under follow-drivers@1.1.0 (clean respondents, skewed 7-point items, reverse-keyed items reverse-scored
before fitting), the instrument's lavaan model fitted with ``survey.fit`` (lavaan-equal ML, marker
identification) twice: ``estimator="ML"`` (normal-theory SEs, expected information) and
``estimator="MLR"`` (Huber-White sandwich SEs, lavaan's MLR). Wald intervals est +- 1.96 SE.

What the intervals are compared with: the pseudo-true values (``survey.simulate.pseudo_true``), the ML
solution of the model fitted to the exact population covariance matrix of the 7-point scores and the
count, i.e. what the estimator converges to (White 1982). Unstandardized paths are compared with the
pseudo-true unstandardized values; standardized paths (std.all, delta-method SEs as lavaan's
``standardizedSolution``) with the pseudo-true std.all values. The generating standardized paths
(.25 .18 .15 .30 .08 .10) differ from the pseudo-true ones by at most .002 (coarse categories).

Run: ``.venv/bin/python benchmarks/coverage.py [--reps 200] [--n 500] [--seed 20261128]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

Z975 = 1.959963984540054


def one_replication(n: int, seed: int, inst, model: str) -> pd.DataFrame:
    """Fit one simulated sample with ML and MLR; the paths to FOL and FOLLOWED30 with their SEs."""
    import survey
    from survey.simulate import simulate_clean

    data, _ = simulate_clean(n, seed, inst)
    for item, key in inst.keys().items():
        if key == -1 and item in data.columns:
            data[item] = 8 - data[item]
    rows = []
    for estimator in ("ML", "MLR"):
        res = survey.fit(model, data, estimator=estimator)
        est = res.estimates()
        std = res.standardized_solution("std.all")
        keep = (est["op"] == "~") & est["lhs"].isin(["FOL", "FOLLOWED30"])
        skeep = (std["op"] == "~") & std["lhs"].isin(["FOL", "FOLLOWED30"])
        part = pd.DataFrame({
            "path": (est.loc[keep, "lhs"] + " ~ " + est.loc[keep, "rhs"]).to_numpy(),
            "est": est.loc[keep, "est"].to_numpy(),
            "se": est.loc[keep, "se"].to_numpy(),
            "std": std.loc[skeep, "est.std"].to_numpy(),
            "std_se": std.loc[skeep, "se"].to_numpy(),
        })
        part["estimator"] = estimator
        part["converged"] = res.converged
        part["seed"] = seed
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def coverage_table(
    allfits: pd.DataFrame, truth: dict[str, float], truth_std: dict[str, float]
) -> pd.DataFrame:
    """Bias, empirical SD, mean SE and coverage per path and estimator."""
    rows = []
    for (estimator, path), g in allfits.groupby(["estimator", "path"], sort=False):
        t, ts = truth[path], truth_std[path]
        cover = ((g["est"] - Z975 * g["se"] <= t) & (t <= g["est"] + Z975 * g["se"])).mean()
        cover_std = ((g["std"] - Z975 * g["std_se"] <= ts) & (ts <= g["std"] + Z975 * g["std_se"])).mean()
        rows.append({
            "estimator": estimator, "path": path, "true": t, "bias": g["est"].mean() - t,
            "emp.SD": g["est"].std(ddof=1), "mean.SE": g["se"].mean(), "coverage": float(cover),
            "true.std": ts, "bias.std": g["std"].mean() - ts, "coverage.std": float(cover_std),
        })
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", default=None, help="optional CSV of every replication's estimates")
    args = parser.parse_args()

    from survey.instrument import lavaan_model, load_instrument
    from survey.simulate import DEFAULT_POPULATION, pseudo_true

    inst = load_instrument("follow-drivers@1.1.0")
    model = lavaan_model(inst)
    items = [i for i in DEFAULT_POPULATION.loadings if i in {it.id for it in inst.items}]
    pt = pseudo_true(items)
    pt = pt[(pt["op"] == "~") & pt["lhs"].isin(["FOL", "FOLLOWED30"])]
    names = pt["lhs"] + " ~ " + pt["rhs"]
    truth = dict(zip(names, pt["est"], strict=True))
    truth_std = dict(zip(names, pt["std.all"], strict=True))

    t0 = time.time()
    runs = []
    for r in range(args.reps):
        runs.append(one_replication(args.n, args.seed + r, inst, model))
        if (r + 1) % 20 == 0:
            print(f"  {r + 1}/{args.reps} replications, {time.time() - t0:.0f} s", flush=True)
    allfits = pd.concat(runs, ignore_index=True)
    if args.out:
        allfits.to_csv(args.out, index=False)
    n_failed = int((~allfits.drop_duplicates(["seed", "estimator"])["converged"]).sum())
    table = coverage_table(allfits, truth, truth_std)
    mc_se = np.sqrt(0.95 * 0.05 / args.reps)
    print(f"\nCoverage of Wald 95% CIs, {args.reps} replications at N = {args.n} (clean data), seeds "
          f"{args.seed}..{args.seed + args.reps - 1}; non-converged fits: {n_failed}; "
          f"Monte Carlo SE of a 95% coverage = {mc_se:.3f}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    drivers = table[table["path"].str.startswith("FOL ~")]
    for estimator, g in drivers.groupby("estimator"):
        raw = f"{g['coverage'].min():.3f}-{g['coverage'].max():.3f}"
        std = f"{g['coverage.std'].min():.3f}-{g['coverage.std'].max():.3f}"
        print(f"{estimator}: coverage of the six driver paths {raw} (unstandardized), {std} (standardized)")
    print(f"\nelapsed {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
