"""``SEMResult``: the one result class of :func:`survey.sem.fit` (any estimator, missing-data treatment
and number of groups).

Column and measure names are lavaan's: ``parameterEstimates(standardized=TRUE)`` (``lhs op rhs label group
est se z pvalue ci.lower ci.upper std.lv std.all``; a single-group fit has no ``group`` column, as lavaan),
``standardizedSolution()``, ``fitMeasures()``, ``inspect(fit, "r2")``, ``vcov()``, ``modindices()``,
``lavTestScore()`` (score tests of equality constraints). Output views (``to_dict``, ``summary``,
HTML) are in :mod:`survey.sem.results.views`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.moments import SampleStats
from survey.sem.diagnostics import check_implied, check_std_loadings, check_variances
from survey.sem.estimate.ml import Estimation
from survey.sem.inference.tests import ScaledTest
from survey.sem.inference.vcov import Information
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.results import views
from survey.sem.results.measures import fit_measures
from survey.sem.results.values import std_at, values_at
from survey.sem.standardize import numerical_jacobian


class SEMResult:
    """Result of one fit over group blocks (plain object holding pandas DataFrames)."""

    def __init__(
        self,
        *,
        model: str,
        estimator: str,
        missing: str,
        group: str | None,
        group_equal: list[str],
        group_partial: list[str],
        mg: MultiGroupModel,
        stats: SampleStats,
        estimation: Estimation,
        pieces,
        baseline,
        warnings: list[SurveyWarning],
        start: np.ndarray | None = None,
        level: float = 0.95,
    ) -> None:
        self.model, self.estimator, self.missing = model, estimator, missing
        self.group = group or ""
        self.single = group is None
        self.group_equal, self.group_partial = list(group_equal), list(group_partial)
        self.mg, self.stats, self.estimation = mg, stats, estimation
        self.pieces, self.baseline = pieces, baseline
        self.information: Information | None = pieces.info
        self.scaled_test: ScaledTest | None = pieces.scaled
        self.level, self.start = level, start
        self.bootstrap = None  # a BootstrapResult with se="bootstrap" (survey.sem.bootstrap)
        self.theta = np.asarray(estimation.theta, dtype=float)
        self.theta_full = mg.k @ self.theta
        self.converged = bool(estimation.converged)
        self.nobs = int(stats.ntotal)
        self.group_labels = [g.label for g in stats.groups]
        self.nobs_groups = {g.label: int(getattr(g, "n_rows", g.n)) for g in stats.groups}  # weights: rows
        if missing != "listwise":  # the missing-data patterns (of the first block), FIML fits only
            self.missing_data = stats.groups[0].md
        q = mg.npar
        self._vcov = self.information.vcov if self.information is not None else np.full((q, q), np.nan)
        self.partable = self._fill_partable(mg.partable.copy())
        self.warnings: list[SurveyWarning] = list(warnings)
        for i, (ram, label) in enumerate(zip(mg.models, self.group_labels, strict=True)):
            imp = ram.implied(mg.local(self.theta_full, i))
            for w in check_implied(imp.sigma, imp.sigma_all, ram.p, ram.lv):
                msg = w.message if self.single else f"group {label}: {w.message}"
                self.warnings.append(SurveyWarning(w.code, msg, w.stage))
        model_rows = self.partable[self.partable["op"] != ":="]
        self.warnings += check_variances(model_rows)
        self.warnings += check_std_loadings(model_rows, self._std_values("std.all")[: len(model_rows)])

    # ------------------------------------------------------------------ single-block views
    @cached_property
    def ram(self):
        """The RAM model of a single-group fit over the whole parameter table (``:=`` rows included; its
        free parameters are ``theta``, fixed.x moments at the sample values)."""
        from survey.sem.model.ram import RAMModel

        if not self.single:
            raise SurveyInputError(
                "a multi-group fit has one model per group (see .mg.models)", field="group"
            )
        ram = RAMModel(self.mg.partable, self.mg.models[0].names)
        ram.set_exogenous(self.group_stats.cov, self.group_stats.mean)
        return ram

    @property
    def group_stats(self):
        """The sample statistics of the first (or only) block."""
        return self.stats.groups[0]

    @property
    def h1_logl(self) -> float:
        return float(sum(b.h1_logl for b in self.stats.groups))

    @property
    def _vcov_free(self) -> np.ndarray:
        return self._vcov

    # ------------------------------------------------------------------ tables
    def _values_at(self, theta: np.ndarray) -> np.ndarray:
        """Value of every parameter-table row (defined parameters included) at theta."""
        return values_at(self.mg, theta)

    def _std_at(self, theta: np.ndarray, kind: str) -> np.ndarray:
        return std_at(self.mg, theta, kind)

    def _fill_partable(self, pt: pd.DataFrame) -> pd.DataFrame:
        values = self._values_at(self.theta)
        vc_full = self.mg.k @ self._vcov @ self.mg.k.T
        se = np.zeros(len(pt))
        ff = pt["free_full"].to_numpy()
        se[ff > 0] = np.sqrt(np.clip(np.diag(vc_full)[ff[ff > 0] - 1], 0, None)) if len(vc_full) else 0.0
        if np.isnan(self._vcov).any():
            se[ff > 0] = np.nan
        defined = (pt["op"] == ":=").to_numpy()
        if defined.any():
            jac = numerical_jacobian(lambda t: self._values_at(t)[defined], self.theta)
            se[defined] = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self._vcov, jac), 0, None))
        free = pt["free"].to_numpy()
        start = self.start if self.start is not None else np.full(self.mg.npar, np.nan)
        pt["start"] = np.where(free > 0, start[np.maximum(free - 1, 0)] if len(start) else np.nan, values)
        pt["est"] = values
        pt["se"] = se
        return pt

    def _std_values(self, kind: str) -> np.ndarray:
        return self._std_cache[kind]

    @cached_property
    def _std_cache(self) -> dict[str, np.ndarray]:
        return {kind: self._std_at(self.theta, kind) for kind in ("std.lv", "std.all")}

    @property
    def _std_all_values(self) -> np.ndarray:
        return self._std_values("std.all")

    @property
    def _std_lv_values(self) -> np.ndarray:
        return self._std_values("std.lv")

    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates(standardized=TRUE)`` in parTable order; fixed rows have se 0 and NaN
        z/pvalue with the CI collapsed on the estimate; ``group`` (1..G) and ``group.label`` with groups."""
        pt = self.partable
        est = pt["est"].to_numpy(dtype=float)
        se = pt["se"].to_numpy(dtype=float)
        fixed = (pt["free"].to_numpy() == 0) & (pt["op"] != ":=").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        z[fixed] = np.nan
        crit = sps.norm.ppf(1 - (1 - self.level) / 2)
        out = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "label": pt["label"]})
        if not self.single:
            out["group"] = pt["group"].astype(int)
        out["est"], out["se"], out["z"] = est, se, z
        out["pvalue"] = 2 * sps.norm.sf(np.abs(z))
        out["ci.lower"], out["ci.upper"] = est - crit * se, est + crit * se
        if standardized:
            out["std.lv"] = self._std_values("std.lv")
            out["std.all"] = self._std_values("std.all")
        if not self.single:
            out["group.label"] = [self.group_labels[g - 1] if g > 0 else "" for g in pt["group"]]
        if self.bootstrap is not None:
            from survey.sem.results.boot import apply_bootstrap

            out = apply_bootstrap(out, self.bootstrap)
        return out.reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """lavaan's ``standardizedSolution(type=...)`` with delta-method standard errors (J V J')."""
        pt = self.partable
        est = self._std_at(self.theta, type)
        jac = numerical_jacobian(lambda t: self._std_at(t, type), self.theta)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self._vcov, jac), 0, None))
        se[(pt["exo"] == 1).to_numpy()] = 0.0
        se[np.abs(se) < 1e-12] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        crit = sps.norm.ppf(1 - (1 - self.level) / 2)
        out = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "label": pt["label"]})
        if not self.single:
            out["group"] = pt["group"].astype(int)
        out["est.std"], out["se"], out["z"] = est, se, z
        out["pvalue"] = 2 * sps.norm.sf(np.abs(z))
        out["ci.lower"], out["ci.upper"] = est - crit * se, est + crit * se
        return out

    def _names(self) -> list[str]:
        pt = self.partable
        names = []
        for k in range(1, self.mg.npar + 1):
            row = pt[pt["free"] == k].iloc[0]
            suffix = f".g{int(row['group'])}" if int(row["group"]) > 1 else ""
            names.append(row["label"] if row["label"] else f"{row['lhs']}{row['op']}{row['rhs']}{suffix}")
        return names

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the estimated parameters, named as lavaan's ``vcov()`` (label, else
        ``lhs op rhs``, ``.gG`` for groups g > 1)."""
        names = self._names()
        return pd.DataFrame(self._vcov, index=names, columns=names)

    def vcov_std(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Delta-method covariance of the standardized free parameters (``lavInspect(fit, "vcov.std.all")``):
        ``J V J'`` with J the Jacobian of each free parameter's first row (Rao 1973, 6a.2)."""
        names = self._names()
        free = self.partable["free"].to_numpy()
        rows = [int(np.flatnonzero(free == k)[0]) for k in range(1, self.mg.npar + 1)]
        jac = numerical_jacobian(lambda t: self._std_at(t, type)[rows], self.theta)
        out = jac @ self._vcov @ jac.T
        return pd.DataFrame((out + out.T) / 2.0, index=names, columns=names)

    def compare_paths(self, outcome: str = "FOL", predictors: list[str] | None = None, **kwargs: Any):
        """Which driver of ``outcome`` matters most
        (:func:`survey.sem.compare_fitted.compare_paths_fitted`)."""
        from survey.sem.compare_fitted import compare_paths_fitted

        return compare_paths_fitted(self, outcome, predictors, **kwargs)

    # ------------------------------------------------------------------ fit
    @cached_property
    def _fit(self) -> dict[str, float]:
        return fit_measures(self)

    @cached_property
    def _fit_all(self) -> dict[str, float]:
        from survey.sem.results.fit_adapter import all_fit_measures

        return all_fit_measures(self)

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        """lavaan's full ``fitMeasures()`` (names and order as lavaan's; the core measures of
        :func:`survey.sem.results.measures.fit_measures` plus :mod:`survey.sem.results.fit_more`)."""
        out = dict(self._fit_all)
        return out if names is None else {k: out[k] for k in names}

    def tests(self) -> dict[str, dict]:
        """lavaan's ``lavInspect(fit, "test")``: the standard test and the scaled / residual-based one."""
        from survey.sem.inference.adjusted import test_table

        return test_table(self)

    def test(self):
        """The chi-square test of the user model."""
        from survey.sem.test import ChiSquareTest

        f = self._fit
        return ChiSquareTest(f["chisq"], int(f["df"]), f["pvalue"])

    def r2(self):
        """R-square (1 - std.all residual variance, NaN above 1) of every endogenous variable (lavaan
        ``inspect(fit, "r2")``); with groups one mapping per group label."""
        pt = self.partable
        names = self.mg.models[0].names
        v_ind = set(pt.loc[pt["op"] == "=~", "rhs"])
        dependent = [v for v in names.ov_nox + names.lv if v in v_ind or v in names.eqs_y]
        std = self._std_values("std.all")
        out: dict[str, dict[str, float]] = {}
        for g, label in enumerate(self.group_labels, start=1):
            mask = ((pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["group"] == g)).to_numpy()
            # lavaan's lav_inspect_rsquare: NaN above 1 (a negative residual variance)
            vals = {pt["lhs"].iat[i]: float(1.0 - std[i]) if std[i] >= 0 else float("nan")
                    for i in np.flatnonzero(mask)}
            out[label] = {v: vals[v] for v in self.mg.models[0].variables if v in vals and v in dependent}
        return next(iter(out.values())) if self.single else out

    def modindices(self, minimum_value: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """lavaan's ``modindices()``: mi, epc, sepc.lv, sepc.all, sepc.nox of every fixed-to-zero candidate
        (with groups per group, column ``group``: :mod:`survey.sem.results.mg_modindices`)."""
        from survey.sem.results.mg_modindices import group_modification_indices
        from survey.sem.results.modindices import modification_indices

        out = modification_indices(self) if self.single else group_modification_indices(self)
        if getattr(self, "conditional_x", False):  # y given x: no candidates for the covariates
            from survey.sem.conditional_x import drop_x_candidates

            out = drop_x_candidates(out, set(self.mg.models[0].names.ov_x))
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)

    def residuals(self, type: str = "raw") -> list:  # noqa: A002 - lavaan's name
        """lavaan's ``residuals(fit, type)``: one :class:`~survey.sem.results.residuals.Residuals` (``cov``,
        ``mean``) per group; types raw, cor (cor.bollen), cor.bentler, normalized, standardized."""
        if getattr(self, "least_squares", False):  # GLS / ULS / DWLS / WLS: S with divisor N - 1
            from survey.sem.results.ls_residuals import ls_residuals

            return ls_residuals(self, str(type).lower())
        from survey.sem.results.residuals import result_residuals

        return result_residuals(self, type)

    def lav_residuals_summary(self) -> list[dict[str, dict[str, float]]]:
        """lavaan's ``lavResiduals(fit)$summary`` per group: ``cov`` (and with means ``mean``, ``total``),
        each with srmr, srmr.se, the exact-fit z, usrmr with its SE / CI and close-fit z."""
        from survey.sem.results.residuals import result_residual_summary

        return [{part: None if rms is None else rms.to_dict() for part, rms in groups.items()}
                for groups in result_residual_summary(self)]

    def score_tests(self) -> pd.DataFrame:
        """lavaan's ``lavTestScore()$uni``: univariate score tests of the equality constraints."""
        from survey.sem.score import equality_score_tests

        return equality_score_tests(self)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --json`` object (DESIGN.md; with groups also their labels and constraints)."""
        return views.to_dict(self)

    def summary(self, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True) -> str:
        """Text summary laid out like lavaan's ``summary(fit, fit.measures=TRUE, standardized=TRUE)``."""
        from survey.sem.results.summary import summary_text

        return summary_text(self, fit_measures=fit_measures, standardized=standardized, rsquare=rsquare)

    def __repr__(self) -> str:
        return views.text_repr(self)

    def _repr_html_(self) -> str:
        return views.html_repr(self)


MultiGroupResult = SEMResult  # one result class; the multi-group name kept for callers
