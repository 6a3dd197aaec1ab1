"""How sure are we about the ranking of the drivers? Rank distributions and supported orderings.

* :func:`rank_intervals` -- from bootstrap (or posterior) replicates of the standardized paths: each
  driver's rank distribution, a percentile interval of its rank and P(strongest).
* :func:`supported_orderings` -- the pairwise orderings that Holm-adjusted tests support (significant
  differences only), for the results text.
* :func:`strongest_candidates` -- drivers not significantly weaker than any other.

References
----------
Goldstein, H., & Spiegelhalter, D. J. (1996). League tables and their limitations: statistical issues
in comparisons of institutional performance. *Journal of the Royal Statistical Society A, 159*,
385-443 (bootstrap/posterior rank intervals).
Hall, P., & Miller, H. (2009). Using the bootstrap to quantify the authority of an empirical ranking.
*Annals of Statistics, 37*, 3929-3959.
Klein, M., Wright, T., & Wieczorek, J. (2020). A joint confidence region for an overall ranking of
populations. *Journal of the Royal Statistical Society C, 69*, 589-606 (joint intervals; not the
method used here).
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of
Statistics, 6*, 65-70.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

__all__ = [
    "monte_carlo_replicates",
    "rank_intervals",
    "rank_replicates",
    "strongest_candidates",
    "supported_orderings",
]


def monte_carlo_replicates(
    est: pd.Series,
    vcov: pd.DataFrame,
    labels: Sequence[str] | None = None,
    n: int = 10000,
    seed: int | None = None,
) -> pd.DataFrame:
    """Replicates drawn from the estimates' asymptotic normal distribution, ``theta* ~ N(theta, V)``.

    A cheap stand-in for bootstrap replicates when only estimates and their covariance are at hand
    (the Monte Carlo method of MacKinnon, Lockwood & Williams 2004, Multivariate Behavioral Research
    39, 99-128; Preacher & Selig 2012). Draws use ``numpy.random.default_rng(seed)`` and the factor
    ``Q Lambda^{1/2}`` of the eigen-decomposition ``V = Q Lambda Q'`` (round-off negative eigenvalues
    set to 0), so the same seed gives the same draws. Columns: ``labels`` (default: every name in ``est``).
    """
    if n < 2:
        raise SurveyInputError("need at least two replicates", value=n, field="n")
    labels = list(est.index if labels is None else labels)
    missing = [
        lab for lab in labels if lab not in est.index or lab not in vcov.index or lab not in vcov.columns
    ]
    if missing:
        raise SurveyInputError(
            "parameter not found in the estimates or vcov", value=missing[0], field="labels"
        )
    mean = est.loc[labels].to_numpy(dtype=float)
    v = vcov.loc[labels, labels].to_numpy(dtype=float)
    v = (v + v.T) / 2.0
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(v))):
        raise SurveyInputError("estimates or vcov are not finite", field="vcov")
    evals, evecs = np.linalg.eigh(v)
    if evals[0] < -1e-8 * max(1.0, float(evals[-1])):
        raise SurveyInputError("vcov is not positive semi-definite", value=float(evals[0]), field="vcov")
    root = evecs * np.sqrt(np.clip(evals, 0.0, None))
    z = np.random.default_rng(seed).standard_normal((n, len(labels)))
    return pd.DataFrame(mean + z @ root.T, columns=labels)


def rank_replicates(replicates: pd.DataFrame, *, absolute: bool = False) -> pd.DataFrame:
    """Rank the drivers within each replicate: 1 = largest value (ties share the smallest rank).

    With ``absolute`` the ranking is by ``|value|`` (strength regardless of sign).
    """
    values = replicates.abs() if absolute else replicates
    return values.rank(axis=1, ascending=False, method="min").astype(int)


def rank_intervals(
    replicates: pd.DataFrame,
    level: float = 0.95,
    *,
    absolute: bool = False,
    estimates: pd.Series | None = None,
    adjust: Literal["none", "bonferroni"] = "none",
) -> pd.DataFrame:
    """Rank distribution, rank interval and P(strongest) of each driver from replicate estimates.

    ``replicates``: rows = bootstrap replicates, columns = drivers, values = standardized paths.
    Within each replicate b the drivers are ranked, ``rank_bj`` (1 = largest). For driver j:

    * ``p.rank{r}`` = ``#{b: rank_bj = r} / B``, the bootstrap distribution of its rank;
    * ``p.strongest`` = ``p.rank1``;
    * ``mean.rank``, ``median.rank``;
    * ``rank.lower``, ``rank.upper``: the percentile interval of the rank distribution,
      ``[F_j^{-1}(a/2), F_j^{-1}(1 - a/2)]`` with a = 1 - ``level`` and ``F_j^{-1}`` the empirical
      quantile function of the ranks (inverted CDF, so the limits are integer ranks). These are
      *marginal* intervals (Goldstein & Spiegelhalter 1996; Hall & Miller 2009), each covering the
      driver's rank with probability ``level``; they are **not** the Klein, Wright & Wieczorek (2020)
      joint intervals. ``adjust="bonferroni"`` uses a / k per driver so that the k intervals hold
      jointly with probability >= ``level`` (Bonferroni).

    Replicates with missing values (failed bootstrap fits) are dropped; their number is in
    ``attrs["n_dropped"]``. With ``estimates`` (point estimates per driver) a column ``rank`` holds the
    rank of the estimate itself.
    """
    if not isinstance(replicates, pd.DataFrame) or replicates.shape[1] < 2:
        raise SurveyInputError(
            "replicates must be a DataFrame with one column per driver (at least two)", field="replicates"
        )
    if not 0 < level < 1:
        raise SurveyInputError("level must be between 0 and 1", value=level, field="level")
    if adjust not in ("none", "bonferroni"):
        raise SurveyInputError("adjust must be 'none' or 'bonferroni'", value=adjust, field="adjust")
    vals = replicates.astype(float)
    ok = np.isfinite(vals.to_numpy()).all(axis=1)
    vals = vals.loc[ok]
    if len(vals) < 2:
        raise SurveyInputError("fewer than two complete replicates", value=int(len(vals)), field="replicates")
    k = vals.shape[1]
    ranks = rank_replicates(vals, absolute=absolute)
    alpha = 1.0 - level
    if adjust == "bonferroni":
        alpha /= k
    rk = ranks.to_numpy()
    out = pd.DataFrame(index=pd.Index(vals.columns, name="driver"))
    if estimates is not None:
        est = pd.Series(estimates, dtype=float).reindex(vals.columns)
        if est.isna().any():
            raise SurveyInputError(
                "estimates lack a driver", value=str(est.index[est.isna()][0]), field="estimates"
            )
        out["rank"] = rank_replicates(est.to_frame().T, absolute=absolute).iloc[0].to_numpy()
    out["mean.rank"] = rk.mean(axis=0)
    out["median.rank"] = np.median(rk, axis=0)
    out["rank.lower"] = np.quantile(rk, alpha / 2.0, axis=0, method="inverted_cdf").astype(int)
    out["rank.upper"] = np.quantile(rk, 1.0 - alpha / 2.0, axis=0, method="inverted_cdf").astype(int)
    for r in range(1, k + 1):
        out[f"p.rank{r}"] = (rk == r).mean(axis=0)
    out["p.strongest"] = out["p.rank1"]
    out.attrs["n_replicates"] = int(len(vals))
    out.attrs["n_dropped"] = int((~ok).sum())
    out.attrs["level"] = level
    out.attrs["adjust"] = adjust
    return out


def supported_orderings(
    pairwise: pd.DataFrame, alpha: float = 0.05, *, column: str = "pvalue.holm", absolute: bool = False
) -> pd.DataFrame:
    """Orderings of two drivers that the (Holm-adjusted) pairwise tests support.

    ``pairwise`` is the table of :func:`survey.sem.compare.pairwise_path_differences` (columns ``a b
    diff pvalue.holm``). A pair is kept when its adjusted p value is below ``alpha``; ``stronger`` is
    ``a`` when ``diff = a - b > 0`` and ``b`` otherwise. With ``absolute`` the ``diff`` column must hold
    differences of absolute values (the caller's choice); only the sign is read. Returns columns
    ``stronger weaker diff pvalue.holm statement`` sorted by adjusted p value; an empty table means
    no ordering is supported.
    """
    need = {"a", "b", "diff", column}
    if not need.issubset(pairwise.columns):
        raise SurveyInputError(f"pairwise table needs columns {sorted(need)}", field="pairwise")
    if not 0 < alpha < 1:
        raise SurveyInputError("alpha must be between 0 and 1", value=alpha, field="alpha")
    sig = pairwise[pairwise[column] < alpha]
    stronger = np.where(sig["diff"] > 0, sig["a"], sig["b"])
    weaker = np.where(sig["diff"] > 0, sig["b"], sig["a"])
    out = pd.DataFrame(
        {
            "stronger": stronger,
            "weaker": weaker,
            "diff": sig["diff"].abs().to_numpy(),
            column: sig[column].to_numpy(),
        }
    )
    out["statement"] = [f"{s} > {w}" for s, w in zip(out["stronger"], out["weaker"], strict=True)]
    order = np.lexsort((out["stronger"].to_numpy(dtype=str), -out["diff"].to_numpy(), out[column].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    out.attrs["alpha"] = alpha
    out.attrs["absolute"] = absolute
    return out


def strongest_candidates(
    pairwise: pd.DataFrame,
    alpha: float = 0.05,
    *,
    column: str = "pvalue.holm",
    drivers: Sequence[str] | None = None,
) -> list[str]:
    """Drivers that no other driver significantly exceeds: the set the strongest may belong to.

    A single name means the data support one strongest driver; several mean the tests cannot tell
    those apart. Order: as in ``drivers`` (default: order of first appearance in ``pairwise``).
    """
    if drivers is None:
        drivers = list(dict.fromkeys([*pairwise["a"], *pairwise["b"]]))
    beaten = set(supported_orderings(pairwise, alpha, column=column)["weaker"])
    return [d for d in drivers if d not in beaten]
