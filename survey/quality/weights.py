"""Raking weights: iterative proportional fitting to population margins, as R ``survey::rake``.

* :func:`rake` - each sweep post-stratifies on every margin in turn (Deming & Stephan 1940): the weights of
  the rows in category k of margin m are multiplied by N p_mk / sum(w in k), N the number of rows and p_mk
  the population proportion. Sweeps stop when the weighted totals of the cells of the cross-classification
  of all raking columns change by less than ``epsilon * N`` between two sweeps (``survey::rake``'s rule,
  its ``epsilon < 1`` case), or after ``maxit`` sweeps (a warning, ``converged`` false). Unlike
  ``survey::rake``, sweeps that stop changing while a margin is still missed by more than 1e-6
  (incompatible margins, empty cells) are also reported as not converged. Optional base
  (design) weights start the iteration. The weights are returned on the scale ``mean 1`` (sum N).
* Trimming as ``survey::trimWeights``: weights outside [lower, upper] are set to the bound and the
  amount trimmed is spread equally over the weights that were inside; ``strict`` repeats until none is
  outside. Trimming moves the margins again; the achieved margins and their largest error are reported.
* Kish (1965) design effect of unequal weighting deff = N sum(w^2) / (sum w)^2 = 1 + CV^2 (CV with
  divisor N) and effective sample size N / deff = (sum w)^2 / sum(w^2).

``MARGINS.yaml`` and its checks are in :mod:`survey.quality.margins`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.quality.margins import Margins, category_codes, load_margins, parse_margins

#: Columns taken as the respondent id when the data have one (first found), kept in ``W.csv``.
ID_COLUMNS = ("respondent_id", "ResponseId", "_uuid", "id", "ID")
#: After trimming, a margin further than this from its target is reported in a warning.
MARGIN_WARN = 0.01
#: Raking that stops with a margin further than this from its target has not converged.
REACHED = 1e-6
#: Passes of strict trimming before giving up.
TRIM_PASSES = 1000


def kish_design_effect(weights: pd.Series | np.ndarray) -> float:
    """Kish (1965) design effect of unequal weighting, 1 + CV^2 = N sum(w^2) / (sum w)^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.size * np.dot(w, w) / w.sum() ** 2)


def kish_effective_n(weights: pd.Series | np.ndarray) -> float:
    """Kish (1965) effective sample size (sum w)^2 / sum(w^2) = N / deff."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.dot(w, w))


@dataclass
class RakingResult:
    """Raked weights (``weights``: mean 1, the data's index and row order) and how they were reached."""

    weights: pd.Series
    iterations: int
    converged: bool
    margins: pd.DataFrame
    ids: pd.Series | None = None
    trimmed: int = 0
    trim: dict[str, Any] | None = None
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def design_effect(self) -> float:
        """Kish's design effect of unequal weighting (:func:`kish_design_effect`)."""
        return kish_design_effect(self.weights)

    @property
    def effective_n(self) -> float:
        """Kish's effective sample size (:func:`kish_effective_n`)."""
        return kish_effective_n(self.weights)

    @property
    def max_margin_error(self) -> float:
        """Largest |achieved - target| population proportion over all margin categories."""
        return float((self.margins["achieved"] - self.margins["target"]).abs().max())

    def to_frame(self) -> pd.DataFrame:
        """``W.csv``: the data's rows in order, its id column where it has one, and ``weight``."""
        out = pd.DataFrame({"weight": self.weights.to_numpy()})
        if self.ids is not None:
            out.insert(0, str(self.ids.name), self.ids.to_numpy())
        return out

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as CSV to ``path`` atomically (nothing half-written on failure); an id
        that a spreadsheet would run as a formula is neutralised (:func:`survey.ingest.safe.neutralise`)."""
        from survey.ingest.safe import csv_text
        from survey.instrument.export import write_atomic

        return write_atomic(path, csv_text(self.to_frame(), lineterminator="\n"))

    def to_dict(self) -> dict[str, Any]:
        """The ``survey weights --json`` object (DESIGN.md), plus effective N, margins and warnings."""
        margins: dict[str, dict[str, dict[str, float]]] = {}
        for rec in self.margins.to_dict("records"):
            label = "(missing)" if pd.isna(rec["category"]) else str(rec["category"])
            margins.setdefault(rec["column"], {})[label] = {
                "n": int(rec["n"]), "sample": rec["sample"], "target": rec["target"],
                "achieved": rec["achieved"]}
        return {"weights": [float(w) for w in self.weights], "iterations": self.iterations,
                "converged": self.converged, "design_effect": self.design_effect,
                "effective_n": self.effective_n, "n": self.n, "max_margin_error": self.max_margin_error,
                "trimmed": self.trimmed, "trim": self.trim, "margins": margins,
                "warnings": [w.to_dict() for w in self.warnings]}

    def summary(self) -> str:
        """A few plain lines: convergence, weight range, design effect and effective N."""
        w = self.weights
        state = "converged" if self.converged else "did NOT converge"
        lines = [f"Raking {state} after {self.iterations} sweep(s) over {self.margins['column'].nunique()} "
                 f"margin(s), N = {self.n}",
                 f"weights: min {w.min():.4g}, max {w.max():.4g}, mean {w.mean():.4g}"
                 + (f"; {self.trimmed} trimmed to [{_bound(self.trim['lower'], '-inf')}, "
                    f"{_bound(self.trim['upper'], 'inf')}]" if self.trim else ""),
                 f"Kish design effect {self.design_effect:.4f}, effective N {self.effective_n:.1f}",
                 f"largest margin error {self.max_margin_error:.2g}"]
        lines += [f"warning: {x.message}" for x in self.warnings]
        return "\n".join(lines)


def _bound(value: float | None, none: str) -> str:
    return none if value is None else f"{value:g}"


def _base_weights(data: pd.DataFrame, base: str | np.ndarray | pd.Series | None, file: str | None
                  ) -> np.ndarray:
    if base is None:
        return np.ones(len(data))
    if isinstance(base, str):
        if base not in data.columns:
            raise SurveyInputError("base-weight column not in the data", file=file, column=base)
        values = pd.to_numeric(data[base], errors="coerce").to_numpy(dtype=float)
        column: str | None = base
    else:
        values = np.asarray(base, dtype=float).ravel()
        column = None
        if values.size != len(data):
            raise SurveyInputError(f"{values.size} base weights for {len(data)} rows", file=file)
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
    if bad.size:
        raw = data[base].iloc[bad[0]] if column else values[bad[0]]
        raise SurveyInputError("base weight must be a positive number", file=file, row=int(bad[0]) + 1,
                               column=column, value=None if pd.isna(raw) else raw)
    return values


def _sweep(w: np.ndarray, codes: list[np.ndarray], targets: list[np.ndarray]) -> np.ndarray:
    """One raking sweep: post-stratify on each margin in turn (survey::postStratify)."""
    for code, target in zip(codes, targets, strict=True):
        totals = np.bincount(code, weights=w, minlength=target.size)
        w = w * (target / totals)[code]
    return w


def trim_weights(weights: np.ndarray, lower: float = -math.inf, upper: float = math.inf,
                 strict: bool = False) -> np.ndarray:
    """``survey::trimWeights``: clip to [lower, upper] and spread the trimmed amount equally over the
    weights that were inside; with ``strict``, repeat until no weight is outside."""
    w = np.asarray(weights, dtype=float)
    for _ in range(TRIM_PASSES):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w
        if outside.all():
            raise SurveyInputError(f"every weight is outside the trimming bounds [{lower}, {upper}]")
        new = np.clip(w, lower, upper)
        new[~outside] += (w - new).sum() / np.count_nonzero(~outside)
        w = new
        if not strict:
            return w
    raise SurveyInputError(f"strict trimming to [{lower}, {upper}] did not settle in {TRIM_PASSES} passes")


def _id_column(data: pd.DataFrame, id_column: str | None, file: str | None) -> pd.Series | None:
    if id_column is not None:
        if id_column not in data.columns:
            raise SurveyInputError("id column not in the data", file=file, column=id_column)
        return data[id_column].reset_index(drop=True)
    for name in ID_COLUMNS:
        if name in data.columns:
            return data[name].reset_index(drop=True)
    return None


def rake(data: pd.DataFrame, margins: Margins | dict[str, Any] | str | Path, *,
         base_weights: str | np.ndarray | pd.Series | None = None, maxit: int = 100,
         epsilon: float = 1e-10, trim_lower: float | None = None, trim_upper: float | None = None,
         strict_trim: bool = False, id_column: str | None = None, file: str | None = None) -> RakingResult:
    """Raking weights of ``data``'s rows to population ``margins`` (a ``MARGINS.yaml`` path or mapping).

    Equal to R ``survey::rake(svydesign(ids = ~1, weights = base), margins, totals N p)`` rescaled to
    mean 1, optionally trimmed as ``survey::trimWeights(upper, lower, strict)`` on that scale.
    ``file`` names the data in error messages.
    """
    margins_file = None
    if isinstance(margins, str | Path):
        margins_file = str(margins)
        margins = load_margins(margins)
    else:
        margins = parse_margins(margins)
    if not isinstance(maxit, int) or maxit < 1:
        raise SurveyInputError("maxit must be a positive integer", field="maxit", value=maxit)
    if not 0 < epsilon < 1:
        raise SurveyInputError("epsilon must be in (0, 1)", field="epsilon", value=epsilon)
    if len(data) == 0:
        raise SurveyInputError("no data rows to weight", file=file)
    lower = -math.inf if trim_lower is None else float(trim_lower)
    upper = math.inf if trim_upper is None else float(trim_upper)
    if not lower < upper or not lower <= 1 <= upper:
        raise SurveyInputError(f"trimming bounds must satisfy lower < upper and contain the mean weight 1, "
                               f"got [{_bound(trim_lower, '-inf')}, {_bound(trim_upper, 'inf')}]",
                               field="trim")
    codes_by_column = category_codes(data, margins, file=file, margins_file=margins_file)
    n = len(data)
    codes = list(codes_by_column.values())
    targets = [n * np.array(list(m.values())) for m in margins.values()]
    cells = np.unique(np.column_stack(codes), axis=0, return_inverse=True)[1].ravel()
    w = _base_weights(data, base_weights, file)
    old = np.bincount(cells, weights=w)
    converged, iterations = False, 0
    while iterations < maxit:
        w = _sweep(w, codes, targets)
        iterations += 1
        new = np.bincount(cells, weights=w)
        if np.max(np.abs(new - old)) < epsilon * n:
            converged = True
            break
        old = new
    w = w * (n / w.sum())
    warnings: list[SurveyWarning] = []
    reached = _achieved(margins, codes_by_column, w)
    error = float((reached["achieved"] - reached["target"]).abs().max())
    if not converged:
        warnings.append(SurveyWarning("raking_not_converged", f"raking did not converge after {maxit} "
                                      f"sweeps (largest margin error {error:.2g}): the margins may be "
                                      "incompatible with the sample (empty cells)", "quality"))
    elif error > REACHED:
        converged = False  # stable but off target: survey::rake calls this converged; it is not
        warnings.append(SurveyWarning("raking_not_converged", f"raking is stable after {iterations} "
                                      f"sweeps but misses a margin by {error:.2g}: the margins are "
                                      "incompatible with the sample (empty cells)", "quality"))
    trimmed, trim = 0, None
    if trim_lower is not None or trim_upper is not None:
        trimmed = int(np.count_nonzero((w < lower) | (w > upper)))
        w = trim_weights(w, lower, upper, strict_trim)
        trim = {"lower": trim_lower, "upper": trim_upper, "strict": strict_trim}
    result = RakingResult(pd.Series(w, index=data.index, name="weight"), iterations, converged,
                          _achieved(margins, codes_by_column, w), _id_column(data, id_column, file),
                          trimmed, trim, warnings)
    if trim is not None and result.max_margin_error > MARGIN_WARN:
        warnings.append(SurveyWarning("trimmed_margins", f"after trimming, a margin is "
                                      f"{result.max_margin_error:.3f} from its target", "quality"))
    return result


def _achieved(margins: Margins, codes: dict[str, np.ndarray], w: np.ndarray) -> pd.DataFrame:
    rows = []
    total = w.sum()
    for column, margin in margins.items():
        counts = np.bincount(codes[column], minlength=len(margin))
        sums = np.bincount(codes[column], weights=w, minlength=len(margin))
        for k, (category, target) in enumerate(margin.items()):
            rows.append({"column": column, "category": category, "n": int(counts[k]),
                         "sample": counts[k] / w.size, "target": target, "achieved": sums[k] / total})
    return pd.DataFrame(rows, columns=["column", "category", "n", "sample", "target", "achieved"])


def read_data(path: str | Path) -> pd.DataFrame:
    """DATA as ``survey.ingest.read_raw`` reads it, SPSS user-missing codes set to missing."""
    from survey.ingest.readers import read_raw

    raw = read_raw(path)
    frame = raw.frame.copy()
    for column, missing in raw.user_missing.items():
        if column in frame.columns and missing:
            frame[column] = frame[column].mask(frame[column].isin(list(missing)))
    return frame


def rake_file(data: str | Path, margins: str | Path, **options: Any) -> RakingResult:
    """:func:`rake` on a data file (any format ingest reads) and a ``MARGINS.yaml`` file."""
    frame = read_data(data)
    return rake(frame, margins, file=Path(data).name, **options)
