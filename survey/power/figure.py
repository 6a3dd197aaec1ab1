"""The power-curve figure: Monte Carlo power against N per hypothesis, with the target and N required.

Drawn on a ``matplotlib.figure.Figure`` (no pyplot state) and written as PNG and SVG with stable bytes
(fixed rcParams, no date or software metadata), as the report stage draws its figures.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

RC = {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 9,
      "svg.hashsalt": "survey-power", "svg.fonttype": "path", "figure.dpi": 100, "savefig.dpi": 150}


def power_curve(table: pd.DataFrame, hypotheses: Sequence[str] | None = None, target: float = 0.80,
                n_required: dict[str, int | None] | None = None, title: str = "",
                xlabel: str = "N (sample size)") -> Figure:
    """Power (with +-1.96 Monte Carlo SE bars) against N, one line per hypothesis."""
    names = list(hypotheses) if hypotheses else list(
        dict.fromkeys(table.loc[table["kind"] != "parameter", "parameter"])) or list(
        dict.fromkeys(table["parameter"]))[:8]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
        for name in names:
            sub = table[table["parameter"] == name].sort_values("n")
            if not len(sub):
                continue
            line = ax.errorbar(sub["n"], sub["power"], yerr=1.96 * sub["mcse"].fillna(0), marker="o",
                               markersize=3, capsize=2, linewidth=1.2, label=name)
            nr = (n_required or {}).get(name)
            if nr:
                ax.axvline(nr, color=line.lines[0].get_color(), linestyle=":", linewidth=0.9)
        ax.axhline(target, color="0.4", linestyle="--", linewidth=0.9)
        ax.text(ax.get_xlim()[0], target + 0.01, f" target {target:.2f}", color="0.3", fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("power")
        ax.set_yticks(np.linspace(0, 1, 6))
        if title:
            ax.set_title(title)
        ax.grid(True, linewidth=0.3, alpha=0.5)
        ax.legend(fontsize=7, loc="lower right", frameon=False)
    return fig


def write_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``; returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    with matplotlib.rc_context(RC):
        for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=meta, bbox_inches="tight", pad_inches=0.08)
            path = stem.with_suffix(f".{fmt}")
            path.write_bytes(buf.getvalue())
            out.append(path)
    return out
