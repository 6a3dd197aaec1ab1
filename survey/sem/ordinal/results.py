"""The result methods an ordinal fit shares with the engine's :class:`survey.sem.results.result.SEMResult`.

``estimates()`` (lavaan's ``parameterEstimates()``: ``lhs op rhs label [group] est se z pvalue ci.lower
ci.upper std.all``, threshold rows ``|`` and scale factors ``~*~`` included), ``to_frame()``,
``fit_measures(names)`` (lavaan's ``fitMeasures()`` names), ``vcov()`` (named as lavaan's ``vcov()``),
``r2()``, ``summary()`` (with the Thresholds section), ``to_dict()`` (the ``survey fit --json`` object) and
``_repr_html_`` for notebooks. The fits keep their lavaan-named table in ``parameter_table`` (with the
``free`` index) and the measures in ``measures``.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd


class OrdinalResult:
    """Mixin of :class:`~survey.sem.ordinal.fit.OrdinalFit` and
    :class:`~survey.sem.ordinal.multigroup.GroupFit`; the classes provide ``parameter_table``,
    ``measures``, ``vcov_matrix``, ``nobs`` and ``warnings``."""

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
        ``lhs op rhs`` (``.gG`` for groups g > 1); shared (equal) parameters once."""
        pt = self.parameter_table
        names: dict[int, str] = {}
        for r in pt[pt["free"] > 0].itertuples(index=False):
            group = int(getattr(r, "group", 1) or 1)
            suffix = f".g{group}" if group > 1 else ""
            names.setdefault(int(r.free), r.label if r.label else f"{r.lhs}{r.op}{r.rhs}{suffix}")
        order = [names[k] for k in sorted(names)]
        return pd.DataFrame(self.vcov_matrix, index=order, columns=order)

    def vcov_std(self, type: str = "std.all") -> pd.DataFrame:  # noqa: A002 - lavaan's name
        """Delta-method covariance of the standardized free parameters (``lavInspect(fit,
        "vcov.std.all")``): ``J V J'``, J the central-difference Jacobian of each free parameter's
        ``std.all`` (its first row) in the parameters (Rao 1973, 6a.2); one group."""
        from survey.errors import SurveyInputError
        from survey.sem.ordinal._engine import numerical_jacobian

        if type != "std.all" or not self.single:
            raise SurveyInputError("vcov_std is available for type='std.all' of one group", field="type")
        v = self.vcov()
        free = self.parameter_table["free"].to_numpy()
        rows = [int(np.flatnonzero(free == k)[0]) for k in range(1, v.shape[0] + 1)]
        jac = numerical_jacobian(lambda t: self._std_all_at(t)[rows], self.theta)
        out = jac @ self.vcov_matrix @ jac.T
        return pd.DataFrame((out + out.T) / 2.0, index=v.index, columns=v.columns)

    def compare_paths(self, outcome: str = "FOL", predictors: list[str] | None = None, **kwargs: Any):
        """Which driver of ``outcome`` matters most (:func:`survey.sem.compare_fitted.compare_paths_fitted`;
        Wald tests from the robust vcov, no likelihood-ratio refit)."""
        from survey.sem.compare_fitted import compare_paths_fitted

        kwargs.pop("data", None)
        return compare_paths_fitted(self, outcome, predictors, **kwargs)

    def r2(self) -> dict[str, float]:
        """R-square of the items' latent responses and the dependent variables (one group: lavaan
        ``inspect(fit, "r2")``)."""
        from survey.sem.ordinal.summary import r2

        return r2(self.parameter_table)

    def to_dict(self) -> dict[str, Any]:
        """The ``survey fit --json`` object, threshold rows (``op`` "|") included."""
        from survey.sem.ordinal.summary import to_dict

        return to_dict(self)

    def summary(self) -> str:
        """lavaan-like text summary with the Thresholds section (one block per group)."""
        from survey.sem.ordinal.summary import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        fm = self.measures
        state = "converged" if self.converged else "not converged"
        chisq = fm.get("chisq.scaled", fm["chisq"])
        head = (f"<p>{html.escape(str(self.estimator))} ({state}), N = {int(np.sum(self.nobs))}; "
                f"scaled \u03c7\u00b2 = {chisq:.3f}, df = {int(fm['df'])}</p>")
        return head + self.estimates().to_html(index=False, float_format=lambda v: f"{v:.3f}")
