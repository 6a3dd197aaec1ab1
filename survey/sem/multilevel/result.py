"""``TwoLevelFit``: the :class:`survey.sem.SEMResult` of a two-level fit (lavaan ``level:`` blocks):
``estimates()`` as lavaan's ``parameterEstimates()`` with its ``level`` column, ``fit_measures()``
(:mod:`.measures`), ``vcov()``, ``vcov_std()``, ``standardized_solution()`` per level, ``modindices()``
(:mod:`.modindices`), ``fitted()`` / ``residuals()`` per level (:mod:`.residuals`), ``score_tests()``
(:mod:`.lavtests`; lavTestLRT / lavTestWald / lavTestScore through :mod:`survey.sem.results.lrt`),
``summary()``, ``to_dict()``. What lavaan offers beyond that for two-level fits is refused in one line
until it is checked in R.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.results.result import SEMResult


def _refuse(what: str):
    raise SurveyInputError(f"{what} is not available for a two-level model yet (available: estimates(), "
                           "fit_measures(), vcov(), vcov_std(), standardized_solution(), r2(), modindices(), "
                           "residuals(), fitted(), score_tests(), summary(), to_dict())", field="model")


class TwoLevelFit(SEMResult):
    """Result of :func:`survey.sem.multilevel.fit.fit_twolevel` (not built by ``SEMResult.__init__``)."""

    def __init__(self, *, model: str, estimator: str, information: str, se_kind: str, cluster: str,
                 pt: pd.DataFrame, tl, h0,
                 sat, base, btl, loglik_x: float, vcov: np.ndarray, robust, warnings: list,
                 x_within: list[str], x_between: list[str], base_scaling: float | None = None,
                 level: float = 0.95, n_equality: int = 0) -> None:
        self.model, self.estimator, self.se_kind, self.cluster = model, estimator, se_kind, cluster
        self.information_kind = information
        self.missing, self.group, self.single = "listwise", "", True
        self.group_equal, self.group_partial = [], []
        self.tl, self.mg, self.h0, self.sat, self.base, self.btl = tl, tl.mg, h0, sat, base, btl
        self.loglik_x, self.robust, self.x_within, self.x_between = loglik_x, robust, x_within, x_between
        self.level, self.bootstrap, self.start = level, None, None
        self.base_scaling = base_scaling
        self.n_equality = n_equality  # rank of the explicit equality constraints (lavaan's npar - that)
        self.theta = np.asarray(h0.theta, dtype=float)
        self.theta_full = self.mg.k @ self.theta
        self.converged = bool(h0.converged)
        self.nobs = int(tl.st.n)
        self.nclusters = int(tl.st.nclusters)
        self.group_labels, self.nobs_groups = ["1"], {"1": self.nobs}
        self._vcov = vcov
        self.warnings = list(warnings)
        self.partable = self._table(pt, se_kind)
        self.level_labels = _level_labels(model)
        self._no_level = "0" if all(x.isdigit() for x in self.level_labels) else ""  # := rows, as lavaan

    # ------------------------------------------------------------------ tables
    def _values(self, theta: np.ndarray, pt: pd.DataFrame, kind: str | None = None) -> np.ndarray:
        """Values (or ``kind`` standardized values) of the model rows of ``pt`` at ``theta``."""
        from survey.sem.standardize import standardize

        full = self.mg.k @ theta
        out = np.zeros(len(pt))
        for g, mod in enumerate(self.mg.models):
            rows = np.flatnonzero(pt["block"].to_numpy() == g + 1)
            local = self.mg.local(full, g)
            out[rows] = mod.parameter_values(local) if kind is None else standardize(mod, local, kind)
        return out

    def _table(self, pt: pd.DataFrame, se_kind: str = "standard") -> pd.DataFrame:
        """The parameter table with est, se, std.lv, std.all; ``:=`` rows by the delta method (lavaan)."""
        from survey.sem.standardize import numerical_jacobian
        from survey.sem.syntax.defined import DefinedFunction

        defined = pt[pt["op"] == ":="]
        model = pt[pt["block"] > 0].reset_index(drop=True).copy()
        se_free = np.sqrt(np.clip(np.diag(self._vcov), 0, None))
        free = model["free"].to_numpy()
        model["est"] = self._values(self.theta, model)
        model["se"] = np.where(free > 0, se_free[np.maximum(free, 1) - 1], 0.0)
        if se_kind == "none":  # lavaan se = "none": no standard-error column
            model["se"] = np.nan
        for kind in ("std.lv", "std.all"):
            model[kind] = self._values(self.theta, model, kind)
        if not len(defined):
            return model
        table = pd.concat([model, defined], ignore_index=True)
        fun = DefinedFunction(table)
        pad = np.full(len(defined), np.nan)

        def at(theta, kind=None):
            return fun(np.concatenate([self._values(theta, model, kind), pad]))

        jac = numerical_jacobian(at, self.theta)
        rows = table.index[len(model):]
        table.loc[rows, "est"] = at(self.theta)
        table.loc[rows, "se"] = np.sqrt(np.clip(np.diag(jac @ self._vcov @ jac.T), 0, None))
        for kind in ("std.lv", "std.all"):
            table.loc[rows, kind] = at(self.theta, kind)
        table.loc[rows, "block"] = 0
        return table

    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` of a two-level fit (``level`` as written in the syntax)."""
        pt = self.partable
        est, se = pt["est"].to_numpy(dtype=float), pt["se"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        crit = sps.norm.ppf(1 - (1 - self.level) / 2)
        out = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"], "block": pt["block"],
                            "level": [self.level_labels[b - 1] if b > 0 else self._no_level
                                      for b in pt["block"]],
                            "label": pt["label"],
                            "est": est, "se": se, "z": z})
        out["pvalue"] = 2 * sps.norm.sf(np.abs(z))
        out["ci.lower"], out["ci.upper"] = est - crit * se, est + crit * se
        if standardized:
            out["std.lv"], out["std.all"] = pt["std.lv"], pt["std.all"]
        return out

    def to_frame(self) -> pd.DataFrame:
        return self.estimates()

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Standardized estimates per level (each level by its own implied variances, as lavaan)."""
        if type not in ("std.lv", "std.all"):
            raise SurveyInputError(f"type={type!r} is not available (available: std.lv, std.all)",
                                   field="type")
        est = self.estimates()
        return est[["lhs", "op", "rhs", "block", "level", "label"]].assign(**{"est.std": est[type]})

    def _names(self) -> list[str]:
        pt = self.partable
        first = pt[pt["free"] > 0].drop_duplicates("free").sort_values("free")
        return [f"{r.lhs}{r.op}{r.rhs}" + ("" if r.block == 1 else f".l{r.block}")
                for r in first.itertuples()]

    def vcov(self) -> pd.DataFrame:
        names = self._names()
        return pd.DataFrame(self._vcov, index=names, columns=names)

    def vcov_std(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """lavaan's ``lavInspect(fit, "vcov.std.all" | "vcov.std.lv" | "vcov.std.nox")``: the delta-method
        J V J' (Rao 1973, 6a.2) of the standardized value of every free row of both levels (a label shared
        by rows is one parameter but each row its own standardized value, as lavaan: names the label, else
        ``lhs op rhs`` with ``.l2`` at level 2)."""
        from survey.sem.standardize import numerical_jacobian

        if type not in ("std.lv", "std.all", "std.nox"):
            raise SurveyInputError(f"type={type!r} is not available (available: std.lv, std.all, std.nox)",
                                   field="type")
        pt = self.partable
        model = pt[pt["block"] > 0].reset_index(drop=True)
        rows = np.flatnonzero(model["free"].to_numpy() > 0)
        jac = numerical_jacobian(lambda t: self._std_nox(t, model) if type == "std.nox"
                                 else self._values(t, model, type), self.theta)[rows]
        out = jac @ self._vcov @ jac.T
        names = [r.label if r.label else f"{r.lhs}{r.op}{r.rhs}" + ("" if r.block == 1 else ".l2")
                 for r in model.iloc[rows].itertuples()]
        return pd.DataFrame((out + out.T) / 2.0, index=names, columns=names)

    def _std_nox(self, theta: np.ndarray, pt: pd.DataFrame) -> np.ndarray:
        """std.nox values of the model rows of ``pt`` at ``theta`` (per level, lavaan's std.nox)."""
        from survey.sem.results.std_nox import std_nox_values

        full = self.mg.k @ theta
        out = np.zeros(len(pt))
        for g, mod in enumerate(self.mg.models):
            rows = np.flatnonzero(pt["block"].to_numpy() == g + 1)
            out[rows] = std_nox_values(mod, self.mg.local(full, g))
        return out

    def compare_paths(self, outcome: str = "FOL", predictors: list[str] | None = None, **kwargs: Any):
        _refuse("compare_paths()")

    @cached_property
    def _fit(self) -> dict[str, float]:
        from survey.sem.multilevel.measures import twolevel_measures

        return twolevel_measures(self)

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        """lavaan's ``fitMeasures()`` of a two-level fit (:mod:`survey.sem.multilevel.measures`)."""
        out = dict(self._fit)
        return out if names is None else {k: out[k] for k in names}

    def tests(self) -> dict[str, dict]:
        fm = self._fit
        out = {"standard": {"test": "standard", "stat": fm["chisq"], "df": fm["df"], "pvalue": fm["pvalue"]}}
        if self.robust is not None:
            name = getattr(self, "scaled_test", "yuan.bentler.mplus")
            out[name] = {"test": name, "stat": fm["chisq.scaled"], "df": fm["df"],
                         "pvalue": fm["pvalue.scaled"], "scaling.factor": fm["chisq.scaling.factor"]}
        return out

    def test(self):
        return self.tests()

    def r2(self) -> dict[str, float]:
        """R-squared of the endogenous variables per level, keys ``name`` (within) and ``name.l2``."""
        out = {}
        pt = self.partable
        for g, mod in enumerate(self.mg.models):
            imp = mod.implied(self.mg.local(self.theta_full, g))
            var = np.diag(imp.sigma_all)
            rows = pt[(pt["block"] == g + 1) & (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"])]
            endo = set(pt[(pt["block"] == g + 1) & (pt["op"] == "=~")]["rhs"]) | \
                set(pt[(pt["block"] == g + 1) & (pt["op"] == "~")]["lhs"])
            for r in rows.itertuples():
                if r.lhs in endo:
                    i = mod.index[r.lhs]
                    key = r.lhs + ("" if g == 0 else ".l2")
                    out[key] = float(1.0 - r.est / var[i]) if var[i] > 0 else np.nan
        return out

    def modindices(self, minimum_value: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """lavaan's ``modindices()``: ``lhs op rhs block group level mi epc sepc.lv sepc.all sepc.nox``
        (:mod:`survey.sem.multilevel.modindices`)."""
        from survey.sem.multilevel.modindices import twolevel_modindices

        self._refuse_constrained("modindices()")
        out = twolevel_modindices(self)
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False, kind="stable")
        return out.reset_index(drop=True)

    def score_tests(self) -> pd.DataFrame:
        """lavaan's ``lavTestScore()$uni``: univariate score tests of the shared-label constraints."""
        return self.lav_test_score().uni

    def lav_test_score(self):
        """lavaan's ``lavTestScore(fit)`` (:func:`survey.sem.multilevel.lavtests.twolevel_score_test`)."""
        from survey.sem.multilevel.lavtests import twolevel_score_test

        self._refuse_constrained("lavTestScore()")
        return twolevel_score_test(self)

    def _refuse_constrained(self, what: str) -> None:
        """Modification indices and score tests are checked against lavaan on two-level fits without
        explicit constraints only (their information would need the constraints' projection)."""
        if getattr(self, "explicit_constraints", False):
            raise SurveyInputError(f"{what} of a two-level model with explicit constraints (==, <, >) is not "
                                   "available yet (available: models whose constraints are shared labels)",
                                   field="model")

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Values of the model rows of the parameter table (both levels) at ``theta`` (lavTestWald)."""
        pt = self.partable
        return self._values(np.asarray(theta, dtype=float), pt[pt["block"] > 0])

    def fitted(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """lavaan's ``fitted()``: per level (``within``, the cluster variable) the implied ``cov`` and
        ``mean`` (:mod:`survey.sem.multilevel.residuals`)."""
        from survey.sem.multilevel.residuals import implied_moments, level_names

        return {name: {"cov": cov, "mean": mean}
                for name, (cov, mean) in zip(level_names(self), implied_moments(self), strict=True)}

    def residuals(self, type: str = "raw") -> list:  # noqa: A002 - lavaan's name
        """lavaan's ``residuals(fit, type)`` per level (within, between): ``raw``, ``cor`` (cor.bollen),
        ``cor.bentler`` (lavResiduals' type); normalized / standardized refused as lavaan 0.6.14 does."""
        from survey.sem.multilevel.residuals import twolevel_residuals

        return twolevel_residuals(self, type)

    def residual_levels(self) -> list[str]:
        """The names of the residuals' blocks, as lavaan's (``within``, the cluster variable)."""
        from survey.sem.multilevel.residuals import level_names

        return level_names(self)

    @property
    def ram(self):
        _refuse("a single RAM model (see .mg.models: one per level)")

    @property
    def group_stats(self):
        _refuse("group_stats (see .tl.st: the cluster statistics)")

    @property
    def h1_logl(self) -> float:
        return self._fit["unrestricted.logl"]

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --json`` object (DESIGN.md) with ``nclusters`` and ``cluster``."""
        from survey.sem.results.views import clean

        est = self.estimates()
        return {"estimator": self.estimator, "converged": self.converged, "nobs": self.nobs,
                "nclusters": self.nclusters, "cluster": self.cluster,
                "warnings": [w.message for w in self.warnings],
                "fit_measures": {k: clean(v) for k, v in self.fit_measures().items()},
                "estimates": [{k: clean(v) for k, v in row.items()} for row in est.to_dict(orient="records")],
                "r2": {k: clean(v) for k, v in self.r2().items()}}

    def summary(self, fit_measures: bool = True, standardized: bool = True, rsquare: bool = True) -> str:
        from survey.sem.multilevel.summary import summary_text

        return summary_text(self, fit_measures=fit_measures, standardized=standardized)

    def __repr__(self) -> str:
        fm = self._fit
        return (f"TwoLevelFit({self.estimator}, N={self.nobs}, clusters={self.nclusters}, "
                f"chisq={fm['chisq']:.3f}, df={fm['df']:.0f})")

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


def _level_labels(model: str) -> list[str]:
    import re

    from survey.sem.multilevel.syntax import _strip_comments

    names = re.findall(r"^\s*level\s*:\s*(\S+)\s*$", _strip_comments(model), re.I | re.M)
    return [str(n) for n in names[:2]] if len(names) >= 2 else ["1", "2"]
