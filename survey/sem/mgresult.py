"""``MultiGroupResult``: estimates (with lavaan's ``group`` column), fit measures and score tests of a
multi-group fit (:func:`survey.sem.multigroup.fit_multigroup`).

Names are lavaan's: ``parameterEstimates(standardized=TRUE)`` columns ``lhs op rhs label group est se z
pvalue ci.lower ci.upper std.lv std.all`` (groups numbered 1..G in lavaan's order; ``group.label`` holds
the value of the grouping column), ``fitMeasures()`` names (:mod:`survey.sem.mgfit`).
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
from survey.sem.defined import DefinedFunction
from survey.sem.diagnostics import check_implied, check_std_loadings, check_variances
from survey.sem.estimate import Estimation
from survey.sem.mgfit import fit_measures_multigroup
from survey.sem.multigroup import MultiGroupModel
from survey.sem.standardize import numerical_jacobian, standardize


def _clean(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


class MultiGroupResult:
    """Result of a multi-group fit (plain object holding pandas DataFrames)."""

    def __init__(
        self,
        *,
        model: str,
        group: str,
        group_equal: list[str],
        group_partial: list[str],
        mg: MultiGroupModel,
        stats: SampleStats,
        estimation: Estimation,
        vcov: np.ndarray | None,
        warnings: list[SurveyWarning],
        start: np.ndarray | None = None,
        estimator: str = "ML",
        level: float = 0.95,
        robust: tuple | None = None,
    ) -> None:
        self.model = model
        self.group = group
        self.group_equal = list(group_equal)
        self.group_partial = list(group_partial)
        self.mg = mg
        self.stats = stats
        self.estimation = estimation
        self.estimator = estimator
        self.robust = robust  # (model, baseline) scaled tests under MLR
        self.level = level
        self.start = start
        self.theta = np.asarray(estimation.theta, dtype=float)
        self.theta_full = mg.k @ self.theta
        self.converged = bool(estimation.converged)
        self.nobs = int(stats.ntotal)
        self.group_labels = [g.label for g in stats.groups]
        self.nobs_groups = {g.label: int(g.n) for g in stats.groups}
        q = mg.npar
        self._vcov = vcov if vcov is not None else np.full((q, q), np.nan)
        self.partable = self._fill_partable(mg.partable.copy())
        self.warnings: list[SurveyWarning] = list(warnings)
        for i, (ram, label) in enumerate(zip(mg.models, self.group_labels, strict=True)):
            imp = ram.implied(mg.local(self.theta_full, i))
            for w in check_implied(imp.sigma, imp.sigma_all, ram.p, ram.lv):
                self.warnings.append(SurveyWarning(w.code, f"group {label}: {w.message}", w.stage))
        model_rows = self.partable[self.partable["op"] != ":="]
        self.warnings += check_variances(model_rows)
        self.warnings += check_std_loadings(model_rows, self._std_values("std.all")[: len(model_rows)])

    # ------------------------------------------------------------------ tables
    def _row_values(self, theta_full: np.ndarray) -> np.ndarray:
        """Value of every model row (all groups) at theta_full."""
        parts = [ram.parameter_values(self.mg.local(theta_full, i)) for i, ram in enumerate(self.mg.models)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _all_values(self, theta: np.ndarray) -> np.ndarray:
        pt = self.mg.partable
        vals = np.full(len(pt), np.nan)
        model = (pt["op"] != ":=").to_numpy()
        vals[model] = self._row_values(self.mg.k @ theta)
        if (~model).any():
            vals[~model] = DefinedFunction(pt)(vals)
        return vals

    def _fill_partable(self, pt: pd.DataFrame) -> pd.DataFrame:
        values = self._all_values(self.theta)
        vc_full = self.mg.k @ self._vcov @ self.mg.k.T
        se = np.zeros(len(pt))
        ff = pt["free_full"].to_numpy()
        se[ff > 0] = np.sqrt(np.clip(np.diag(vc_full)[ff[ff > 0] - 1], 0, None))
        if np.isnan(self._vcov).any():
            se[ff > 0] = np.nan
        defined = (pt["op"] == ":=").to_numpy()
        if defined.any():
            jac = numerical_jacobian(lambda t: self._all_values(t)[defined], self.theta)
            se[defined] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self._vcov, jac), 0, None))
        pt["est"] = values
        pt["se"] = se
        return pt

    def _std_values(self, kind: str) -> np.ndarray:
        return self._std_cache[kind]

    @cached_property
    def _std_cache(self) -> dict[str, np.ndarray]:
        pt = self.partable
        out = {}
        for kind in ("std.lv", "std.all"):
            parts = [
                standardize(ram, self.mg.local(self.theta_full, i), kind)
                for i, ram in enumerate(self.mg.models)
            ]
            vals = np.full(len(pt), np.nan)
            model = (pt["op"] != ":=").to_numpy()
            vals[model] = np.concatenate(parts)
            if (~model).any():
                vals[~model] = DefinedFunction(pt)(vals)
            out[kind] = vals
        return out

    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(standardized=TRUE)`` with the ``group`` column (1..G) and
        ``group.label``; fixed rows have se 0 and NaN z/pvalue."""
        pt = self.partable
        est = pt["est"].to_numpy(dtype=float)
        se = pt["se"].to_numpy(dtype=float)
        fixed = (pt["free"].to_numpy() == 0) & (pt["op"] != ":=").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        z[fixed] = np.nan
        crit = sps.norm.ppf(1 - (1 - self.level) / 2)
        labels = [self.group_labels[g - 1] if g > 0 else "" for g in pt["group"]]
        out = pd.DataFrame(
            {
                "lhs": pt["lhs"],
                "op": pt["op"],
                "rhs": pt["rhs"],
                "label": pt["label"],
                "group": pt["group"].astype(int),
                "est": est,
                "se": se,
                "z": z,
                "pvalue": 2 * sps.norm.sf(np.abs(z)),
                "ci.lower": est - crit * se,
                "ci.upper": est + crit * se,
            }
        )
        if standardized:
            out["std.lv"] = self._std_values("std.lv")
            out["std.all"] = self._std_values("std.all")
        out["group.label"] = labels
        return out.reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the estimated (shared) parameters, named ``lhs op rhs`` (``.gG`` for g > 1)
        or by the user label."""
        pt = self.partable
        names = []
        for k in range(1, self.mg.npar + 1):
            row = pt[pt["free"] == k].iloc[0]
            suffix = f".g{int(row['group'])}" if int(row["group"]) > 1 else ""
            names.append(row["label"] if row["label"] else f"{row['lhs']}{row['op']}{row['rhs']}{suffix}")
        return pd.DataFrame(self._vcov, index=names, columns=names)

    # ------------------------------------------------------------------ fit
    @cached_property
    def _fit(self) -> dict[str, float]:
        sigmas, means = [], []
        for i, ram in enumerate(self.mg.models):
            imp = ram.implied(self.mg.local(self.theta_full, i))
            sigmas.append(imp.sigma)
            means.append(imp.mean)
        ram = self.mg.models[0]
        x_index = [ram.ov.index(v) for v in ram.names.ov_x]
        ok = all(np.isfinite(g.logdet) for g in self.stats.groups)
        fml = self.estimation.fml if ok else float("nan")
        out = fit_measures_multigroup(
            stats=self.stats, sigmas=sigmas, means=means, fml=fml, npar=self.mg.npar, x_index=x_index
        )
        if self.robust is not None:
            from survey.sem.mgrobust import robust_fit_measures

            out.update(robust_fit_measures(*self.robust, self.nobs, len(self.stats.groups)))
        return out

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        """lavaan's ``fitMeasures()`` for the multi-group model."""
        out = dict(self._fit)
        return out if names is None else {k: out[k] for k in names}

    def r2(self) -> dict[str, dict[str, float]]:
        """R-square per group: {group label: {variable: 1 - std.all residual variance}}."""
        pt = self.partable
        names = self.mg.models[0].names
        v_ind = set(pt.loc[pt["op"] == "=~", "rhs"])
        dependent = [v for v in names.ov_nox + names.lv if v in v_ind or v in names.eqs_y]
        std = self._std_values("std.all")
        out: dict[str, dict[str, float]] = {}
        for g, label in enumerate(self.group_labels, start=1):
            mask = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["group"] == g)
            vals = {
                r.lhs: float(1.0 - std[i])
                for i, r in zip(
                    np.flatnonzero(mask.to_numpy()), pt[mask].itertuples(index=False), strict=True
                )
            }
            out[label] = {v: vals[v] for v in self.mg.models[0].variables if v in vals and v in dependent}
        return out

    def score_tests(self) -> pd.DataFrame:
        """lavaan's ``lavTestScore()$uni``: univariate score tests of the equality constraints."""
        from survey.sem.multigroup import single_thread
        from survey.sem.score import equality_score_tests

        with single_thread():
            return equality_score_tests(self)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --group ... --json`` object (DESIGN.md, plus the multi-group fields)."""
        est = self.estimates()
        records = [{k: _clean(v) for k, v in row.items()} for row in est.to_dict(orient="records")]
        return {
            "estimator": self.estimator,
            "converged": self.converged,
            "nobs": self.nobs,
            "group": self.group,
            "group_labels": self.group_labels,
            "nobs_groups": self.nobs_groups,
            "group_equal": self.group_equal,
            "group_partial": self.group_partial,
            "warnings": [w.message for w in self.warnings],
            "fit_measures": {k: _clean(v) for k, v in self.fit_measures().items()},
            "estimates": records,
            "r2": {g: {k: _clean(v) for k, v in d.items()} for g, d in self.r2().items()},
        }

    def summary(self) -> str:
        """Text summary: fit and the estimates of every group."""
        f = self.fit_measures()
        state = "ended normally" if self.converged else "did NOT end normally"
        lines = [
            f"survey.sem multi-group {self.estimator} {state} after {self.estimation.iterations} iterations",
            "",
            f"  Grouping variable: {self.group}; groups: "
            + ", ".join(f"{k} (N = {v})" for k, v in self.nobs_groups.items()),
            f"  Equality constraints: {', '.join(self.group_equal) or 'none'}"
            + (f"; released: {', '.join(self.group_partial)}" if self.group_partial else ""),
            f"  Number of model parameters: {int(f['npar'])}",
            "",
            f"  Chi-square ({int(f['df'])} df) = {f['chisq']:.3f}, p = {f['pvalue']:.4f}",
            f"  CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} "
            f"[{f['rmsea.ci.lower']:.3f}, {f['rmsea.ci.upper']:.3f}], SRMR = {f['srmr']:.3f}",
            f"  logl = {f['logl']:.3f}, AIC = {f['aic']:.3f}, BIC = {f['bic']:.3f}",
        ]
        if self.robust is not None:
            lines += [
                f"  Scaled chi-square (Yuan-Bentler) = {f['chisq.scaled']:.3f}, "
                f"p = {f['pvalue.scaled']:.4f}, scaling factor = {f['chisq.scaling.factor']:.3f}",
                f"  Robust CFI = {f['cfi.robust']:.3f}, TLI = {f['tli.robust']:.3f}, "
                f"RMSEA = {f['rmsea.robust']:.3f}; standard errors: robust (Huber-White)",
            ]
        est = self.estimates()
        cols = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "std.all"]
        for g, label in enumerate(self.group_labels, start=1):
            part = est[est["group"] == g][cols]
            lines += [
                "",
                f"Group {g} [{label}]:",
                part.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""),
            ]
        part = est[est["op"] == ":="]
        if len(part):
            lines += [
                "",
                "Defined parameters:",
                part[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w.message}" for w in self.warnings]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        f = self._fit
        state = "converged" if self.converged else "NOT converged"
        return (
            f"<MultiGroupResult {self.estimator}, G={len(self.group_labels)}, N={self.nobs}, {state}, "
            f"chisq={f['chisq']:.3f}, "
            f"df={f['df']:.0f}, cfi={f['cfi']:.3f}, rmsea={f['rmsea']:.3f}, srmr={f['srmr']:.3f}>"
        )

    def _repr_html_(self) -> str:
        f = self._fit
        head = (
            f"<p><b>Multi-group SEM ({self.estimator})</b>, groups by {html.escape(self.group)}, "
            f"N = {self.nobs}; "
            f"&chi;&sup2;({f['df']:.0f}) = {f['chisq']:.3f}, CFI = {f['cfi']:.3f}, RMSEA = {f['rmsea']:.3f}, "
            f"SRMR = {f['srmr']:.3f}</p>"
        )
        warn = "".join(f"<li>{html.escape(w.message)}</li>" for w in self.warnings)
        return (
            head
            + (f"<ul>{warn}</ul>" if warn else "")
            + self.estimates().to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        )
