"""The result of a continuous least-squares fit (GLS / ULS / DWLS / WLS, :mod:`survey.sem.ls_route`):
:class:`survey.sem.results.result.SEMResult` with lavaan 0.6.14's fit measures for these estimators.

lavaan (``lav_fit_measures``) gives no likelihood for them: logl, unrestricted.logl, aic, bic, bic2
(and ntotal) are absent; under ULS the p-values of the test and of the baseline test are NA. Its
chi-square is (N - 1) F (survey.sem.estimate.wls), fmin = chisq / (2 N); RMSEA, its confidence interval
and p-values, CN, ECVI and MFI use N - 1 as the sample size; RMR / SRMR / CRMR use the sample covariance
matrix with divisor N - 1 (lavaan's sample statistics for these estimators) against the implied Sigma.
GFI weighs the residuals by the estimator's own W (lavaan ``lav_fit_gfi``, Joreskog & Sorbom 1984):
GFI = 1 - e'We / s'Ws, e = s - vech(Sigma), s = vech(S); AGFI = 1 - (k / df)(1 - GFI) and
PGFI = (df / k) GFI, k = p(p + 1) / 2 (Mulaik et al. 1989).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from survey.sem.measures.measures import standard_measures
from survey.sem.results.result import SEMResult

NO_LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2", "scaling.factor.h1", "scaling.factor.h0")


class LSResult(SEMResult):
    """A GLS / ULS / DWLS / WLS fit (module notes)."""

    ls_fit = None
    least_squares = True  # survey.sem.fit_report refuses --residuals for it

    def tests(self) -> dict[str, dict]:
        """lavaan's ``lavInspect(fit, "test")``: the standard test, its p-value NA under ULS (lavaan's
        refdistr "unknown")."""
        f = self._fit
        uls = self.estimator == "ULS"
        return {"standard": {"test": "standard", "stat": float(f["chisq"]), "df": float(f["df"]),
                             "refdistr": "unknown" if uls else "chisq",
                             "pvalue": float("nan") if uls else float(f["pvalue"])}}

    def score_tests(self):
        """lavaan's ``lavTestScore(fit)$uni`` (:func:`survey.sem.results.ls_modindices.ls_score_tests`)."""
        from survey.sem.results.ls_modindices import ls_score_tests

        return ls_score_tests(self)

    @cached_property
    def _fit(self) -> dict[str, float]:
        block = self.stats.groups[0]
        n = self.nobs
        imp = self.mg.models[0].implied(self.mg.local(self.theta_full, 0))
        out = standard_measures(t=max(float(self.pieces.stat), 0.0), df=self.pieces.df, tb=self.baseline.stat,
                                dfb=self.baseline.df, logl=float("nan"), logl_h1=float("nan"),
                                npar=self.mg.npar, n=n - 1, blocks=[_Unbiased(block)], sigmas=[imp.sigma],
                                means=[None], meanstructure=False)
        out["fmin"] = float(self.pieces.stat) / (2.0 * n)
        if self.estimator == "ULS":  # lavaan: NA (its ULS statistic is not referred to a chi-square)
            out["pvalue"] = out["baseline.pvalue"] = float("nan")
        return {k: v for k, v in out.items() if k not in NO_LIKELIHOOD}

    @cached_property
    def _fit_all(self) -> dict[str, float]:
        from survey.sem.results.fit_adapter import ORDER
        from survey.sem.results.fit_more import GroupMoments, more_fit_measures

        core = self._fit
        block = _Unbiased(self.stats.groups[0])
        imp = self.mg.models[0].implied(self.mg.local(self.theta_full, 0))
        extra = more_fit_measures([GroupMoments(block.cov, imp.sigma, block.n - 1)], chisq=core["chisq"],
                                  df=core["df"], baseline_chisq=core["baseline.chisq"],
                                  baseline_df=core["baseline.df"], npar=int(core["npar"]))
        merged = {**extra, **core, "srmr": extra["srmr_bentler"], **self._gfi(block.cov, imp.sigma)}
        merged = {k: v for k, v in merged.items() if k not in (*NO_LIKELIHOOD, "ntotal")}  # no ntotal either
        return {k: float(merged[k]) for k in ORDER if k in merged}

    def _gfi(self, cov: np.ndarray, sigma: np.ndarray) -> dict[str, float]:
        """GFI, AGFI, PGFI with the estimator's weight (module notes)."""
        from survey.sem.estimate.wls import weight_matrix
        from survey.sem.model.moments import vech_index

        rows, cols = vech_index(cov.shape[0])
        s, e = cov[rows, cols], (cov - sigma)[rows, cols]
        w = weight_matrix(self.estimator, self.stats.groups[0])
        gfi = 1.0 - float(e @ w @ e) / float(s @ w @ s)
        k, df = len(s), float(self.pieces.df)
        return {"gfi": gfi, "agfi": 1.0 - k / df * (1.0 - gfi) if df > 0 else 1.0, "pgfi": df / k * gfi}

    def modindices(self, minimum_value: float = 0.0, sort: bool = False):
        """lavaan's ``modindices()`` of the least-squares fit (:mod:`survey.sem.results.ls_modindices`)."""
        from survey.sem.results.ls_modindices import ls_modification_indices

        out = ls_modification_indices(self)
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)


class _Unbiased:
    """A complete-data block seen with its covariance matrix of divisor N - 1 (module notes)."""

    def __init__(self, block) -> None:
        self.n = block.n
        from survey.sem.estimate.wls import sample_cov

        self.cov = sample_cov(block)  # sampling weights: lavaan's weighted S (divisor sum w)
        self.mean = block.mean
        self.x_index: list[int] = []  # fixed.x = FALSE: no fixed covariates
