"""Ordered items with observed exogenous covariates x: lavaan's ``conditional.x = TRUE`` (its default
for categorical data), one group, delta parameterization.

The sample statistics are conditional on x (:mod:`survey.sem.ordinal.probit`): thresholds, slopes of the
items' latent responses on x and residual correlations. The model side (lavaan ``lav_model_implied``
with ``conditional.x``): with the RAM covariance Sigma of (y*, x) — x's (co)variances fixed at their
sample values (lavaan's ``cov.x``, :func:`covariate_moments`) — the implied slopes and residual
covariance are

    Pi = Sigma_yx Sigma_xx^-1,     Sigma_y|x = Sigma_yy - Pi Sigma_xy

(= Lambda (I - B)^-1 Gamma and the residual part, independent of Sigma_xx), and under the delta
parameterization the items' residual variances are not free: diag Sigma_y|x = 1 (``theta_ii = 1 -
[Lambda Psi Lambda']_ii`` of the residual structure). The statistics m(theta) = [tau, vec(Pi), vech(
Sigma_y|x, diagonal = FALSE)]; their Jacobian from the RAM derivatives dSigma:
``dPi = (dSigma_yx - Pi dSigma_xx) Sigma_xx^-1``, ``dSigma_y|x = dSigma_yy - dSigma_yx Pi' - Pi dSigma_xy +
Pi dSigma_xx Pi'``. The rest — DWLS / WLS objective, sandwich SEs, scaled tests, fit measures — is the
fit without covariates (:mod:`survey.sem.ordinal.fit`); the baseline model keeps thresholds and slopes
free. Under the theta parameterization the items' residual variances are fixed at 1 and the statistics
are those of Delta y*, ``Delta_i = 1 / sqrt([Sigma_y|x]_ii)``: ``Delta tau``, ``Delta Pi`` and the
correlations of Sigma_y|x (the same chain rule as :mod:`survey.sem.ordinal.objective`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.ordinal._engine import RAMModel
from survey.sem.ordinal.objective import Moments, OrdinalStructure
from survey.sem.ordinal.probit import conditional_statistics
from survey.sem.ordinal.thresholds import encode


class ConditionalStructure(OrdinalStructure):
    """The map theta -> (thresholds, slopes, residual correlations) (module docstring)."""

    def __init__(self, partable: pd.DataFrame, nthresholds: list[int], covariates: list[str],
                 parameterization: str = "delta"):
        ov = list(RAMModel(partable).ov)
        super().__init__(partable, nthresholds, "delta", np.isin(ov, covariates))
        self.parameterization = parameterization
        self.x_idx = np.array([ov.index(v) for v in covariates], dtype=int)
        self.y_idx = np.array([k for k, v in enumerate(ov) if v not in set(covariates)], dtype=int)
        if not np.array_equal(self.y_idx, np.arange(self.y_idx.size)):
            raise SurveyInputError("the covariates must follow the items in the model's variables",
                                   field="model")  # pragma: no cover - lavaanify puts ov.x last
        self.q = self.x_idx.size
        # the item statistics only: p items, their pairs; thresholds and slopes are the univariate part
        self.p = self.y_idx.size
        from survey.sem.ordinal.polychoric import pair_index

        self.ii, self.jj = pair_index(self.p)
        self.numeric = np.zeros(self.p, bool)
        self.nslopes = self.p * self.q
        self.nuni = self.nth + self.nslopes
        self.nstat = self.nuni + self.ii.size

    def _parts(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, x = self.y_idx, self.x_idx
        pi = np.linalg.solve(sigma[np.ix_(x, x)], sigma[np.ix_(x, y)]).T  # (p, q)
        cond = sigma[np.ix_(y, y)] - pi @ sigma[np.ix_(x, y)]
        return pi, cond

    def conditional_sigma(self, t_ram: np.ndarray) -> np.ndarray:
        """Sigma_y|x at the RAM parameters (before the delta map sets its diagonal to 1)."""
        return self._parts(self.ram.implied(t_ram).sigma)[1]

    def moments(self, theta: np.ndarray) -> Moments:
        t_ram, tau = self.split(theta)
        pi, cond = self._parts(self.ram.implied(t_ram).sigma)
        if self.parameterization == "delta":
            cond = cond.copy()
            cond[np.diag_indices(self.p)] = 1.0
            scale = np.ones(self.p)
        else:  # theta: Delta_i = 1 / sqrt([Sigma_y|x]_ii), the statistics of Delta y*
            scale = 1.0 / np.sqrt(np.diag(cond))
            cond = cond * np.outer(scale, scale)
            pi = pi * scale[:, None]
            tau = tau * scale[self.th_var]
        stats = np.concatenate([tau, pi.T.ravel(), cond[self.ii, self.jj]])
        return Moments(stats, cond, scale)

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        t_ram, _ = self.split(theta)
        imp = self.ram.implied(t_ram)
        d_sigma = self.ram.delta(t_ram, imp)  # (npar_ram, P, P)
        y, x = self.y_idx, self.x_idx
        pi, _ = self._parts(imp.sigma)
        sxx_inv = np.linalg.inv(imp.sigma[np.ix_(x, x)])
        d_yx = d_sigma[:, y][:, :, x]
        d_xx = d_sigma[:, x][:, :, x]
        d_yy = d_sigma[:, y][:, :, y]
        d_pi = (d_yx - pi @ d_xx) @ sxx_inv  # (npar_ram, p, q)
        d_cond = d_yy - d_yx @ pi.T - pi @ d_yx.transpose(0, 2, 1) + pi @ d_xx @ pi.T
        out = np.zeros((self.nstat, self.npar))
        if self.parameterization == "theta":  # the chain rule through Delta (module docstring)
            _, cond = self._parts(imp.sigma)
            scale = 1.0 / np.sqrt(np.diag(cond))
            half_rel = np.einsum("kii->ki", d_cond) / (2.0 * np.diag(cond))  # d log sqrt(cond_ii)
            tau = self.split(theta)[1]
            tau_star = tau * scale[self.th_var]
            out[: self.nth, self.npar_ram :] = np.diag(scale[self.th_var])
            out[: self.nth, : self.npar_ram] = (-tau_star * half_rel[:, self.th_var]).T
            pi_star = pi * scale[:, None]
            d_pi = d_pi * scale[None, :, None] - pi_star[None] * half_rel[:, :, None]
            rho = cond[self.ii, self.jj] * scale[self.ii] * scale[self.jj]
            d_rho = (d_cond[:, self.ii, self.jj] * (scale[self.ii] * scale[self.jj])
                     - rho * (half_rel[:, self.ii] + half_rel[:, self.jj]))
        else:
            out[: self.nth, self.npar_ram :] = np.eye(self.nth)
            d_rho = d_cond[:, self.ii, self.jj]
        out[self.nth : self.nuni, : self.npar_ram] = d_pi.transpose(0, 2, 1).reshape(self.npar_ram, -1).T
        out[self.nuni :, : self.npar_ram] = d_rho.T
        return out


def check(numeric: tuple[str, ...]) -> None:
    """The combinations of covariates this fit does not take yet."""
    if numeric:
        raise SurveyInputError("observed covariates with ordered and continuous variables together are not "
                               "available yet (available: every item ordered)", field="ordered")


@dataclass
class CovariateData:
    """Complete cases of the items (codes) and the covariates."""

    codes: object  # OrdinalCodes
    x: np.ndarray
    covariates: list[str]
    weights: np.ndarray | None = None  # sampling weights, normalised to sum to N


def covariate_data(data: pd.DataFrame, items: list[str], covariates: list[str], missing: str,
                   weights: tuple[str | None, str] = (None, "total")) -> CovariateData:
    """Listwise complete cases on items and covariates (lavaan's default; with ``missing="pairwise"`` the
    cases observed on the covariates, each item or pair from its observed cases); the covariates numeric; the
    sampling weights of those cases rescaled to sum to their number (lavaan's "total" / "group")."""
    if missing not in ("listwise", "pairwise"):
        raise SurveyInputError(f"missing={missing!r} is not available for ordered items (available: "
                               "listwise, pairwise)", field="missing")
    absent = [c for c in covariates if c not in data.columns]
    if absent:
        raise SurveyInputError("covariate not found in the data", column=absent[0], field="model")
    x = data[covariates].apply(pd.to_numeric, errors="coerce")
    bad = x.isna() & data[covariates].notna()
    if bad.to_numpy().any():
        row, col = map(int, np.argwhere(bad.to_numpy())[0])
        raise SurveyInputError("a covariate must be numeric", row=row + 1, column=covariates[col],
                               value=str(data[covariates[col]].iloc[row]))
    all_codes = encode(data, items)
    keep = x.notna().all(axis=1).to_numpy().copy()  # cases missing a covariate are deleted
    if missing == "listwise":
        keep &= (all_codes.codes >= 0).all(axis=1)
    codes = encode(data.loc[keep], items)
    codes = codes.complete() if missing == "listwise" else codes
    if codes.n < 2:
        raise SurveyInputError("fewer than two complete cases on the ordered items and covariates",
                               field="data")
    xs = x.loc[keep].to_numpy(dtype=float)
    for k, name in enumerate(covariates):
        if np.ptp(xs[:, k]) == 0:
            raise SurveyInputError("a covariate has no variance in the cases used", column=name,
                                   value=float(xs[0, k]), field="model")
    if xs.shape[1] > 1 and np.linalg.matrix_rank(xs - xs.mean(axis=0)) < xs.shape[1]:
        raise SurveyInputError("the covariates are collinear in the cases used", column=covariates[-1],
                               field="model")
    w = None
    if weights[0]:
        from survey.sem.data.weighted import design_from

        w = design_from(data, weights[0], None, weights[1]).weights[keep]
        w = w if weights[1] == "none" else w * w.size / w.sum()
    return CovariateData(codes, xs, list(covariates), w)


def conditional_sample(data: pd.DataFrame, items: list[str], covariates: list[str], missing: str,
                       weights: tuple[str | None, str] = (None, "total")):
    """The fit's :class:`~survey.sem.ordinal.fit.SampleStatistics` with the slopes (module docstring)."""
    from survey.sem.ordinal.polychoric import as_matrix
    from survey.sem.ordinal.sample import SampleStatistics

    cd = covariate_data(data, items, covariates, missing, weights)
    st = conditional_statistics(cd.codes.codes, cd.codes.ncat, cd.x, cd.weights)
    sample = SampleStatistics(list(items), st.thresholds, as_matrix(st.rho, len(items)), st.gamma, cd.codes.n)
    sample.slopes = st.slopes
    sample.x_mean, sample.x_cov = covariate_moments(cd.x, cd.weights)
    if weights[0] and weights[1] == "none":  # lavaan's N is the weight sum (SampleStatistics.weight_sum)
        sample.weight_sum = float(cd.weights.sum())
    return sample


def covariate_moments(x: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The covariates' mean and covariance as lavaan 0.6.14 reports them with conditional.x (``mean.x``,
    ``cov.x``): divisor N - 1 unweighted; with sampling weights (summing to N) the weighted mean and the
    weighted covariance with divisor sum(w) = N."""
    if w is None:
        return x.mean(axis=0), np.cov(x, rowvar=False, ddof=1).reshape(x.shape[1], -1)
    mean = w @ x / w.sum()
    xc = x - mean
    return mean, (w[:, None] * xc).T @ xc / w.sum()


def fix_covariates(pt: pd.DataFrame, covariates: list[str], cov: np.ndarray) -> pd.DataFrame:
    """The covariates' (co)variance rows fixed at their sample values ``cov`` (:func:`covariate_moments`)."""
    pt = pt.copy()
    pos = {v: k for k, v in enumerate(covariates)}
    rows = (pt["op"] == "~~") & pt["lhs"].isin(covariates) & pt["rhs"].isin(covariates)
    for k in np.flatnonzero(rows.to_numpy()):
        pt.loc[pt.index[k], "ustart"] = cov[pos[pt["lhs"].iloc[k]], pos[pt["rhs"].iloc[k]]]
        pt.loc[pt.index[k], "free"] = 0
    return pt


def start_cov(sample) -> np.ndarray:
    """A covariance of (y*, x) from the conditional statistics, for the starting values."""
    sxx = sample.x_cov
    pi = sample.slopes
    syy = sample.cov + pi @ sxx @ pi.T  # the residual covariance (correlations without continuous items)
    syx = pi @ sxx
    return np.block([[syy, syx], [syx.T, sxx]])


def covariate_rows(table: pd.DataFrame, covariates: list[str], sample) -> pd.DataFrame:
    """lavaan's ``~1`` rows of the covariates: their sample means (fixed), std.all mean / SD."""
    table = table.copy()
    mean, sd = sample.x_mean, np.sqrt(np.diag(sample.x_cov))
    for k, v in enumerate(covariates):
        hit = (table["op"] == "~1") & (table["lhs"] == v)
        table.loc[hit, "est"] = mean[k]
        table.loc[hit, "std.lv"] = mean[k]
        table.loc[hit, "std.all"] = mean[k] / sd[k]
    return table
