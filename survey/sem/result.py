"""``SEMResult``: estimates, fit measures, R-square, modification indices and reports of one fit.

Column and measure names are lavaan's (``parameterEstimates(standardized=TRUE)``, ``fitMeasures()``,
``inspect(fit, "r2")``, ``modindices()``, ``vcov()``); ``summary()`` is laid out like lavaan's.
"""

from __future__ import annotations

import html
import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from survey.errors import SurveyWarning
from survey.sem.data import SampleStats
from survey.sem.defined import DefinedFunction, evaluate_defined
from survey.sem.diagnostics import check_implied, check_std_loadings, check_variances
from survey.sem.estimate import Estimation
from survey.sem.fitmeasures import fit_measures as compute_fit_measures
from survey.sem.model import RAMModel
from survey.sem.standardize import numerical_jacobian, standardize, standardized_solution
from survey.sem.test import chisq_test, n_moments
from survey.sem.vcov import Information

ESTIMATE_COLUMNS = [
    "lhs",
    "op",
    "rhs",
    "label",
    "est",
    "se",
    "z",
    "pvalue",
    "ci.lower",
    "ci.upper",
    "std.lv",
    "std.all",
]


def _clean(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


class SEMResult:
    """Result of :func:`survey.sem.fit` (plain object holding pandas DataFrames)."""

    def __init__(
        self,
        *,
        model: str,
        partable: pd.DataFrame,
        ram: RAMModel,
        stats: SampleStats,
        estimation: Estimation,
        information: Information | None,
        warnings: list[SurveyWarning],
        estimator: str = "ML",
        start: np.ndarray | None = None,
        level: float = 0.95,
    ) -> None:
        self.model = model
        self.ram = ram
        self.stats = stats
        self.group_stats = stats.groups[0]
        self.estimation = estimation
        self.information = information
        self.estimator = estimator
        self.level = level
        self.start = start
        self.theta = np.asarray(estimation.theta, dtype=float)
        self.converged = bool(estimation.converged)
        self.nobs = int(stats.ntotal)
        self.partable = self._fill_partable(partable.copy())
        self.warnings: list[SurveyWarning] = list(warnings)
        imp = ram.implied(self.theta)
        self.warnings += check_implied(imp.sigma, imp.sigma_all, ram.p, ram.lv)
        self.warnings += check_variances(self.partable)
        self.warnings += check_std_loadings(self.partable, self._std_all_values)

    # ------------------------------------------------------------------ core tables
    @property
    def _vcov_free(self) -> np.ndarray:
        q = self.ram.npar
        if self.information is None:
            return np.full((q, q), np.nan)
        return self.information.vcov

    def _fill_partable(self, pt: pd.DataFrame) -> pd.DataFrame:
        values = self.ram.parameter_values(self.theta)
        defined = (pt["op"] == ":=").to_numpy()
        if defined.any():
            values[defined] = evaluate_defined(pt, values)
        vc = self._vcov_free
        se = np.zeros(len(pt))
        free = pt["free"].to_numpy()
        se[free > 0] = np.sqrt(np.clip(np.diag(vc)[free[free > 0] - 1], 0, None)) if len(vc) else 0.0
        if np.isnan(vc).any():
            se[free > 0] = np.nan
        if defined.any():
            func = DefinedFunction(pt)
            jac = numerical_jacobian(lambda t: func(self.ram.parameter_values(t)), self.theta)
            se[defined] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vc, jac), 0, None))
        pt["start"] = np.where(
            free > 0, self.start[np.maximum(free - 1, 0)] if self.start is not None else np.nan, values
        )
        pt["est"] = values
        pt["se"] = se
        return pt

    @cached_property
    def _std_all_values(self) -> np.ndarray:
        return standardize(self.ram, self.theta, "std.all")

    @cached_property
    def _std_lv_values(self) -> np.ndarray:
        return standardize(self.ram, self.theta, "std.lv")

    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(standardized=TRUE)``, in parTable order.

        Columns: lhs op rhs label est se z pvalue ci.lower ci.upper std.lv std.all. Fixed rows have se 0 and
        NaN z/pvalue, with the CI collapsed on the estimate, as in lavaan.
        """
        pt = self.partable
        est = pt["est"].to_numpy(dtype=float)
        se = pt["se"].to_numpy(dtype=float)
        fixed = (pt["free"].to_numpy() == 0) & (pt["op"] != ":=").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        z[fixed] = np.nan
        crit = sps.norm.ppf(1 - (1 - self.level) / 2)
        out = pd.DataFrame(
            {
                "lhs": pt["lhs"],
                "op": pt["op"],
                "rhs": pt["rhs"],
                "label": pt["label"],
                "est": est,
                "se": se,
                "z": z,
                "pvalue": 2 * sps.norm.sf(np.abs(z)),
                "ci.lower": est - crit * se,
                "ci.upper": est + crit * se,
            }
        )
        if standardized:
            out["std.lv"] = self._std_lv_values
            out["std.all"] = self._std_all_values
        if getattr(self, "bootstrap", None) is not None:  # se="bootstrap" (survey.sem.bootstrap)
            from survey.sem.bootstrap import apply_bootstrap

            out = apply_bootstrap(out, self.bootstrap)
        return out.reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """lavaan's ``standardizedSolution(type=...)`` with delta-method standard errors."""
        return standardized_solution(self.ram, self.theta, self._vcov_free, type, self.level)

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters, named as lavaan's ``vcov()`` (label, else lhs op rhs)."""
        pt = self.partable
        names = []
        for k in range(1, self.ram.npar + 1):
            row = pt[pt["free"] == k].iloc[0]
            names.append(row["label"] if row["label"] else f"{row['lhs']}{row['op']}{row['rhs']}")
        return pd.DataFrame(self._vcov_free, index=names, columns=names)

    def vcov_std(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Delta-method covariance of the standardized free parameters (``lavInspect(fit, "vcov.std.all")``).

        ``V_std = J V J'`` with ``V`` = :meth:`vcov` and ``J[i, k] = d std_i / d theta_k`` the Jacobian of the
        standardization (``type`` "std.all" or "std.lv") of free parameter i (its first parameter-table row,
        as lavaan) -- the same Jacobian as :meth:`standardized_solution`'s standard errors (Rao 1973, 6a.2).
        Named like :meth:`vcov` (label, else lhs op rhs).
        """
        names = self.vcov().index
        free = self.partable["free"].to_numpy()
        rows = [int(np.flatnonzero(free == k)[0]) for k in range(1, self.ram.npar + 1)]
        jac = numerical_jacobian(lambda t: standardize(self.ram, t, type)[rows], self.theta)
        out = jac @ self._vcov_free @ jac.T
        return pd.DataFrame((out + out.T) / 2.0, index=names, columns=names)

    def compare_paths(self, outcome: str = "FOL", predictors: list[str] | None = None, **kwargs: Any):
        """Which driver of ``outcome`` matters most: :func:`survey.sem.compare_fitted.compare_paths_fitted`
        (Wald and Holm-adjusted pairwise tests, dominance and relative weights, rank intervals)."""
        from survey.sem.compare_fitted import compare_paths_fitted

        return compare_paths_fitted(self, outcome, predictors, **kwargs)

    # ------------------------------------------------------------------ fit
    @cached_property
    def _fit(self) -> dict[str, float]:
        ram, g = self.ram, self.group_stats
        x_index = [ram.ov.index(v) for v in ram.names.ov_x]
        df = n_moments(ram.p, len(x_index), ram.meanstructure) - ram.npar
        imp = ram.implied(self.theta)
        fml = self.estimation.fml if np.isfinite(g.logdet) else float("nan")
        out = compute_fit_measures(
            stats=g,
            sigma=imp.sigma,
            mean=imp.mean,
            fml=fml,
            npar=ram.npar,
            df=df,
            x_index=x_index,
            meanstructure=ram.meanstructure,
        )
        return out

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        """lavaan's ``fitMeasures()`` (names as lavaan's)."""
        out = dict(self._fit)
        return out if names is None else {k: out[k] for k in names}

    def test(self):
        """The chi-square test of the user model."""
        f = self._fit
        return chisq_test(f["fmin"] * 2, self.nobs, int(f["df"]))

    def r2(self) -> dict[str, float]:
        """R-square of every endogenous variable (lavaan ``inspect(fit, "r2")``): 1 - std.all residual var."""
        pt = self.partable
        names = self.ram.names
        v_ind = set(pt.loc[pt["op"] == "=~", "rhs"])
        dependent = [v for v in names.ov_nox if v in v_ind or v in names.eqs_y] + [
            v for v in names.lv if v in v_ind or v in names.eqs_y
        ]
        std = self._std_all_values
        out = {}
        for v in dependent:
            idx = np.flatnonzero(((pt["op"] == "~~") & (pt["lhs"] == v) & (pt["rhs"] == v)).to_numpy())
            if len(idx):
                out[v] = float(1.0 - std[idx[0]])
        order = [v for v in self.ram.variables if v in out]
        return {v: out[v] for v in order}

    def modindices(self, minimum_value: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """lavaan's ``modindices()``: mi, epc, sepc.lv, sepc.all of every fixed-to-zero candidate."""
        from survey.sem.modindices import modification_indices

        out = modification_indices(self)
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --json`` object (DESIGN.md)."""
        est = self.estimates()
        records = [{k: _clean(v) for k, v in row.items()} for row in est.to_dict(orient="records")]
        return {
            "estimator": self.estimator,
            "converged": self.converged,
            "nobs": self.nobs,
            "warnings": [w.message for w in self.warnings],
            "fit_measures": {k: _clean(v) for k, v in self.fit_measures().items()},
            "estimates": records,
            "r2": {k: _clean(v) for k, v in self.r2().items()},
        }

    def summary(self, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True) -> str:
        """Text summary laid out like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""
        from survey.sem.summary import summary_text

        return summary_text(self, fit_measures=fit_measures, standardized=standardized, rsquare=rsquare)

    def __repr__(self) -> str:
        f = self._fit
        state = "converged" if self.converged else "NOT converged"
        return (
            f"<SEMResult {self.estimator}, N={self.nobs}, {state}, chisq={f['chisq']:.3f}, df={f['df']:.0f}, "
            f"cfi={f['cfi']:.3f}, rmsea={f['rmsea']:.3f}, srmr={f['srmr']:.3f}, "
            f"{len(self.warnings)} warning(s)>"
        )

    def _repr_html_(self) -> str:
        f = self._fit
        head = (
            f"<p><b>SEM ({html.escape(self.estimator)})</b>, N = {self.nobs}, "
            f"{'converged' if self.converged else 'NOT converged'}; "
            f"&chi;&sup2;({f['df']:.0f}) = {f['chisq']:.3f}, "
            f"p = {f['pvalue']:.3f}, CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} "
            f"[{f['rmsea.ci.lower']:.3f}, {f['rmsea.ci.upper']:.3f}], SRMR = {f['srmr']:.3f}</p>"
        )
        warn = "".join(f"<li>{html.escape(w.message)}</li>" for w in self.warnings)
        warn = f"<ul>{warn}</ul>" if warn else ""
        return (
            head + warn + self.estimates().to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        )
