"""``BlockResult``: the result of :func:`survey.sem.engine.fit_blocks` (any estimator, missing-data
treatment, number of groups); lavaan's ``parameterEstimates()``/``fitMeasures()`` names.

It extends the multi-group result (estimates with the ``group`` column, score tests, per-group R-square)
with the pipeline's own information, tests and fit measures; a single-group fit (``group=None``) prints
and exports as one group (no ``group`` columns, R-square as one mapping).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from survey.sem.inference.tests import ScaledTest
from survey.sem.measures.fiml import fiml_corrected
from survey.sem.measures.measures import scaled_measures, standard_measures
from survey.sem.mgresult import MultiGroupResult


class BlockResult(MultiGroupResult):
    """Result of one fit over group blocks (plain object holding pandas DataFrames)."""

    def __init__(self, *, missing: str, pieces, baseline, **kwargs) -> None:
        self.missing = missing
        self.pieces = pieces
        self.baseline = baseline
        info = pieces.info
        vcov = info.vcov if info is not None else None
        self.information = info
        self.scaled_test: ScaledTest | None = pieces.scaled
        kwargs["group"] = kwargs.get("group") or ""
        super().__init__(vcov=vcov, robust=None, **kwargs)
        self.single = not self.group

    # ------------------------------------------------------------------ fit measures
    @cached_property
    def _fit(self) -> dict[str, float]:
        mg, blocks = self.mg, self.stats.groups
        sigmas, means = [], []
        logl = 0.0
        logl_h1 = 0.0
        for i, (ram, b) in enumerate(zip(mg.models, blocks, strict=True)):
            imp = ram.implied(mg.local(self.theta_full, i))
            sigmas.append(imp.sigma)
            means.append(imp.mean if imp.mean is not None else b.mean)
            logl += b.loglik(imp.sigma, means[-1])
            logl_h1 += b.h1_logl
            if b.x_index:  # fixed.x: conditional on the covariates (lavaan)
                nx = len(b.x_index)
                s_xx = b.cov[np.ix_(b.x_index, b.x_index)]
                logl_x = -0.5 * b.n * (nx * np.log(2 * np.pi) + np.linalg.slogdet(s_xx)[1] + nx)
                logl, logl_h1 = logl - logl_x, logl_h1 - logl_x
        t = max(float(self.pieces.stat), 0.0)
        out = standard_measures(
            t=t,
            df=self.pieces.df,
            tb=self.baseline.stat,
            dfb=self.baseline.df,
            logl=logl,
            logl_h1=logl_h1,
            npar=mg.npar,
            n=self.nobs,
            blocks=blocks,
            sigmas=sigmas,
            means=means,
            meanstructure=mg.meanstructure,
        )
        robust = robust_b = None
        if self.missing != "listwise":
            version = "V3" if self.estimator == "MLR" else "V6"
            try:
                (t3, c3), (t3b, c3b) = fiml_corrected(
                    [
                        (mg, self.theta, self.pieces.df),
                        (self.baseline.mg, self.baseline.theta, self.baseline.df),
                    ],
                    blocks,
                    version,
                )
                robust = ScaledTest("fiml.corrected", t3, self.pieces.df, c3 * self.pieces.df, c3)
                robust_b = ScaledTest("fiml.corrected", t3b, self.baseline.df, c3b * self.baseline.df, c3b)
            except np.linalg.LinAlgError:
                robust = robust_b = None
        test, base = self.pieces.scaled, self.baseline.scaled
        if test is not None and base is not None:
            out.update(
                scaled_measures(test, base, self.nobs, len(blocks), robust=robust, robust_base=robust_b)
            )
        elif robust is not None:
            one = ScaledTest("standard", t, self.pieces.df, self.pieces.df, 1.0)
            oneb = ScaledTest("standard", self.baseline.stat, self.baseline.df, self.baseline.df, 1.0)
            extra = scaled_measures(one, oneb, self.nobs, len(blocks), robust=robust, robust_base=robust_b)
            out.update({k: v for k, v in extra.items() if k.endswith(".robust")})
        return out

    def fit_measures(self, names: list[str] | None = None) -> dict[str, float]:
        out = dict(self._fit)
        return out if names is None else {k: out[k] for k in names}

    # ------------------------------------------------------------------ single-group views
    def estimates(self, standardized: bool = True) -> pd.DataFrame:
        out = super().estimates(standardized)
        if self.single:
            out = out.drop(columns=["group", "group.label"])
        return out

    def r2(self):
        out = super().r2()
        return next(iter(out.values())) if self.single else out

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.single:
            for k in ("group", "group_labels", "nobs_groups", "group_equal", "group_partial"):
                out.pop(k, None)
        out["missing"] = self.missing
        return out
