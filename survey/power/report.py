"""The power report as Markdown or HTML: the design, power per hypothesis and N, N required.

Plain text built from a :class:`~survey.power.montecarlo.PowerResult` (and the search's N required);
HTML is the same tables (pandas ``to_html``) under a minimal page.
"""

from __future__ import annotations

import html
import numbers
from typing import Any

import pandas as pd


def _fmt(v: Any, digits: int = 3) -> str:
    if isinstance(v, numbers.Integral):
        return str(int(v))
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return "" if f != f else f"{f:.{digits}f}"


def power_tables(result: Any, hypotheses: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(power by N: one column per hypothesis; details: truth, power, MCSE, bias, coverage, convergence)."""
    table = result.table
    if hypotheses:
        table = table[table["parameter"].isin(hypotheses)]
    order = list(dict.fromkeys(table["parameter"]))
    wide = table.pivot(index="n", columns="parameter", values="power")[order]
    cols = ["n", "parameter", "truth", "power", "mcse", "bias", "coverage", "convergence"]
    if "n_analytic" in table.columns:
        cols.append("n_analytic")
    return wide, table[cols]


def to_markdown(result: Any, design: dict[str, Any], hypotheses: list[str] | None = None,
                figure: str | None = None) -> str:
    """Markdown report: design lines, N required, power table, details, warnings."""
    wide, details = power_tables(result, hypotheses)
    lines = ["# Power and sample size", ""]
    lines += [f"- {k}: {v}" for k, v in design.items()]
    lines += [f"- replications per N: {result.replications}; seed {result.seed}; alpha {result.alpha:g}; "
              f"target power {result.target:.2f}", ""]
    req = result.n_required or result.grid_n_required()
    names = hypotheses or list(req)
    lines += ["## N required", "", "| hypothesis | N for power >= target |", "|---|---:|"]
    lines += [f"| {k} | {req.get(k) if req.get(k) is not None else 'not within the grid'} |" for k in names]
    lines += ["", "## Power by N", "", "| N | " + " | ".join(wide.columns) + " |",
              "|---:|" + "---:|" * len(wide.columns)]
    for n, row in wide.iterrows():
        lines.append(f"| {n} | " + " | ".join(_fmt(v) for v in row) + " |")
    lines += ["", "## Details", "", "| " + " | ".join(details.columns) + " |",
              "|" + "---|" * len(details.columns)]
    for _, row in details.iterrows():
        lines.append("| " + " | ".join(_fmt(v) if not isinstance(v, str) else v for v in row) + " |")
    lines += ["", "Power: share of converged replications whose two-sided Wald test rejects at alpha "
              "(differences: in the population direction); MCSE = sqrt(p(1-p)/R); coverage of the Wald "
              "intervals; convergence = share of replications that converged."]
    if figure:
        lines += ["", f"![power curve]({figure})"]
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w.message}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def to_html(result: Any, design: dict[str, Any], hypotheses: list[str] | None = None,
            figure: str | None = None) -> str:
    """HTML report: the Markdown report's content as HTML tables."""
    wide, details = power_tables(result, hypotheses)
    req = result.n_required or result.grid_n_required()
    items = "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in design.items())
    req_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{'' if v is None else v}</td></tr>"
                       for k, v in req.items() if not hypotheses or k in hypotheses)
    warn = "".join(f"<li>{html.escape(w.message)}</li>" for w in result.warnings)
    img = f'<img src="{html.escape(figure)}" alt="power curve">' if figure else ""
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Power and sample size</title></head>"
            f"<body><h1>Power and sample size</h1><ul>{items}<li>replications per N: {result.replications}, "
            f"seed {result.seed}, alpha {result.alpha:g}, target {result.target:.2f}</li></ul>"
            f"<h2>N required</h2><table><tr><th>hypothesis</th><th>N</th></tr>{req_rows}</table>"
            f"<h2>Power by N</h2>{wide.to_html(float_format=lambda v: f'{v:.3f}')}"
            f"<h2>Details</h2>{details.to_html(index=False, float_format=lambda v: f'{v:.3f}', na_rep='')}"
            f"{img}{'<h2>Warnings</h2><ul>' + warn + '</ul>' if warn else ''}</body></html>\n")
