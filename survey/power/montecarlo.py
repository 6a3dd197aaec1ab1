"""Monte Carlo power: over a grid of N and R replications, per hypothesis power, bias, coverage, convergence.

For each sample size n and each free parameter theta (Muthen & Muthen 2002, *SEM* 9, 599-620; simsem's
``summaryParam``), over the replications that converged with a finite standard error:

* power = share of replications whose two-sided Wald test rejects theta = 0 at ``alpha``
  (|est / se| > z_{1 - alpha/2}; lavaan's ``pvalue``), with its Monte Carlo standard error
  sqrt(p (1 - p) / R_converged);
* bias = mean(est) - theta, relative bias = bias / theta, sd(est) and mean(se);
* coverage = share of ``level`` Wald intervals est +- z se that contain theta;
* convergence = share of the R replications that converged.

Path differences (:class:`~survey.power.replicate.PathPair`): power is the share of replications whose
two-sided test rejects equality *in the direction of the population difference* (EMO > CON is
supported only when the estimate says EMO > CON). Invariance: the share of likelihood-ratio tests of the
constraint that reject at ``alpha``. ``fit:chisq`` (with ``PowerSpec(fit_test=True)``): the rejection
rate of the model's chi-square test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey.errors import SurveyInputError, SurveyWarning
from survey.power.replicate import InvarianceTest, PathPair, PowerSpec
from survey.power.runner import Checkpoint, run_replications

COLUMNS = ["n", "parameter", "kind", "truth", "power", "mcse", "mean_est", "bias", "rel_bias", "sd_est",
           "mean_se", "coverage", "convergence", "replications", "converged"]


def pair_truth(truth: dict[str, float], pair: PathPair) -> float:
    """Population value of a path difference (same scale as :func:`replicate.pair_difference`)."""
    pa, pb = truth[f"{pair.outcome}~{pair.a}"], truth[f"{pair.outcome}~{pair.b}"]
    if pair.scale == "std":
        return pa * math.sqrt(truth[f"{pair.a}~~{pair.a}"]) - pb * math.sqrt(truth[f"{pair.b}~~{pair.b}"])
    return pa - pb


def _wald_rows(n: int, name: str, kind: str, truth: float, est: np.ndarray, se: np.ndarray, total: int,
               alpha: float, level: float, directional: bool) -> dict[str, Any]:
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    est, se = est[ok], se[ok]
    r = len(est)
    zc = sps.norm.isf(alpha / 2)
    zl = sps.norm.isf((1 - level) / 2)
    reject = np.abs(est / se) > zc if r else np.array([], dtype=bool)
    if directional and truth != 0:
        reject &= np.sign(est) == np.sign(truth)
    p = float(reject.mean()) if r else float("nan")
    mean_est = float(est.mean()) if r else float("nan")
    return {
        "n": n, "parameter": name, "kind": kind, "truth": truth, "power": p,
        "mcse": math.sqrt(p * (1 - p) / r) if r else float("nan"),
        "mean_est": mean_est, "bias": mean_est - truth,
        "rel_bias": (mean_est - truth) / truth if truth else float("nan"),
        "sd_est": float(est.std(ddof=1)) if r > 1 else float("nan"),
        "mean_se": float(se.mean()) if r else float("nan"),
        "coverage": float((np.abs(est - truth) <= zl * se).mean()) if r else float("nan"),
        "convergence": r / total if total else float("nan"), "replications": total, "converged": r,
    }


def _rate_row(n: int, name: str, kind: str, pvalues: np.ndarray, total: int, alpha: float) -> dict[str, Any]:
    ok = np.isfinite(pvalues)
    r = int(ok.sum())
    p = float((pvalues[ok] < alpha).mean()) if r else float("nan")
    return {"n": n, "parameter": name, "kind": kind, "truth": float("nan"), "power": p,
            "mcse": math.sqrt(p * (1 - p) / r) if r else float("nan"), "mean_est": float("nan"),
            "bias": float("nan"), "rel_bias": float("nan"), "sd_est": float("nan"), "mean_se": float("nan"),
            "coverage": float("nan"), "convergence": r / total if total else float("nan"),
            "replications": total, "converged": r}


def summarise(records: list[dict[str, Any]], truth: dict[str, float], pairs: tuple[PathPair, ...] = (),
              alpha: float = 0.05, level: float = 0.95, invariance: InvarianceTest | None = None
              ) -> pd.DataFrame:
    """One row per (n, hypothesis): power, Monte Carlo SE, bias, coverage, convergence (module doc)."""
    rows: list[dict[str, Any]] = []
    frame = pd.DataFrame(records)
    for n in sorted(frame["n"].unique()) if len(frame) else []:
        recs = [r for r in records if r["n"] == n]
        total = len(recs)
        good = [r for r in recs if r.get("converged") and "est" in r]
        for key, value in truth.items():
            est = np.array([_f(r["est"].get(key)) for r in good])
            se = np.array([_f(r["se"].get(key)) for r in good])
            rows.append(_wald_rows(int(n), key, "parameter", value, est, se, total, alpha, level, False))
        for pair in pairs:
            vals = [r.get("diff", {}).get(pair.name, [None, None]) for r in good]
            est = np.array([_f(v[0]) for v in vals])
            se = np.array([_f(v[1]) for v in vals])
            rows.append(_wald_rows(int(n), pair.name, "difference", pair_truth(truth, pair), est, se, total,
                                   alpha, level, True))
        if any("fit" in r for r in good):
            pv = np.array([_f(r.get("fit", {}).get("pvalue")) for r in good])
            rows.append(_rate_row(int(n), "fit:chisq", "fit", pv, total, alpha))
        if invariance is not None:
            inv = [r.get("invariance", {}) for r in recs]
            pv = np.array([_f(v.get("pvalue")) if v.get("converged") else np.nan for v in inv])
            rows.append(_rate_row(int(n), invariance.name, "invariance", pv, total, alpha))
        if any("n_analytic" in r for r in recs):
            na = np.array([_f(r.get("n_analytic")) for r in recs])
            for row in rows:
                if row["n"] == n:
                    row["n_analytic"] = float(np.nanmean(na))
    out = pd.DataFrame(rows)
    cols = [*COLUMNS, *(["n_analytic"] if "n_analytic" in out.columns else [])]
    return out[cols] if len(out) else pd.DataFrame(columns=cols)


def rejections(records: list[dict[str, Any]], name: str, truth: dict[str, float],
               pairs: tuple[PathPair, ...] = (), alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(n, reject) of every converged replication for one hypothesis, as :func:`summarise` counts them."""
    zc = sps.norm.isf(alpha / 2)
    pair = next((p for p in pairs if p.name == name), None)
    ns, rej = [], []
    for r in records:
        if not (r.get("converged") and "est" in r):
            continue
        if pair is not None:
            est, se = (_f(v) for v in r.get("diff", {}).get(name, [None, None]))
            sign = np.sign(pair_truth(truth, pair))
        elif name in truth:
            est, se = _f(r["est"].get(name)), _f(r["se"].get(name))
            sign = 0.0
        else:
            continue
        if not (np.isfinite(est) and np.isfinite(se) and se > 0):
            continue
        ns.append(r["n"])
        rej.append(abs(est / se) > zc and (sign == 0 or np.sign(est) == sign))
    return np.asarray(ns, dtype=float), np.asarray(rej, dtype=bool)


def _f(v: Any) -> float:
    return float("nan") if v is None else float(v)


@dataclass
class PowerResult:
    """Monte Carlo power over a grid of N: ``table`` (one row per n and hypothesis, :data:`COLUMNS`)."""

    table: pd.DataFrame
    n: list[int]
    replications: int
    seed: int
    alpha: float = 0.05
    target: float = 0.80
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    warnings: list[SurveyWarning] = field(default_factory=list)
    n_required: dict[str, int | None] = field(default_factory=dict)

    def power(self) -> pd.DataFrame:
        """Power as a wide table: rows n, one column per hypothesis."""
        return self.table.pivot(index="n", columns="parameter", values="power")[
            list(dict.fromkeys(self.table["parameter"]))]

    def grid_n_required(self, target: float | None = None) -> dict[str, int | None]:
        """The smallest N of the grid whose power reaches ``target`` (None: not within the grid)."""
        t = self.target if target is None else target
        out: dict[str, int | None] = {}
        for name, sub in self.table.groupby("parameter", sort=False):
            hit = sub[sub["power"] >= t].sort_values("n")
            out[str(name)] = int(hit["n"].iloc[0]) if len(hit) else None
        return out

    def to_dict(self) -> dict[str, Any]:
        """``survey power --json`` (DESIGN.md): n, power per hypothesis, n_required, and the details."""
        names = list(dict.fromkeys(self.table["parameter"]))

        def col(name: str, what: str) -> list[float | None]:
            sub = self.table[self.table["parameter"] == name].set_index("n")
            return [_clean(sub.loc[n, what]) if n in sub.index else None for n in self.n]

        out: dict[str, Any] = {
            "n": list(self.n),
            "power": {k: col(k, "power") for k in names},
            "n_required": self.n_required or self.grid_n_required(),
            "replications": self.replications, "seed": self.seed, "alpha": self.alpha, "target": self.target,
            "mcse": {k: col(k, "mcse") for k in names},
            "bias": {k: col(k, "bias") for k in names},
            "coverage": {k: col(k, "coverage") for k in names},
            "convergence": {k: col(k, "convergence") for k in names},
            "warnings": [w.message for w in self.warnings],
        }
        if "n_analytic" in self.table.columns:
            first = self.table.drop_duplicates("n").set_index("n")["n_analytic"]
            out["n_analytic"] = [_clean(first.loc[n]) for n in self.n]
        return out


def _clean(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def hypothesis_names(spec: PowerSpec) -> list[str]:
    """Names of the hypotheses a run reports: free parameters, compared pairs, the invariance test."""
    names = [*spec.source.truth, *(p.name for p in spec.pairs)]
    if spec.invariance is not None:
        names.append(spec.invariance.name)
    return names


def check_spec(spec: PowerSpec, truth: dict[str, float]) -> None:
    """Refuse hypotheses the model does not have before any replication runs."""
    for pair in spec.pairs:
        for key in (f"{pair.outcome}~{pair.a}", f"{pair.outcome}~{pair.b}",
                    *((f"{pair.a}~~{pair.a}", f"{pair.b}~~{pair.b}") if pair.scale == "std" else ())):
            if key not in truth:
                raise SurveyInputError("path comparison names a parameter the model does not estimate",
                                       field="compare", value=key)


def monte_carlo_power(
    spec: PowerSpec,
    n: list[int],
    replications: int,
    *,
    alpha: float = 0.05,
    level: float = 0.95,
    target: float = 0.80,
    workers: int | None = 1,
    scheduler: str | None = None,
    processes: bool = True,
    checkpoint: str | None = None,
    progress: bool | None = None,
) -> PowerResult:
    """Run ``replications`` replications at each n of ``n`` and summarise them (module docstring)."""
    grid = sorted({int(v) for v in n})
    if not grid or grid[0] < 2:
        raise SurveyInputError("sample sizes must be integers >= 2", field="n", value=n)
    if int(replications) < 1:
        raise SurveyInputError("replications must be at least 1", field="replications", value=replications)
    truth = spec.source.truth
    check_spec(spec, truth)
    ckpt = Checkpoint(checkpoint, spec.fingerprint())
    tasks = [(v, r) for v in grid for r in range(int(replications))]
    records = run_replications(spec, tasks, workers=workers, scheduler=scheduler, processes=processes,
                               checkpoint=ckpt, progress=progress)
    return build_result(records, spec, grid, int(replications), alpha, level, target)


def build_result(records: list[dict[str, Any]], spec: PowerSpec, grid: list[int], replications: int,
                 alpha: float, level: float, target: float) -> PowerResult:
    """:class:`PowerResult` of finished records; every replication failing is an error, not power 0."""
    errors = [r["error"] for r in records if "error" in r]
    if records and len(errors) == len(records):
        raise SurveyInputError(f"every replication failed; the first: {errors[0]}", field="model")
    table = summarise(records, spec.source.truth, spec.pairs, alpha, level, spec.invariance)
    warns = []
    if errors:
        warns.append(SurveyWarning("power_failed_replications",
                                   f"{len(errors)} of {len(records)} replications failed and count as not "
                                   f"converged (first: {errors[0]})", "power"))
    low = table[(table["kind"] == "parameter") & (table["convergence"] < 0.95)]
    for n_val in sorted(low["n"].unique()):
        rate = float(low[low["n"] == n_val]["convergence"].min())
        warns.append(SurveyWarning("power_low_convergence",
                                   f"at N = {n_val} only {rate:.0%} of replications converged; power is "
                                   "among the converged ones", "power"))
    return PowerResult(table=table, n=grid, replications=replications, seed=int(spec.seed), alpha=alpha,
                       target=target, records=records, warnings=warns)
