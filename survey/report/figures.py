"""The paper's figures, drawn with matplotlib alone and written with stable bytes.

Byte stability: figures are ``matplotlib.figure.Figure`` objects (no pyplot state) rendered by the Agg
and SVG backends under fixed rcParams: DejaVu Sans (shipped with matplotlib), glyphs as paths in SVG,
``svg.hashsalt`` fixed (element ids), no date or creator in SVG metadata (the SVG writer accepts only
Dublin Core keys, so ``Software`` does not apply there), no ``Software`` text chunk in PNG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

from survey.report import apa

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.labelsize": 9,
    "axes.titlesize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "svg.hashsalt": "survey-report",
    "svg.fonttype": "path",
    "svg.image_inline": True,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "path.simplify": True,
    "axes.unicode_minus": True,
    "image.interpolation": "nearest",
}
# one font size within each figure (titles, labels, ticks, annotations): the journal's figure guidelines
# ask for one typeface at one size, bold only for emphasis
FONT_SIZE = 9
PNG_METADATA = {"Software": None}
SVG_METADATA = {"Date": None, "Creator": None}
AGREE7_COLORS = ["#b2182b", "#d6604d", "#f4a582", "#e0e0e0", "#92c5de", "#4393c3", "#2166ac"]


def render(fig: Figure) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of a figure under the fixed rcParams."""
    with matplotlib.rc_context(RC):
        png = io.BytesIO()
        fig.savefig(png, format="png", metadata=PNG_METADATA, bbox_inches="tight", pad_inches=0.08)
        svg = io.BytesIO()
        fig.savefig(svg, format="svg", metadata=SVG_METADATA, bbox_inches="tight", pad_inches=0.08)
    return png.getvalue(), svg.getvalue()


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


# ---------------------------------------------------------------------------------------- path diagram


def path_diagram(sem: Any, drivers: Sequence[str], outcome: str, behaviour: str | None = None) -> Figure:
    """The structural model: drivers (ellipses) -> outcome (ellipse) -> behaviour (box), each arrow
    labelled with its completely standardized estimate (``std.all``) and significance stars, dashed when
    p >= .05; R\u00b2 under the endogenous variables (``r2()``)."""
    est = sem.estimates()
    paths = est[est["op"] == "~"]
    r2 = sem.r2() if hasattr(sem, "r2") else {}
    with matplotlib.rc_context(RC):
        fig = _figure(7.0, 4.6)
        ax = fig.add_subplot()
        ax.set_xlim(0, 10)
        ax.set_ylim(0, len(drivers) + 1)
        ax.axis("off")
        ys = {d: len(drivers) - i for i, d in enumerate(drivers)}
        mid = (len(drivers) + 1) / 2
        for d in drivers:
            ax.add_patch(Ellipse((1.3, ys[d]), 2.0, 0.75, facecolor="#f2f2f2", edgecolor="black", lw=0.8))
            ax.text(1.3, ys[d], d, ha="center", va="center", fontsize=FONT_SIZE)
        ax.add_patch(Ellipse((5.4, mid), 2.0, 0.9, facecolor="#f2f2f2", edgecolor="black", lw=0.8))
        ax.text(5.4, mid, outcome, ha="center", va="center", fontsize=FONT_SIZE, fontweight="bold")
        if behaviour is not None:
            ax.add_patch(FancyBboxPatch((8.1, mid - 0.35), 1.7, 0.7, boxstyle="square,pad=0",
                                        facecolor="white", edgecolor="black", lw=0.8))
            ax.text(8.95, mid, behaviour, ha="center", va="center", fontsize=FONT_SIZE)

        def arrow(start: tuple[float, float], end: tuple[float, float], label: str, pos: float,
                  significant: bool) -> None:
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=0.8,
                                         color="black", shrinkA=0, shrinkB=0,
                                         linestyle="-" if significant else (0, (4, 3))))
            x = start[0] + (end[0] - start[0]) * pos
            y = start[1] + (end[1] - start[1]) * pos
            ax.text(x, y, label, ha="center", va="center", fontsize=FONT_SIZE,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})

        for d in drivers:
            row = paths[(paths["lhs"] == outcome) & (paths["rhs"] == d)]
            if row.empty:
                continue
            label = apa.bounded(row["std.all"].iloc[0]) + apa.stars(row["pvalue"].iloc[0])
            arrow((2.3, ys[d]), (4.4, mid + (ys[d] - mid) * 0.12), label, 0.4, row["pvalue"].iloc[0] < 0.05)
        row = paths[(paths["lhs"] == behaviour) & (paths["rhs"] == outcome)]
        if not row.empty:
            label = apa.bounded(row["std.all"].iloc[0]) + apa.stars(row["pvalue"].iloc[0])
            arrow((6.4, mid), (8.1, mid), label, 0.5, row["pvalue"].iloc[0] < 0.05)
        if outcome in r2:
            ax.text(5.4, mid - 0.75, f"R\u00b2 = {apa.bounded(r2[outcome])}", ha="center", fontsize=FONT_SIZE)
        if behaviour is not None and behaviour in r2:
            ax.text(8.95, mid - 0.65, f"R\u00b2 = {apa.bounded(r2[behaviour])}", ha="center",
                    fontsize=FONT_SIZE)
    return fig


# ---------------------------------------------------------------------------------------- item responses


def response_distribution(data: pd.DataFrame, items: Sequence[str], points: dict[int, str]) -> Figure:
    """Stacked horizontal bars: the percentage of each response option per item (as answered; labelled
    missing codes and blanks excluded)."""
    codes = sorted(points)
    shares = []
    for item in items:
        values = pd.to_numeric(data[item], errors="coerce")
        values = values[values.isin(codes)]
        counts = values.value_counts().reindex(codes, fill_value=0).to_numpy(dtype=float)
        shares.append(100 * counts / counts.sum() if counts.sum() else counts)
    matrix = np.array(shares) if shares else np.zeros((0, len(codes)))
    with matplotlib.rc_context(RC):
        fig = _figure(7.0, 0.8 + 0.2 * len(items))
        ax = fig.add_subplot()
        left = np.zeros(len(items))
        y = np.arange(len(items))[::-1]
        colors = AGREE7_COLORS if len(codes) == 7 else [None] * len(codes)
        for j, code in enumerate(codes):
            ax.barh(y, matrix[:, j], left=left, height=0.75, color=colors[j], edgecolor="white", lw=0.3,
                    label=points[code])
            left += matrix[:, j]
        ax.set_yticks(y, list(items), fontsize=FONT_SIZE)
        ax.set_xlim(0, 100)
        ax.set_xlabel("Percentage of respondents")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.2 / max(len(items), 1)), ncols=4,
                  fontsize=FONT_SIZE, frameon=False)
    return fig


# ---------------------------------------------------------------------------------------- correlations


def correlation_heatmap(matrix: pd.DataFrame, title: str = "") -> Figure:
    """A lower-triangle heatmap of a correlation matrix, each cell annotated without leading zero."""
    names = list(matrix.columns)
    values = matrix.to_numpy(dtype=float)
    mask = np.triu(np.ones_like(values, dtype=bool), k=1)
    shown = np.where(mask, np.nan, values)
    with matplotlib.rc_context(RC):
        fig = _figure(5.2, 4.4)
        ax = fig.add_subplot()
        image = ax.imshow(shown, cmap="RdBu_r", vmin=-1, vmax=1)
        for i in range(len(names)):
            for j in range(i + 1):
                ax.text(j, i, apa.bounded(values[i, j]), ha="center", va="center", fontsize=FONT_SIZE,
                        color="white" if abs(values[i, j]) > 0.6 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.spines[:].set_visible(False)
        if title:
            ax.set_title(title, fontsize=FONT_SIZE)
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


# ---------------------------------------------------------------------------------------- path forest plot


def path_forest(std_paths: pd.DataFrame, outcome: str = "the outcome", ci_label: str = "95% CI") -> Figure:
    """Forest plot of the standardized paths to ``outcome``: one row per driver, ordered by the estimate
    (largest at the top), point estimate with its confidence interval, a dashed line at zero.

    ``std_paths``: index = driver, columns ``est.std ci.lower ci.upper`` (``FittedPathComparison.std_paths``).
    """
    frame = std_paths.sort_values("est.std", ascending=False, kind="stable")
    est = frame["est.std"].to_numpy(dtype=float)
    lo = frame["ci.lower"].to_numpy(dtype=float)
    hi = frame["ci.upper"].to_numpy(dtype=float)
    y = np.arange(len(frame))[::-1]
    # geometry from values rounded to 1e-4 (0.05 pt on the page): the last bits of a bootstrap percentile
    # depend on the BLAS thread count, and they must not move a coordinate of the SVG; the labels use the
    # unrounded values (no double rounding)
    est_xy, lo_xy, hi_xy = (np.round(v, 4) for v in (est, lo, hi))
    with matplotlib.rc_context(RC):
        fig = _figure(5.6, 0.9 + 0.38 * len(frame))
        ax = fig.add_subplot()
        ax.axvline(0.0, color="#808080", lw=0.8, linestyle=(0, (4, 3)))
        ax.hlines(y, lo_xy, hi_xy, color="black", lw=1.1)
        ax.plot(est_xy, y, marker="s", markersize=5, linestyle="none", color="black")
        right = float(np.nanmax(np.r_[hi_xy, 0.0]))
        left = float(np.nanmin(np.r_[lo_xy, 0.0]))
        span = max(right - left, 1e-6)
        for yi, e, a, b in zip(y, est, lo, hi, strict=True):  # beside the axes, right of the plot area
            ax.text(1.03, yi, f"{apa.bounded(e)} {apa.ci(a, b, bounded_values=True)}", va="center", ha="left",
                    fontsize=FONT_SIZE, transform=ax.get_yaxis_transform())
        ax.set_xlim(left - 0.08 * span, right + 0.08 * span)
        ax.set_ylim(-0.7, len(frame) - 0.3)
        ax.set_yticks(y, [str(d) for d in frame.index])
        ax.set_xlabel(f"Standardized path to {outcome} (\u03b2, {ci_label})")
        ax.spines[["top", "right"]].set_visible(False)
    return fig
