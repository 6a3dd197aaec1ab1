"""``survey power`` end to end: options -> computation -> (JSON string, readable text); files written last."""

from __future__ import annotations

import json
import os
from typing import Any

from survey.errors import SurveyInputError
from survey.power.command import (
    analytic_command,
    default_hypotheses,
    load_source,
    parse_ints,
    parse_invariance,
    path_pairs,
    rmsea_command,
    write_outputs,
)
from survey.power.replicate import PowerSpec


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _rmsea_text(out: dict[str, Any]) -> str:
    lines = [f"RMSEA test of {out['test']} (MacCallum, Browne & Sugawara 1996): "
             f"H0 RMSEA = {out['rmsea0']:g}, H1 RMSEA = {out['rmsea1']:g}, df = {out['df']:g}, "
             f"alpha = {out['alpha']:g}"]
    if out["power"] is not None:
        ns = out["n"] if isinstance(out["n"], list) else [out["n"]]
        ps = out["power"] if isinstance(out["power"], list) else [out["power"]]
        lines += [f"  power at N = {v}: {p:.4f}" for v, p in zip(ns, ps, strict=True)]
    lines.append(f"  N for power > {out['target']:.2f}: {out['n_required']:g}")
    return "\n".join(lines)


def _analytic_text(out: dict[str, Any]) -> str:
    lines = [f"Analytic power (Wald; Satorra-Saris 1985), alpha = {out['alpha']:g}", ""]
    for name, req in out["n_required"].items():
        ss = out["n_required_satorra_saris"].get(name)
        power = ", ".join(f"N={v}: {p:.3f}" for v, p in zip(out["n"], out["power"][name], strict=True))
        lines.append(f"  {name:<24} N for {out['target']:.2f}: Wald {req}"
                     + (f", Satorra-Saris {ss}" if ss is not None else "")
                     + (f"   ({power})" if power else ""))
    return "\n".join(lines)


def _mc_text(result: Any, design: dict[str, Any], hypotheses: list[str], search: Any) -> str:
    wide = result.power()[[h for h in hypotheses if h in result.power().columns]]
    lines = ["Monte Carlo power (" + "; ".join(f"{k}: {v}" for k, v in design.items()) + ")",
             f"{result.replications} replications per N, seed {result.seed}, alpha {result.alpha:g}", "",
             wide.to_string(float_format=lambda v: f"{v:.3f}"), ""]
    req = result.n_required or result.grid_n_required()
    how = " (bisection over N)" if search else " (on the grid)"
    lines.append(f"N for power >= {result.target:.2f}{how}")
    for h in hypotheses:
        extra = ""
        if search is not None and search.n_required.get(h):
            extra = (f"  (power {search.power_at[h]:.3f} +- {search.mcse_at[h]:.3f}; "
                     f"smoothed over all N: {search.n_smoothed.get(h)})")
        lines.append(f"  {h:<24} {req.get(h) if req.get(h) is not None else 'not reached'}{extra}")
    if "n_analytic" in result.table.columns:
        first = result.table.drop_duplicates("n").set_index("n")["n_analytic"]
        lines.append("expected analytic N: " + ", ".join(f"{n} -> {first[n]:.1f}" for n in result.n))
    lines += [f"warning: {w.message}" for w in result.warnings]
    return "\n".join(lines)


def run_power(*, model: str | None, population: str | None, n: str | None, replications: int, seed: int,
              scheduler: str | None, workers: int | None, estimator: str, missing: str | None, mcar: float,
              compare_paths: str | None, invariance: str | None, groups: str, planted_group: int,
              invariance_test: str, pipeline: bool, careless: float | None, partial: float | None,
              nonresponse: float | None, search: bool, hypotheses: str | None, target: float, alpha: float,
              analytic: bool, rmsea0: float | None, rmsea1: float | None, df: float | None, n_groups: int,
              checkpoint: str | None, figure: str | None, report: str | None, progress: bool | None,
              as_json: bool) -> tuple[str, str]:
    """Run ``survey power`` with the command's options; returns (JSON, text)."""
    if not 0 < alpha < 1:
        raise SurveyInputError("alpha must lie in (0, 1)", field="alpha", value=alpha)
    if not 0 < target < 1:
        raise SurveyInputError("target power must lie in (0, 1)", field="target", value=target)
    ns = parse_ints(n, "n")
    if model is None:
        if rmsea0 is None or rmsea1 is None or df is None:
            raise SurveyInputError("give MODEL (Monte Carlo) or --rmsea0, --rmsea1 and --df (analytic)",
                                   field="model")
        out = rmsea_command(rmsea0, rmsea1, df, ns, target, alpha, n_groups)
        return _dumps(out), _rmsea_text(out)
    rates = {"careless": careless, "partial": partial, "nonresponse": nonresponse}
    if not pipeline and any(v is not None for v in rates.values()):
        raise SurveyInputError("--careless, --partial and --nonresponse plan the raw exports of --pipeline",
                               field="pipeline")
    source, syntax = load_source(model, population, pipeline, rates)
    fit_options: dict[str, Any] = {"estimator": estimator}
    miss = missing or ("fiml" if pipeline else "listwise")
    if miss != "listwise":
        fit_options["missing"] = miss
    pairs = path_pairs(source, compare_paths) if compare_paths else ()
    inv = parse_invariance(invariance, groups, planted_group, invariance_test)
    if not 0 <= mcar < 0.9:
        raise SurveyInputError("--mcar must lie in [0, 0.9)", field="mcar", value=mcar)
    spec = PowerSpec(source, syntax, fit_options=fit_options, pairs=pairs, invariance=inv, seed=int(seed),
                     mcar=float(mcar))
    wanted = [h.strip().replace(" ", "") for h in hypotheses.split(",")] if hypotheses else \
        default_hypotheses(spec)
    if analytic:
        if inv is not None:
            raise SurveyInputError("--analytic covers parameters and path differences, not --invariance",
                                   field="invariance")
        out = analytic_command(source, ns, wanted, target, alpha, fit_options, pairs)
        return _dumps(out), _analytic_text(out)
    if replications < 1:
        raise SurveyInputError("replications must be at least 1", field="replications", value=replications)
    show = False if (as_json and progress is None) else progress  # None: on a terminal only
    run = {"workers": workers or os.cpu_count() or 1, "scheduler": scheduler, "checkpoint": checkpoint,
           "progress": show}
    searched = None
    if search:
        from survey.power.search import search_n

        searched = search_n(spec, wanted, replications, target=target, alpha=alpha, **run)
        result = searched.result
        payload = searched.to_dict()
    else:
        if not ns:
            raise SurveyInputError("give the sample sizes (--n 200,400,800) or --search", field="n")
        from survey.power.montecarlo import hypothesis_names, monte_carlo_power

        known = set(hypothesis_names(spec))
        bad = [h for h in wanted if h not in known]
        if bad:
            raise SurveyInputError("no such hypothesis in this run", field="hypotheses", value=bad[0])
        result = monte_carlo_power(spec, ns, replications, alpha=alpha, target=target, **run)
        payload = result.to_dict()
    design = {"model": model, "population": population or ("raw-export pipeline" if pipeline else
                                                           "survey.simulate study population"),
              "estimator": estimator, "missing": miss, **({"mcar": mcar} if mcar else {})}
    if pipeline:
        design.update({k: v for k, v in rates.items() if v is not None})
    payload["hypotheses"] = wanted
    payload["files"] = write_outputs(result, design, wanted, figure, report)
    return _dumps(payload), _mc_text(result, design, wanted, searched)
