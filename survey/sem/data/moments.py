"""Data for estimation: listwise deletion and sample moments (lavaan's ``lavData`` + ``lavSampleStats``).

Sample covariance with divisor N (the ML estimate, as lavaan), means, and N per group. The result is
a list with one :class:`GroupStats` per group, so multi-group and casewise (FIML) estimators can be
added on the same structure; ``raw`` keeps the complete cases for casewise likelihoods.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from survey.errors import EstimationError, SurveyInputError


@dataclass
class GroupStats:
    """Sample statistics of one group: ``n``, ``cov`` (divisor N), ``mean``, and the complete cases."""

    label: str
    n: int
    cov: np.ndarray
    mean: np.ndarray
    raw: np.ndarray

    @cached_property
    def logdet(self) -> float:
        """log|S|, NaN when S is not positive definite."""
        sign, value = np.linalg.slogdet(self.cov)
        return float(value) if sign > 0 else float("nan")


@dataclass
class SampleStats:
    """Per-group sample statistics over the observed variables ``names`` (model order)."""

    names: list[str]
    groups: list[GroupStats]
    n_raw: int

    @property
    def ntotal(self) -> int:
        return int(round(sum(g.n for g in self.groups)))  # weighted blocks: N_g = sum of the weights


def numeric_columns(data: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The model's observed columns as floats; unknown columns or non-numeric values are input errors."""
    if not isinstance(data, pd.DataFrame):
        raise SurveyInputError("data must be a pandas DataFrame", value=type(data).__name__)
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise SurveyInputError(
            f"observed variable(s) of the model not found in the data: {', '.join(missing)}",
            column=missing[0],
        )
    out = {}
    for name in names:
        col = data[name]
        if pd.api.types.is_bool_dtype(col):
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            converted = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & converted.isna()
            if bad.any():
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                raise SurveyInputError(
                    "value is not a number", row=pos + 1, column=name, value=str(col.iloc[pos])
                )
            col = converted
        out[name] = col.astype(float)
    return pd.DataFrame(out, index=data.index)


def check_cases(x: np.ndarray, names: list[str], *, label: str = "", what: str = "complete cases") -> None:
    """Degenerate data as one-line errors before any matrix is inverted.

    ``x`` holds the cases used (rows; NaN = missing, FIML). No cases -> SurveyInputError; N <= p ->
    EstimationError (the sample covariance matrix of p variables has rank <= N - 1, so log|S| and the ML
    discrepancy are undefined); a variable with a single observed value -> SurveyInputError naming it
    (variance 0: no model for it has a positive definite Sigma).
    """
    where = f" in group {label!r}" if label else ""
    n, p = x.shape
    if n == 0:
        raise SurveyInputError(f"no {what} left{where} after removing missing values", field="data")
    if n <= p:
        raise EstimationError(
            f"N = {n} {what}{where} for {p} observed variables: ML estimation needs more cases than "
            "variables (the sample covariance matrix is singular)"
        )
    for j, name in enumerate(names):
        seen = x[:, j][~np.isnan(x[:, j])]
        if seen.size and np.ptp(seen) == 0:
            raise SurveyInputError(
                f"constant variable{where}: all {what} have the same value, so it has no variance to model",
                column=name, value=float(seen[0]),
            )


def sample_stats(
    data: pd.DataFrame, names: list[str], *, missing: str = "listwise", label: str = ""
) -> SampleStats:
    """Listwise deletion (lavaan's default ``missing="listwise"``) and moments with divisor N.

    S = (1/N) sum_i (x_i - xbar)(x_i - xbar)'  (Bollen 1989, ch. 4; lavaan ``lav_samplestats``).
    """
    if missing != "listwise":
        raise SurveyInputError(f"missing={missing!r} is not available yet (only 'listwise')", field="missing")
    frame = numeric_columns(data, names)
    values = frame.to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values)] = np.nan
    keep = ~np.isnan(values).any(axis=1)
    x = values[keep]
    n = x.shape[0]
    if n < 2:
        where = f" in group {label!r}" if label else ""
        raise SurveyInputError(f"only {n} complete case(s) left{where} after listwise deletion", field="data")
    check_cases(x, list(names), label=label)
    mean = x.mean(axis=0)
    centered = x - mean
    cov = centered.T @ centered / n
    return SampleStats(
        names=list(names), groups=[GroupStats("", n, cov, mean, x)], n_raw=int(values.shape[0])
    )
