"""A prepared model: parse and build once, refit many data sets (Monte Carlo replications, simulation).

:func:`survey.sem.fit` runs lavaan's whole ``lavaan()`` pipeline for every call: syntax -> parameter table
(lavaanify) -> RAM matrices -> sample statistics -> start values -> optimiser -> information/vcov -> tests ->
the baseline model, fit measures, standardized solution and result object. A simulation study refits the same
model to thousands of data sets and needs only the estimates, their standard errors and the model test.
:class:`PreparedModel` does the data-independent steps once (the parameter table over the groups,
:class:`~survey.sem.model.blocks.MultiGroupModel`, the degrees of freedom) and :meth:`PreparedModel.refit`
runs the same stage functions as the engine on each data set -- sample statistics per block
(:func:`~survey.sem.data.blocks.complete_block` / :func:`~survey.sem.data.blocks.missing_block`), the one
optimiser (:func:`~survey.sem.estimate.optimizer.estimate`), the estimator's information, vcov and scaled test
(:func:`survey.sem.engine.inference`) -- and skips the baseline model, fit measures, standardized solution and
the result object. The numbers are the full fit's (tests hold them to 1e-8).

Warm start: ``start`` (e.g. the population values, :meth:`PreparedModel.theta_from`) replaces lavaan's start
values; the optimum is the same (Fisher scoring converges to max |dF/dtheta| < 1e-9 from either), only fewer
iterations are needed. When the warm start does not converge, the fit is repeated from lavaan's start values,
as :func:`survey.sem.fit` would start, so a replication fails only where the full fit fails.

What is not prepared (explicit constraints ``==``/``<``/``>``, composites ``<~``, per-group ``c()`` vectors,
ordered items, bootstrap, sampling weights, other tests): :func:`supported` says so and the caller fits with
:func:`survey.sem.fit`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey import distributions as sps
from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.blocks import complete_block, missing_block
from survey.sem.data.moments import numeric_columns
from survey.sem.diagnostics import (
    check_convergence,
    check_identification,
    check_implied,
    check_sample,
)
from survey.sem.engine import block_start, check_options, inference
from survey.sem.estimate.optimizer import estimate, scoring
from survey.sem.inference.tests import n_moments
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.syntax.checks import check_partable_options, ram_table
from survey.sem.syntax.defined import check_definitions
from survey.sem.syntax.groups import group_partable, normalize_group_equal, normalize_group_partial

#: convergence of the warm-started scoring (max |dF/dtheta|): tighter than the engine's 1e-9, so the refit
#: sits nearer the optimum than the full fit itself and the two agree to the full fit's own error (a few 1e-9)
WARM_TOL = 1e-10
SE_KINDS = ("default", "standard", "robust", "robust.huber.white", "robust.sem", "first.order", "none")
#: options with which :func:`survey.sem.fit` takes another path (refused here: the caller uses ``fit``).
OTHER_PATH = ("bootstrap", "seed", "sampling_weights", "cluster", "ordered", "scheduler", "workers",
              "bollen_stine", "groups", "parameterization")


def supported(model: str, options: Mapping[str, Any]) -> bool:
    """True when :class:`PreparedModel` reproduces ``survey.sem.fit(model, data, **options)``."""
    try:
        PreparedModel(model, **dict(options))
    except (SurveyInputError, ValueError, TypeError, KeyError):
        return False
    return True


@dataclass
class Refit:
    """What a replication needs from one fit (theta in the estimated parameters, lavaan's ``coef()``)."""

    theta: np.ndarray
    vcov: np.ndarray
    converged: bool
    chisq: float
    df: float
    fml: float
    iterations: int
    nobs: int
    scaled: Any = None  # survey.sem.inference.tests.ScaledTest of MLR / MLM
    warnings: list = field(default_factory=list)  # survey.errors.SurveyWarning

    @property
    def se(self) -> np.ndarray:
        """sqrt(diag(vcov)); every se NaN when the vcov is (the information is singular)."""
        if self.vcov.size and np.isnan(self.vcov).any():
            return np.full(self.theta.size, np.nan)
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))

    @property
    def pvalue(self) -> float:
        """p of the (unscaled) likelihood-ratio test, chi-square with ``df``."""
        if not np.isfinite(self.chisq) or self.df <= 0:
            return float("nan")
        return float(sps.chi2.sf(max(self.chisq, 0.0), self.df))


class PreparedModel:
    """The data-independent part of ``survey.sem.fit(model, data, **options)`` (module docstring).

    ``groups``: the number of groups (blocks) of a multi-group fit, whose data :meth:`refit` takes as one
    array per group in the order of the groups (``survey.sem.fit(group=...)`` orders them by first
    appearance). The other options are :func:`survey.sem.fit`'s.
    """

    def __init__(self, model: str, *, groups: int = 1, estimator: str = "ML", missing: str = "listwise",
                 group_equal: Iterable[str] | str = (), group_partial: Iterable[str] | str = (),
                 se: str = "default", information: str | None = None, test: str = "standard",
                 **partable_options: Any) -> None:
        from survey.sem.observed import check_information_options
        from survey.sem.syntax.checks import check_path

        other = [k for k in OTHER_PATH if partable_options.get(k) not in (None, False, 0)]
        if other:
            raise ValueError(f"{other[0]}= takes another path of survey.sem.fit")
        for k in OTHER_PATH:
            partable_options.pop(k, None)
        self.estimator, self.missing = check_options(estimator, missing)
        info, _ = check_information_options(information or "expected", test)
        self.information = "default" if information is None else info
        self.se = str(se).lower()
        if self.se not in SE_KINDS:
            raise ValueError(f"se={se!r} takes another path of survey.sem.fit")
        check_partable_options(partable_options)
        check_path(model, group="g" if groups > 1 else None, missing=missing, plain_ml=False)
        self.model, self.groups = model, int(groups)
        self.group_equal = normalize_group_equal(group_equal)
        self.group_partial = normalize_group_partial(group_partial)
        if self.groups == 1 and self.group_equal:
            raise SurveyInputError("group_equal needs groups", field="group_equal")
        opts = dict(partable_options)
        ms = bool(opts.pop("meanstructure", False)) or self.groups > 1 or self.missing != "listwise"
        self.fixed_x = bool(opts.pop("fixed_x", True))
        pt = group_partable(model, self.groups, self.group_equal, self.group_partial, meanstructure=ms,
                            fixed_x=self.fixed_x, **opts)
        check_definitions(pt)
        if pt["op"].isin(["<~", "==", "<", ">"]).any():
            raise ValueError("composites and explicit constraints take another path of survey.sem.fit")
        self.meanstructure = bool((pt["op"] == "~1").any())
        self.partable = pt
        self.mg = MultiGroupModel.from_partable(ram_table(pt))
        self.ov: list[str] = list(self.mg.ov)
        self.x_names = list(self.mg.models[0].names.ov_x) if self.fixed_x else []
        self.x_index = [self.ov.index(v) for v in self.x_names]
        self.df = float(self.groups * n_moments(len(self.ov), len(self.x_names), self.meanstructure)
                        - self.mg.npar)
        self._exo = [bool((ram.partable["exo"] == 1).any()) for ram in self.mg.models]
        self._checks = [self._check_rows(ram) for ram in self.mg.models]
        free = pt[(pt["free"] > 0) & (pt["op"] != ":=")]
        #: (group, "lhs op rhs") -> index into theta, of every free parameter
        self.index: dict[tuple[int, str], int] = {
            (int(r.group), f"{r.lhs}{r.op}{r.rhs}"): int(r.free) - 1 for r in free.itertuples(index=False)}

    # ------------------------------------------------------------------ parameters
    def keys(self, group: int = 1) -> list[str]:
        """``lhs op rhs`` of the free parameters of ``group``, in parameter-table order."""
        return [k for (g, k) in self.index if g == group]

    def theta_from(self, values: Mapping[str, float]) -> np.ndarray:
        """theta with every free parameter at ``values["lhs op rhs"]`` (the same value in every group);
        NaN where ``values`` has none (use as a warm start only when complete)."""
        theta = np.full(self.mg.npar, np.nan)
        for (_, key), i in self.index.items():
            if key in values:
                theta[i] = float(values[key])
        return theta

    # ------------------------------------------------------------------ data
    def _arrays(self, data: Any) -> list[np.ndarray]:
        parts = data if isinstance(data, list | tuple) else [data]
        if len(parts) != self.groups:
            raise SurveyInputError(f"the prepared model has {self.groups} group(s), the data {len(parts)}",
                                   field="data")
        out = []
        for part in parts:
            if isinstance(part, pd.DataFrame):
                x = numeric_columns(part, self.ov).to_numpy(dtype=float, copy=True)
            else:  # an array whose columns are the observed variables in the model's order (self.ov)
                x = np.array(part, dtype=float)
                if x.ndim != 2 or x.shape[1] != len(self.ov):
                    raise SurveyInputError(f"data must have {len(self.ov)} columns ({', '.join(self.ov)})",
                                           field="data")
            x[~np.isfinite(x)] = np.nan
            out.append(x)
        return out

    def blocks(self, data: Any) -> tuple[list, list]:
        """Sample statistics per group block (as :func:`survey.sem.data.blocks.build_blocks`), warnings."""
        warnings: list = []
        blocks = []
        labels = [""] if self.groups == 1 else [str(g) for g in range(1, self.groups + 1)]
        for label, x in zip(labels, self._arrays(data), strict=True):
            if self.missing == "listwise":
                blocks.append(complete_block(x, self.ov, self.x_index, label))
            else:
                blocks.append(missing_block(x, self.ov, self.x_index, label, warnings))
        return blocks, warnings

    # ------------------------------------------------------------------ the fit
    def refit(self, data: Any, start: np.ndarray | None = None) -> Refit:
        """Fit the prepared model to ``data`` (a DataFrame, an array in :attr:`ov` order, or one of either
        per group) from ``start`` (default: lavaan's start values, which also fill its NaN entries); see
        the module docstring."""
        mg = self.mg
        blocks, warnings = self.blocks(data)
        for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
            if self._exo[i]:  # fixed.x covariates at this data set's sample moments
                ram.set_exogenous(b.cov, b.mean)
            q_g = int(np.count_nonzero(mg.k[mg.index[i], :].any(axis=0)))
            for w in check_sample(b.cov, ram.ov, b.n, q_g):
                prefix = f"group {b.label}: " if self.groups > 1 else ""
                warnings.append(SurveyWarning(w.code, prefix + w.message, w.stage))
        estimation = None
        if start is not None and np.isfinite(start).any() and mg.npar:
            start = np.asarray(start, dtype=float)
            if not np.all(np.isfinite(start)):  # e.g. intercepts a population leaves out: lavaan's start
                start = np.where(np.isfinite(start), start, block_start(mg, blocks))
            estimation = scoring(mg, blocks, start, tol=WARM_TOL)
        if estimation is None or not estimation.converged:  # lavaan's start values, the engine's sequence
            estimation = estimate(mg, blocks, block_start(mg, blocks))
        warnings += check_convergence(estimation.converged, estimation.iterations, estimation.message)
        n = sum(b.n for b in blocks)
        q = mg.npar
        vcov, scaled, singular = np.full((q, q), np.nan), None, False
        if np.isfinite(estimation.fml):
            info, scaled = inference(self.estimator, self.missing, mg, blocks, estimation.theta, self.df,
                                     self.se, self.information)
            if info is not None:
                vcov, singular = info.vcov, info.singular
        warnings += check_identification(singular)
        stat = n * estimation.fml
        if any(not np.isfinite(b.h1_logl) for b in blocks):  # FIML: singular EM h1 (as the engine)
            stat = float("nan")
            warnings.append(SurveyWarning("h1_singular", "the saturated (h1) model could not be estimated "
                                          "(singular EM covariance matrix): no chi-square test", "sem"))
        theta = np.asarray(estimation.theta, dtype=float)
        warnings += self._solution_warnings(theta)
        return Refit(theta=theta, vcov=np.asarray(vcov, dtype=float), converged=bool(estimation.converged),
                     chisq=float(stat), df=self.df, fml=float(estimation.fml),
                     iterations=int(estimation.iterations), nobs=int(n), scaled=scaled, warnings=warnings)

    @staticmethod
    def _check_rows(ram: Any) -> dict[str, Any]:
        """Rows of one block's table that the solution checks read: variances and loadings."""
        pt = ram.partable
        op, lhs, rhs = pt["op"].to_numpy(), pt["lhs"].to_numpy(), pt["rhs"].to_numpy()
        var = np.flatnonzero((op == "~~") & (lhs == rhs))
        load = np.flatnonzero(op == "=~")
        return {"var": var, "var_names": [str(v) for v in lhs[var]], "load": load,
                "load_f": np.array([ram.index[v] for v in lhs[load]], dtype=int),
                "load_x": np.array([ram.index[v] for v in rhs[load]], dtype=int),
                "load_names": [(str(a), str(b)) for a, b in zip(lhs[load], rhs[load], strict=True)]}

    def _solution_warnings(self, theta: np.ndarray) -> list:
        """The result object's checks of the solution: implied moments not positive definite, negative
        variances (Heywood), standardized loadings above 1 (:mod:`survey.sem.diagnostics`)."""
        mg = self.mg
        full = mg.k @ theta
        out: list = []
        for i, (ram, rows) in enumerate(zip(mg.models, self._checks, strict=True)):
            local = mg.local(full, i)
            imp = ram.implied(local)
            prefix = "" if self.groups == 1 else f"group {i + 1}: "
            for w in check_implied(imp.sigma, imp.sigma_all, ram.p, ram.lv):
                out.append(SurveyWarning(w.code, prefix + w.message, w.stage))
            values = ram.parameter_values(local)
            for name, v in zip(rows["var_names"], values[rows["var"]], strict=True):
                if v < 0:
                    out.append(SurveyWarning("heywood", f"Negative variance estimate for {name} ({v:.3f}): a "
                                             "Heywood case. The model may be misspecified, over-factored or "
                                             "the sample too small.", "sem"))
            if rows["load"].size:
                sd = np.sqrt(np.clip(np.diag(imp.sigma_all), 0, None))
                sx = sd[rows["load_x"]]
                with np.errstate(divide="ignore", invalid="ignore"):
                    std = np.where(sx > 0, values[rows["load"]] * sd[rows["load_f"]] / sx, np.nan)
                for (f, x), v in zip(rows["load_names"], std, strict=True):
                    if np.isfinite(v) and abs(v) > 1:
                        out.append(SurveyWarning("std_loading_gt1", f"Standardized loading of {x} on {f} is "
                                                 f"{v:.3f} (> 1 in absolute value): an improper solution.",
                                                 "sem"))
        return out
