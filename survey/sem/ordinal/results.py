"""The ordinal fits' result class: a subclass of the engine's one result class,
:class:`survey.sem.results.result.SEMResult`, with its methods computed from the ordinal fit.

``estimates()`` (lavaan's ``parameterEstimates()``: ``lhs op rhs label [group] est se z pvalue ci.lower
ci.upper std.all``, threshold rows ``|`` and scale factors ``~*~`` included), ``to_frame()``,
``fit_measures(names)`` (lavaan's ``fitMeasures()`` names), ``vcov()`` (named as lavaan's ``vcov()``),
``r2()``, ``summary()`` (with the Thresholds section), ``to_dict()`` (the ``survey fit --json`` object),
``tests()`` / ``test()`` (lavaan's ``lavInspect(fit, "test")``), ``standardized_solution()`` (lavaan's
``standardizedSolution()``: delta-method SEs of ``std.all``, J V J') and ``_repr_html_`` for notebooks.
The fits keep their lavaan-named table in ``parameter_table`` (with the ``free`` index) and the measures
in ``measures``.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from survey.distributions import norm
from survey.errors import SurveyInputError
from survey.sem.ordinal._engine import ChiSquareTest, SEMResult


class OrdinalResult(SEMResult):
    """Base of :class:`~survey.sem.ordinal.fit.OrdinalFit` and
    :class:`~survey.sem.ordinal.multigroup.GroupFit` (dataclasses; ``SEMResult.__init__`` is not used);
    the classes provide ``parameter_table``, ``measures``, ``vcov_matrix``, ``test_list``, ``theta``,
    ``nobs`` and ``warnings``, and ``_std_all_at(theta)``."""

    parameter_table: pd.DataFrame
    measures: dict[str, float]
    vcov_matrix: np.ndarray

    @property
    def single(self) -> bool:
        """One group (as ``SEMResult.single``)."""
        return np.ndim(self.nobs) == 0

    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` (95% Wald intervals); ``std.all`` with ``standardized``."""
        from survey.sem.ordinal.summary import public_estimates

        out = public_estimates(self.parameter_table)
        if self.single:
            out = out.drop(columns="group")
        return out if standardized else out.drop(columns=["std.lv", "std.all"], errors="ignore")

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`estimates`."""
        return self.estimates()

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        """lavaan's ``fitMeasures()`` for the fit (all it computes, or ``names``)."""
        out = dict(self.measures)
        return out if names is None else {k: out[k] for k in names}

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters, named as lavaan's ``vcov()``: the label, else
        ``lhs op rhs`` (``.gG`` for groups g > 1); shared (equal) parameters once, except thresholds tied by
        threshold formulas (one row each, as lavaan's ``vcov()``: ``K V K'`` of
        :mod:`survey.sem.ordinal.threshold_syntax`, the fixed ones left out); several groups: one row per
        free row as lavaan's (:mod:`survey.sem.ordinal.group_vcov`)."""
        if not self.single:
            from survey.sem.ordinal.group_vcov import group_vcov

            return group_vcov(self)
        pt = self.parameter_table
        names: dict[int, str] = {}
        for r in pt[pt["free"] > 0].itertuples(index=False):
            group = int(getattr(r, "group", 1) or 1)
            suffix = f".g{group}" if group > 1 else ""
            names.setdefault(int(r.free), r.label if r.label else f"{r.lhs}{r.op}{r.rhs}{suffix}")
        keys = sorted(names)
        order = [names[k] for k in keys]
        matrix = self.vcov_matrix
        if matrix.shape[0] != len(keys):  # threshold formulas: the full vector, fixed thresholds in it
            at = np.asarray(keys, dtype=int) - 1
            matrix = matrix[np.ix_(at, at)]
        return pd.DataFrame(matrix, index=order, columns=order)

    def vcov_std(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Delta-method covariance of the standardized free parameters (``lavInspect(fit,
        "vcov.std.all")``): ``J V J'``, J the central-difference Jacobian of each free parameter's
        ``std.all`` (its first row) in the parameters (Rao 1973, 6a.2); several groups: one row per free
        row (:mod:`survey.sem.ordinal.group_vcov`)."""
        from survey.sem.ordinal._engine import numerical_jacobian

        if type != "std.all":
            raise SurveyInputError("vcov_std is available for type='std.all' with ordered items",
                                   field="type")
        if not self.single:
            from survey.sem.ordinal.group_vcov import group_vcov_std

            return group_vcov_std(self)
        v = self.vcov()
        free = self.parameter_table["free"].to_numpy()
        rows = [int(np.flatnonzero(free == k)[0]) for k in sorted(set(free[free > 0].tolist()))]
        jac = numerical_jacobian(lambda t: self._std_all_at(t)[rows], self.theta)
        out = jac @ self.vcov_matrix @ jac.T  # tied thresholds: V = K V_free K', its chain rule
        return pd.DataFrame((out + out.T) / 2.0, index=v.index, columns=v.columns)

    def standardized_solution(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """lavaan's ``standardizedSolution()``: ``est.std`` (= ``std.all``) of every row with the delta-method
        SE ``sqrt(diag(J V J'))``, J the central-difference Jacobian of ``std.all`` in the parameters
        (Rao 1973, 6a.2); 95% Wald intervals."""
        from survey.sem.ordinal._engine import numerical_jacobian

        if type != "std.all":
            raise SurveyInputError("standardized_solution is available for type='std.all' with ordered items",
                                   field="type", value=str(type))
        est = self._std_all_at(self.theta)
        jac = numerical_jacobian(self._std_all_at, self.theta)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self.vcov_matrix, jac), 0, None))
        se[se < 1e-10] = 0.0  # rows whose std.all is constant (scale factors, lavaan: 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        pt = self.parameter_table
        out = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"]})
        if not self.single:
            out["group"] = pt["group"].astype(int)
        out["est.std"], out["se"], out["z"] = est, se, z
        out["pvalue"] = 2 * norm.sf(np.abs(z))
        out["ci.lower"], out["ci.upper"] = est - 1.959963984540054 * se, est + 1.959963984540054 * se
        return out.reset_index(drop=True)

    def tests(self) -> dict[str, dict]:
        """lavaan's ``lavInspect(fit, "test")``: the standard test, then the scaled one (``scaled.shifted``
        for WLSMV / ULSMV, ``satorra.bentler`` for WLSM / ULSM)."""
        out = {}
        for t in self.test_list:
            entry = {"test": t.name, "stat": float(t.stat), "df": float(t.df), "pvalue": float(t.pvalue)}
            if t.name != "standard":
                entry.update({"scaling.factor": float(t.scaling_factor), "shift.parameter": float(t.shift),
                              "trace.UGamma": float(t.trace_ugamma)})
            out[t.name] = entry
        return out

    def test(self) -> ChiSquareTest:
        """The (unscaled) chi-square test of the user model."""
        t = self.test_list[0]
        return ChiSquareTest(float(t.stat), int(t.df), float(t.pvalue))

    def modindices(self, minimum_value: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """lavaan's ``modindices()`` (mi, epc, sepc.lv, sepc.all of every fixed-to-zero loading and residual
        covariance; :mod:`survey.sem.ordinal.modindices`); ordered items, one group or a configural
        multi-group model (:mod:`survey.sem.ordinal.group_modindices`); after threshold formulas
        (:mod:`survey.sem.ordinal.threshold_modindices`, with groups
        :mod:`survey.sem.ordinal.equal_modindices`, their fixed thresholds scored as lavaan's)."""
        from survey.sem.ordinal.group_modindices import group_modification_indices
        from survey.sem.ordinal.modindices import modification_indices

        if getattr(self, "tied_thresholds", False) and self.single:  # threshold formulas, one group
            from survey.sem.ordinal.threshold_modindices import tied_modification_indices

            out = tied_modification_indices(self)
        elif getattr(self, "tied_thresholds", False):  # and groups: the extended-model route
            from survey.sem.ordinal.equal_modindices import equal_group_modification_indices

            out = equal_group_modification_indices(self)
        else:
            out = modification_indices(self) if self.single else group_modification_indices(self)
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)

    def residuals(self, type: str = "raw") -> list:  # noqa: A002 - lavaan's name
        """lavaan's ``residuals(fit, type)`` per group: correlations, means and thresholds
        (:mod:`survey.sem.ordinal.residuals`)."""
        from survey.sem.ordinal.residuals import ordinal_residuals

        return ordinal_residuals(self, type)

    def lav_residuals_summary(self, type: str = "cor.bentler") -> list[dict[str, dict[str, float]]]:  # noqa: A002
        """lavaan's ``lavResiduals(fit, type)$summary`` per group: ``cor``, ``thresholds`` and ``total``, each
        with srmr (type cor.bentler) or crmr (cor.bollen), its SE, the exact-fit z, the unbiased RMS with its
        SE / CI and close-fit z (:mod:`survey.sem.ordinal.residual_summary`)."""
        from survey.sem.ordinal.residual_summary import TYPES, ordinal_residual_summary

        prefix = TYPES.get(str(type).lower(), "srmr")
        return [{part: rms.to_dict(prefix) for part, rms in groups.items()}
                for groups in ordinal_residual_summary(self, type)]

    def score_tests(self) -> pd.DataFrame:
        """lavaan's ``lavTestScore(fit)$uni``: univariate score tests of the equality constraints (shared
        labels, ``group_equal``), the total test in ``attrs["total"]``; lavaan's ordinary score test also
        under robust SEs, with its warning (:mod:`survey.sem.ordinal.score`)."""
        from survey.sem.ordinal.score import ordinal_score_tests

        return ordinal_score_tests(self)

    @property
    def ram(self):
        """The continuous engine's RAM view does not exist for an ordinal fit (its table and statistics are
        the ordinal ones): refused in one line."""
        raise SurveyInputError("an ordinal fit has no continuous RAM view (see .parameter_table)",
                               field="ram")

    @property
    def group_stats(self):
        """The ordinal sample statistics (thresholds, polychorics, Gamma) of the first group."""
        sample = getattr(self, "sample", None)
        return sample if sample is not None else self.blocks[0].sample

    @property
    def h1_logl(self) -> float:
        raise SurveyInputError("the WLS estimators of ordered items have no log-likelihood", field="logl")

    def compare_paths(self, outcome: str = "FOL", predictors: list[str] | None = None, **kwargs: Any):
        """Which driver of ``outcome`` matters most (:func:`survey.sem.compare_fitted.compare_paths_fitted`;
        Wald tests from the robust vcov, no likelihood-ratio refit)."""
        from survey.sem.compare_fitted import compare_paths_fitted

        kwargs.pop("data", None)
        return compare_paths_fitted(self, outcome, predictors, **kwargs)

    def r2(self) -> dict:
        """R-square of the items' latent responses and the dependent variables (lavaan ``inspect(fit,
        "r2")``; with groups one mapping per group label)."""
        from survey.sem.ordinal.summary import r2

        return r2(self.parameter_table, getattr(self, "groups", None))

    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --json`` object, threshold rows (``op`` "|") included."""
        from survey.sem.ordinal.summary import to_dict

        return to_dict(self)

    def summary(self) -> str:
        """lavaan-like text summary with the Thresholds section (one block per group)."""
        from survey.sem.ordinal.summary import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        from survey.sem.results import fit_line

        state = "converged" if self.converged else "not converged"
        head = (f"<p>{html.escape(str(self.estimator))} ({state}), <i>N</i> = {int(np.sum(self.nobs))}; "
                f"{fit_line.fit_html(self.measures, fit_line.test_method(self))}</p>")
        return head + self.estimates().to_html(index=False, float_format=lambda v: f"{v:.3f}")
