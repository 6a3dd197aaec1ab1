"""The bootstrap's result object (``result.bootstrap``) and how its standard errors and intervals enter an
``estimates()`` table (lavaan ``se="bootstrap"``). Produced by :mod:`survey.sem.bootstrap`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError, SurveyWarning


@dataclass
class BootstrapResult:
    """Bootstrap replicates and their summaries (``result.bootstrap``)."""

    replicates: pd.DataFrame  # rows = replicates (NaN rows: not converged), columns = parameter names
    estimates: pd.Series  # full-sample value of every column
    n_requested: int
    n_failed: int
    seed: int | None
    level: float = 0.95
    chisq: np.ndarray | None = None  # Bollen-Stine replicate statistics
    bollen_stine_pvalue: float | None = None
    jackknife: pd.DataFrame | None = None
    rows: dict[str, list[int]] = field(default_factory=dict)  # column -> partable rows (est and std.all)
    warnings: list[SurveyWarning] = field(default_factory=list)
    partable: pd.DataFrame | None = None

    @property
    def ok(self) -> pd.DataFrame:
        return self.replicates.dropna(how="any")

    def se(self, ddof: int = 0) -> pd.Series:
        """Bootstrap standard errors: sd of the B converged replicates with divisor B - ``ddof``; the default
        (divisor B) is lavaan's ``se = "bootstrap"`` (lav_model_nvcov_bootstrap: cov(COEF) (B - 1) / B);
        ``ddof=1`` is R's ``sd()`` of ``bootstrapLavaan``'s replicates."""
        return self.ok.std(ddof=ddof)

    def ci(self, type: str = "perc", level: float | None = None) -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Confidence limits per column: ``perc``, ``bc`` (lavaan's ``bca.simple``) or ``bca`` (jackknife)."""
        level = self.level if level is None else level
        a = 1.0 - level
        reps = self.ok.to_numpy()
        est = self.estimates[self.replicates.columns].to_numpy()
        if type == "perc":
            lo = np.quantile(reps, a / 2, axis=0)
            hi = np.quantile(reps, 1 - a / 2, axis=0)
        elif type in ("bc", "bca"):
            with np.errstate(divide="ignore"):
                z0 = sps.norm.ppf((reps < est).mean(axis=0))
            accel = np.zeros(reps.shape[1])
            if type == "bca":
                if self.jackknife is None:
                    raise SurveyInputError(
                        "BCa intervals need the jackknife (bootstrap(..., ci='bca'))", field="ci"
                    )
                jk = self.jackknife[self.replicates.columns].dropna().to_numpy()
                dev = jk.mean(axis=0) - jk
                num = (dev**3).sum(axis=0)
                den = 6.0 * (dev**2).sum(axis=0) ** 1.5
                accel = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            lims = []
            for zq in (sps.norm.ppf(a / 2), sps.norm.ppf(1 - a / 2)):
                # z0 = +-inf when no (or every) replicate lies below the estimate, e.g. a parameter that is
                # constant across replicates: the limit is then the replicates' max (or min)
                with np.errstate(invalid="ignore"):
                    adj = sps.norm.cdf(z0 + (z0 + zq) / (1 - accel * (z0 + zq)))
                adj = np.where(np.isfinite(adj), adj, np.where(z0 > 0, 1.0, 0.0))
                lims.append(np.array([np.quantile(reps[:, j], adj[j]) for j in range(reps.shape[1])]))
            lo, hi = lims
        else:
            raise SurveyInputError("ci type must be perc, bc or bca", value=type, field="ci")
        return pd.DataFrame({"ci.lower": lo, "ci.upper": hi}, index=self.replicates.columns)

    def paths(
        self, outcome: str, standardized: bool = True, partable: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Replicates of the paths ``outcome ~ x`` (columns = x), std.all by default: the input of
        :func:`survey.sem.ranks.rank_intervals`."""
        partable = partable if partable is not None else self.partable
        out = {}
        for name, row in self.rows.items():
            is_std = name.startswith("std.all:")
            if is_std != standardized or partable is None:
                continue
            r = partable.iloc[row[0]]
            if r["op"] == "~" and r["lhs"] == outcome:
                out[r["rhs"]] = self.replicates[name]
        return pd.DataFrame(out)

    def summary(self) -> str:
        lines = [
            f"Bootstrap: {self.n_requested} replicates requested, "
            f"{self.n_requested - self.n_failed} converged, "
            f"{self.n_failed} failed (seed {self.seed})"
        ]
        if self.bollen_stine_pvalue is not None:
            lines.append(f"Bollen-Stine bootstrap p-value: {self.bollen_stine_pvalue:.4f}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_requested": self.n_requested,
            "n_failed": self.n_failed,
            "seed": self.seed,
            "bollen_stine_pvalue": self.bollen_stine_pvalue,
            "level": self.level,
        }

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.ci().join(self.se().rename("se")).to_html(
            float_format="%.4f"
        )


def apply_bootstrap(estimates: pd.DataFrame, boot: BootstrapResult, ci: str = "perc") -> pd.DataFrame:
    """Put bootstrap SEs, z, p-values and ``ci``-type limits into an ``estimates()`` table (lavaan's layout
    for ``se="bootstrap"``: z = est / se_boot, CI from the replicates)."""
    out = estimates.copy()
    se = boot.se()
    lims = boot.ci(ci)
    names, rows = [], []
    for name, where in boot.rows.items():
        if not name.startswith("std.all:"):
            for row in where:  # rows sharing a label (equality constraints) share the parameter's values
                names.append(name)
                rows.append(row)
    pt_rows = np.array(rows, dtype=int)
    out.loc[pt_rows, "se"] = se[names].to_numpy()
    out.loc[pt_rows, "ci.lower"] = lims.loc[names, "ci.lower"].to_numpy()
    out.loc[pt_rows, "ci.upper"] = lims.loc[names, "ci.upper"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = out.loc[pt_rows, "est"].to_numpy(dtype=float) / out.loc[pt_rows, "se"].to_numpy(dtype=float)
    out.loc[pt_rows, "z"] = z
    out.loc[pt_rows, "pvalue"] = 2 * sps.norm.sf(np.abs(z))
    return out
