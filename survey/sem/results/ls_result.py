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
conditional.x = TRUE: s are the statistics of y given x and W their weight (survey.sem.estimate.
wls_conditional), k their count; the RMR / SRMR family on the residual moments of y given x (as ML's).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from survey.sem.inference.tests import ScaledTest
from survey.sem.measures.measures import scaled_measures, standard_measures
from survey.sem.results.result import SEMResult

NO_LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2", "scaling.factor.h1", "scaling.factor.h0")


class LSResult(SEMResult):
    """A GLS / ULS / DWLS / WLS fit (module notes)."""

    ls_fit = None
    n_equality = 0  # explicit equality constraints (survey.sem.ls_constrained): npar - their rank
    scaled_baseline = None  # test="satorra.bentler" / "scaled.shifted": the baseline's ScaledTest
    browne_test = None  # test="browne.residual.adf" / ".nt": lavaan's second test entry
    least_squares = True  # survey.sem.fit_report: --residuals from survey.sem.results.ls_residuals
    e_inv = None  # explicit constraints: the augmented inverse of the unit information

    def tests(self) -> dict[str, dict]:
        """lavaan's ``lavInspect(fit, "test")``: the standard test, its p-value NA under ULS (lavaan's
        refdistr "unknown")."""
        f = self._fit
        uls = self.estimator == "ULS"
        out = {"standard": {"test": "standard", "stat": float(f["chisq"]), "df": float(f["df"]),
                            "refdistr": "unknown" if uls else "chisq",
                            "pvalue": float("nan") if uls else float(f["pvalue"])}}
        if getattr(self, "browne_test", None):  # test="browne.residual.*" (survey.sem.results.ls_browne)
            out[self.browne_test["test"]] = dict(self.browne_test)
        st = getattr(self, "scaled_baseline", None) and self.scaled_test
        if st:  # lavaan's second test (survey.sem.inference.ls_robust)
            out[st.method] = {"test": st.method, "stat": st.stat_scaled, "df": st.dfs,
                              "pvalue": st.pvalue_scaled, "trace.UGamma": st.trace,
                              "scaling.factor": st.scaling_factor}
            if st.method == "scaled.shifted":
                out[st.method].update({"trace.UGamma2": st.trace2, "shift.parameter": st.shift})
            if st.method == "mean.var.adjusted":
                out[st.method]["trace.UGamma2"] = st.trace2
        return out

    def score_tests(self):
        """lavaan's ``lavTestScore(fit)$uni`` (:func:`survey.sem.results.ls_modindices.ls_score_tests`)."""
        from survey.sem.conditional_x import refuse_conditional
        from survey.sem.results.ls_modindices import ls_score_tests

        refuse_conditional(self, "score tests")
        return ls_score_tests(self)

    def _implied(self) -> list:
        return [ram.implied(self.mg.local(self.theta_full, g)) for g, ram in enumerate(self.mg.models)]

    @cached_property
    def _fit(self) -> dict[str, float]:
        blocks = [_Unbiased(b) for b in self.stats.groups]
        n, ms = self.nobs, self.mg.meanstructure
        imps = self._implied()
        out = standard_measures(t=max(float(self.pieces.stat), 0.0), df=self.pieces.df, tb=self.baseline.stat,
                                dfb=self.baseline.df, logl=float("nan"), logl_h1=float("nan"),
                                npar=self.mg.npar - self.n_equality, n=n - len(blocks), blocks=blocks,
                                sigmas=[imp.sigma for imp in imps], means=[imp.mean for imp in imps],
                                meanstructure=ms)
        out["fmin"] = float(self.pieces.stat) / (2.0 * n)
        if getattr(self, "scaled_baseline", None) is not None:  # lavaan's .scaled / .robust measures
            st, sb = self.scaled_test, self.scaled_baseline
            # scaled.shifted: lavaan's .robust CFI / TLI / RNI / RMSEA take the Satorra-Bentler factor
            robust = [ScaledTest("satorra.bentler", x.stat, x.df, x.trace, x.trace / x.df) for x in (st, sb)]
            out.update(scaled_measures(st, sb, n - len(blocks), len(blocks), robust=robust[0],
                                       robust_base=robust[1]))
            if st.method == "mean.var.adjusted":  # lavaan 0.6.14: NA
                out["rfi.scaled"] = out["nfi.scaled"] = float("nan")
            cond = any(getattr(b, "conditional_x", False) for b in self.stats.groups)
            unit = min(abs(robust[0].scaling_factor - 1), abs(robust[1].scaling_factor - 1)) < 1e-10
            if (st.method == "satorra.bentler" and min(abs(st.scaling_factor - 1),
                                                       abs(sb.scaling_factor - 1)) < 1e-10) or (
                    cond and st.method == "scaled.shifted" and unit):
                # lavaan 0.6.14 (lav_fit_cfi & co.) takes the robust formulas only when c.hat != 1 and
                # c.hat.null != 1, exactly; DWLS's baseline has tr(U Gamma) = df (c.hat.null 1): the
                # standard CFI / TLI / NNFI / RNI then. Under scaled.shifted lavaan's c.hat.null is
                # a (df - b) / df, 1 only up to rounding (robust formulas here; lavaan's rounding can
                # give exactly 1 and the standard values: tests/test_ls_robust_groups.py). Under
                # conditional.x (DWLS baseline of y given x, c.hat.null = tr / df = 1) lavaan 0.6.14 gave
                # the standard values in both cases checked (tests/fixtures/conditional_x_mlm): so here
                out.update({f"{k}.robust": out[k] for k in ("cfi", "tli", "nnfi", "rni")})
        if self.estimator == "ULS":  # lavaan: NA (its ULS statistic is not referred to a chi-square)
            out["pvalue"] = out["baseline.pvalue"] = float("nan")
        return {k: v for k, v in out.items() if k not in NO_LIKELIHOOD}

    @cached_property
    def _fit_all(self) -> dict[str, float]:
        from survey.sem.results.fit_adapter import ORDER
        from survey.sem.results.fit_more import GroupMoments, more_fit_measures

        core = self._fit
        ms = self.mg.meanstructure
        blocks = [_Unbiased(b) for b in self.stats.groups]
        imps = self._implied()
        moments = [_conditional_moments(b, imp) if b.conditional_x else
                   GroupMoments(b.cov, imp.sigma, b.n - 1, b.mean if ms else None, imp.mean if ms else None)
                   for b, imp in zip(blocks, imps, strict=True)]
        scaled = None
        if "chisq.scaled" in core:
            scaled = {k: core[k] for k in ("chisq.scaled", "baseline.chisq.scaled", "chisq.scaling.factor",
                                           "df.scaled", "baseline.df.scaled")}
            scaled["method"] = self.scaled_test.method
        extra = more_fit_measures(moments, chisq=core["chisq"], df=core["df"],
                                  baseline_chisq=core["baseline.chisq"], baseline_df=core["baseline.df"],
                                  npar=int(core["npar"]), scaled=scaled)
        merged = {**extra, **core, "srmr": extra["srmr_bentler"], **self._gfi(blocks, imps)}
        merged = {k: v for k, v in merged.items() if k not in (*NO_LIKELIHOOD, "ntotal")}  # no ntotal either
        return {k: float(merged[k]) for k in ORDER if k in merged}

    def _gfi(self, blocks: list, imps: list) -> dict[str, float]:
        """GFI, AGFI, PGFI with the estimator's weight (module notes); with groups the N_g-weighted mean of
        the groups' GFI and k summed over the groups (lavaan ``lav_fit_gfi``)."""
        from survey.sem.estimate.wls import fixed_x_moments, sample_moments, weight_matrix

        ms = self.mg.meanstructure
        gfis, ns, k = [], [], 0
        for raw, block, imp in zip(self.stats.groups, blocks, imps, strict=True):
            if block.conditional_x:  # y given x: the statistics of estimate.wls_conditional, their W
                from survey.sem.data.conditional import conditional_stats
                from survey.sem.estimate import wls_conditional as wc

                s = wc.conditional_moments(raw, block.cov)
                e = s - conditional_stats(imp.sigma, imp.mean, list(raw.x_index))
                w = wc.conditional_ls_weight(self.estimator, raw)
                gfis.append(1.0 - float(e @ w @ e) / float(s @ w @ s))
                ns.append(block.n)
                k += len(s)
                continue
            # fixed.x: lavaan 0.6.14 leaves the covariates' moments out of its GFI, except under ULS (its
            # identity weight keeps them; checked on tests/fixtures/engine/ls_more.json mimic3_fixedx_*)
            x_index = [] if self.estimator == "ULS" else list(raw.x_index)
            keep = ~fixed_x_moments(len(self.mg.ov), x_index, ms)
            s = sample_moments(raw, ms)[keep]
            e = s - sample_moments_of(imp, ms)[keep]
            w = weight_matrix(self.estimator, raw, ms)[np.ix_(keep, keep)]
            gfis.append(1.0 - float(e @ w @ e) / float(s @ w @ s))
            ns.append(block.n)
            k += len(keep)  # lavaan's k counts the fixed.x moments too
        gfi = float(np.dot(gfis, ns) / np.sum(ns))
        df = float(self.pieces.df)
        return {"gfi": gfi, "agfi": 1.0 - k / df * (1.0 - gfi) if df > 0 else 1.0, "pgfi": df / k * gfi}

    def modindices(self, minimum_value: float = 0.0, sort: bool = False):
        """lavaan's ``modindices()`` of the least-squares fit (:mod:`survey.sem.results.ls_modindices`)."""
        from survey.sem.conditional_x import refuse_conditional
        from survey.sem.results.ls_modindices import ls_modification_indices

        refuse_conditional(self, "modindices()")
        out = ls_modification_indices(self)
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)


def sample_moments_of(imp, meanstructure: bool) -> np.ndarray:
    """The implied (mu', vech(Sigma)')' of one group (mu only under a mean structure)."""
    from survey.sem.model.moments import vech_index

    rows, cols = vech_index(imp.sigma.shape[0])
    sigma = imp.sigma[rows, cols]
    return np.concatenate([imp.mean, sigma]) if meanstructure else sigma


class _Unbiased:
    """A complete-data block seen with its covariance matrix of divisor N - 1 (module notes)."""

    def __init__(self, block) -> None:
        self.n = block.n
        from survey.sem.estimate.wls import sample_cov

        self.cov = sample_cov(block)  # sampling weights: lavaan's weighted S (divisor sum w)
        self.mean = block.mean
        self.x_index: list[int] = []  # fixed.x = FALSE: no fixed covariates
        self.conditional_x = bool(getattr(block, "conditional_x", False))  # y given x: its SRMR
        if self.conditional_x:
            self.x_index = list(block.x_index)


def _conditional_moments(block: _Unbiased, imp):
    """GroupMoments of y given x (lavaan's res.cov, res.int from S of divisor N - 1), as the ML fits'
    (survey.sem.results.fit_adapter.group_moments)."""
    from survey.sem.conditional_x import residual_moments
    from survey.sem.results.fit_more import GroupMoments

    joint = (block.cov, imp.sigma, block.mean, imp.mean, tuple(block.x_index))
    s, sigma, m_s, m_sigma = residual_moments(*joint)
    return GroupMoments(s, sigma, block.n - 1, m_s, m_sigma, joint=joint)
