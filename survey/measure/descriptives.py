"""Item and scale descriptives, Mardia's multivariate normality tests, scale correlations.

* :func:`skewness`, :func:`kurtosis` - psych's default ``type = 3`` (Joanes & Gill 1998, b1 and b2):
  g = sum((x - m)^3) / (n s^3) and sum((x - m)^4) / (n s^4) - 3, with s the n - 1 standard deviation;
  missing values dropped per variable (``na.rm = TRUE``).
* :func:`describe` - ``psych::describe``: n, mean, sd, median, min, max, skew, kurtosis, se = sd/sqrt(n).
* :func:`mardia` - Mardia (1970) as ``psych::mardia`` on complete cases: with S the n - 1 covariance
  matrix and D = X_c S^-1 X_c', b1p = sum(D^3)/n^2, b2p = sum(diag(D)^2)/n; skew = n b1p / 6 ~ chi^2 with
  p(p+1)(p+2)/6 df, the small-sample skew multiplied by k = (p+1)(n+1)(n+3) / (n((n+1)(p+1) - 6)),
  kurtosis z = (b2p - p(p+2)) sqrt(n / (8 p (p+2))) ~ N(0, 1).
* :func:`scale_correlations` - Pearson correlations among scale scores on pairwise-complete rows, the
  t-test p value (n - 2 df) and the Fisher-z confidence interval tanh(atanh r +- z / sqrt(n - 3)),
  as R's ``cor.test``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey import distributions as stats
from survey.errors import SurveyInputError


def _clean(x: pd.Series | np.ndarray) -> np.ndarray:
    values = pd.to_numeric(pd.Series(np.asarray(x).ravel()), errors="coerce").to_numpy(dtype=float)
    return values[~np.isnan(values)]


def skewness(x: pd.Series | np.ndarray) -> float:
    """Skewness, psych type 3: sum((x - m)^3) / (n sd^3), sd with n - 1."""
    v = _clean(x)
    if v.size < 3:
        return float("nan")
    d = v - v.mean()
    return float(np.sum(d**3) / (v.size * v.std(ddof=1) ** 3))


def kurtosis(x: pd.Series | np.ndarray) -> float:
    """Excess kurtosis, psych type 3: sum((x - m)^4) / (n sd^4) - 3, sd with n - 1."""
    v = _clean(x)
    if v.size < 4:
        return float("nan")
    d = v - v.mean()
    return float(np.sum(d**4) / (v.size * v.std(ddof=1) ** 4) - 3.0)


def describe(data: pd.DataFrame) -> pd.DataFrame:
    """One row per column: n mean sd median min max skew kurtosis se (psych::describe, type 3)."""
    rows = {}
    for c in data.columns:
        v = _clean(data[c])
        n = v.size
        sd = float(v.std(ddof=1)) if n > 1 else float("nan")
        rows[c] = {
            "n": n,
            "mean": float(v.mean()) if n else float("nan"),
            "sd": sd,
            "median": float(np.median(v)) if n else float("nan"),
            "min": float(v.min()) if n else float("nan"),
            "max": float(v.max()) if n else float("nan"),
            "skew": skewness(v),
            "kurtosis": kurtosis(v),
            "se": sd / np.sqrt(n) if n else float("nan"),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["n"] = out["n"].astype(int)
    return out


@dataclass
class MardiaResult:
    """Mardia's multivariate skewness and kurtosis with their tests."""

    values: pd.Series

    def to_frame(self) -> pd.DataFrame:
        return self.values.to_frame("value")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.values.items()}

    def summary(self) -> str:
        v = self.values
        return (
            f"Mardia (n = {int(v['n'])}, p = {int(v['p'])}): b1p = {v['b1p']:.3f}, skew = {v['skew']:.2f} "
            f"(p = {v['p.skew']:.4g}); b2p = {v['b2p']:.3f}, kurtosis z = {v['kurtosis']:.2f} "
            f"(p = {v['p.kurt']:.4g})"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>"


def mardia(data: pd.DataFrame) -> MardiaResult:
    """Mardia's tests on the complete cases of ``data`` (psych::mardia, na.rm = TRUE)."""
    x = data.apply(pd.to_numeric, errors="coerce").astype(float).dropna().to_numpy()
    n, p = x.shape
    if n <= p:
        raise SurveyInputError(f"Mardia's test needs more complete cases than variables (n = {n}, p = {p})")
    xc = x - x.mean(axis=0)
    s = xc.T @ xc / (n - 1)
    d = xc @ np.linalg.solve(s, xc.T)
    b1p = float(np.sum(d**3) / n**2)
    b2p = float(np.sum(np.diag(d) ** 2) / n)
    df = p * (p + 1) * (p + 2) / 6
    k = (p + 1) * (n + 1) * (n + 3) / (n * ((n + 1) * (p + 1) - 6))
    skew = n * b1p / 6
    small = n * k * b1p / 6
    kurt = (b2p - p * (p + 2)) * np.sqrt(n / (8 * p * (p + 2)))
    values = pd.Series(
        {
            "n": float(n),
            "p": float(p),
            "b1p": b1p,
            "b2p": b2p,
            "skew": skew,
            "small.skew": small,
            "p.skew": float(stats.chi2.sf(skew, df)),
            "p.small": float(stats.chi2.sf(small, df)),
            "kurtosis": float(kurt),
            "p.kurt": float(2 * stats.norm.sf(abs(kurt))),
        }
    )
    return MardiaResult(values)


def scale_correlations(scores: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Pairwise correlations among scale scores with n, t-test p value and Fisher-z CI (cor.test)."""
    x = scores.apply(pd.to_numeric, errors="coerce").astype(float)
    cols = list(x.columns)
    z = stats.norm.ppf(0.5 + level / 2)
    rows = []
    for a, u in enumerate(cols):
        for v in cols[a + 1 :]:
            pair = x[[u, v]].dropna()
            n = len(pair)
            if n < 4:
                raise SurveyInputError("fewer than 4 complete pairs for a correlation", column=f"{u}, {v}")
            r = float(np.corrcoef(pair[u], pair[v])[0, 1])
            t = r * np.sqrt((n - 2) / (1 - r**2))
            fz, se = np.arctanh(r), 1 / np.sqrt(n - 3)
            rows.append(
                {
                    "var1": u,
                    "var2": v,
                    "n": n,
                    "r": r,
                    "pvalue": float(2 * stats.t.sf(abs(t), n - 2)),
                    "ci.lower": float(np.tanh(fz - z * se)),
                    "ci.upper": float(np.tanh(fz + z * se)),
                }
            )
    return pd.DataFrame(rows)


def correlation_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Square matrix of pairwise correlations among scale scores (for tables)."""
    return scores.apply(pd.to_numeric, errors="coerce").astype(float).corr()
