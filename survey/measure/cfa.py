"""A small, exact maximum-likelihood CFA for measurement models (lavaan-equal estimates).

The psychometric stage comes before the SEM stage and may not import it, yet omega, CR, AVE, the
Fornell-Larcker criterion and the common-method-factor check need a fitted CFA. This module fits the
one model family they need: each factor measured by its items (an item may load on several factors,
e.g. a common method factor), factor variances fixed to 1 (lavaan ``std.lv = TRUE``), factor
covariances free unless listed as orthogonal, residual variances free and uncorrelated, listwise
deletion, normal-theory ML on the biased (divide-by-N) sample covariance matrix ``S``:

    F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p,        Sigma = Lambda Phi Lambda' + Theta,
    chisq = N * F_ML                                        (lavaan's ``likelihood = "normal"``)

minimised by Fisher scoring (Joreskog 1969; Lee & Jennrich 1979) with step halving, from
unit-weighted starting values, to a gradient below 1e-10, so the estimates agree with lavaan 0.6 to
its own convergence tolerance. Fit measures use lavaan's definitions (Bentler 1990 CFI; Tucker-Lewis
TLI; Steiger RMSEA with N; Bentler's SRMR on correlations). Users who want robust estimators, FIML or
multiple groups fit the model with ``survey.sem.fit`` and hand its ``estimates()`` table to the
measure functions instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from survey.errors import EstimationError, SurveyInputError, SurveyWarning


@dataclass
class CFAResult:
    """A fitted CFA. Matrices are labelled DataFrames; ``estimates()`` is a lavaan-style table."""

    factors: dict[str, list[str]]
    loadings: pd.DataFrame
    phi: pd.DataFrame
    theta: pd.Series
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    nobs: int
    fmin: float
    df: int
    baseline_chisq: float
    baseline_df: int
    converged: bool
    iterations: int
    warnings: list[SurveyWarning] = field(default_factory=list)

    @property
    def chisq(self) -> float:
        return self.nobs * self.fmin

    def std_loadings(self) -> pd.DataFrame:
        """Completely standardized loadings (lavaan ``std.all``): lambda * sd(F) / sd_model(x)."""
        sd_x = np.sqrt(np.diag(self.implied_cov.to_numpy()))
        sd_f = np.sqrt(np.diag(self.phi.to_numpy()))
        return self.loadings * np.outer(1.0 / sd_x, sd_f)

    def std_theta(self) -> pd.Series:
        """Standardized residual variances theta_ii / sigma_ii."""
        return self.theta / np.diag(self.implied_cov.to_numpy())

    def cor_lv(self) -> pd.DataFrame:
        """Factor correlations."""
        phi = self.phi.to_numpy()
        d = 1.0 / np.sqrt(np.diag(phi))
        return pd.DataFrame(phi * np.outer(d, d), index=self.phi.index, columns=self.phi.columns)

    def fit_measures(self) -> dict[str, float]:
        """lavaan-named fit measures: chisq df pvalue cfi tli rmsea srmr baseline.chisq baseline.df."""
        chisq, df, n = self.chisq, self.df, self.nobs
        bchisq, bdf = self.baseline_chisq, self.baseline_df
        denom = max(chisq - df, bchisq - bdf, 0.0)
        cfi = 1.0 if denom == 0 else 1.0 - max(chisq - df, 0.0) / denom
        tli = ((bchisq / bdf) - (chisq / df)) / ((bchisq / bdf) - 1.0) if df > 0 else 1.0
        rmsea = float(np.sqrt(max(chisq / n / df - 1.0 / n, 0.0))) if df > 0 else 0.0
        s, sig = self.sample_cov.to_numpy(), self.implied_cov.to_numpy()
        ds, dm = np.sqrt(np.diag(s)), np.sqrt(np.diag(sig))
        resid = s / np.outer(ds, ds) - sig / np.outer(dm, dm)
        srmr = float(np.sqrt(np.mean(resid[np.tril_indices_from(resid)] ** 2)))
        return {
            "chisq": chisq,
            "df": float(df),
            "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "cfi": cfi,
            "tli": tli,
            "rmsea": rmsea,
            "srmr": srmr,
            "baseline.chisq": bchisq,
            "baseline.df": float(bdf),
            "npar": float(self._npar()),
        }

    def _npar(self) -> int:
        p = len(self.theta)
        return p * (p + 1) // 2 - self.df

    def estimates(self) -> pd.DataFrame:
        """lavaan-style rows ``lhs op rhs est std.all`` for loadings, residual and factor (co)variances."""
        std = self.std_loadings()
        rows: list[dict[str, object]] = []
        for f, items in self.factors.items():
            for i in items:
                rows.append(
                    {"lhs": f, "op": "=~", "rhs": i, "est": self.loadings.at[i, f], "std.all": std.at[i, f]}
                )
        std_theta = self.std_theta()
        for i in self.theta.index:
            rows.append({"lhs": i, "op": "~~", "rhs": i, "est": self.theta[i], "std.all": std_theta[i]})
        cor = self.cor_lv()
        names = list(self.phi.index)
        for a, f in enumerate(names):
            for g in names[a:]:
                rows.append(
                    {"lhs": f, "op": "~~", "rhs": g, "est": self.phi.at[f, g], "std.all": cor.at[f, g]}
                )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        fm = self.fit_measures()
        return (
            f"ML CFA, N = {self.nobs} (listwise), chisq = {fm['chisq']:.3f}, df = {self.df}, "
            f"CFI = {fm['cfi']:.3f}, RMSEA = {fm['rmsea']:.3f}, SRMR = {fm['srmr']:.3f}"
            + ("" if self.converged else " (NOT converged)")
        )

    def to_frame(self) -> pd.DataFrame:
        return self.estimates()

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.estimates().to_html(index=False, float_format="%.3f")


def sample_covariance(data: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Listwise-complete covariance matrix with divisor N (the ML sample statistic) and N."""
    complete = data.apply(pd.to_numeric, errors="coerce").dropna()
    n = len(complete)
    x = complete.to_numpy(dtype=float)
    x = x - x.mean(axis=0)
    cov = x.T @ x / n if n else np.full((data.shape[1], data.shape[1]), np.nan)
    return pd.DataFrame(cov, index=data.columns, columns=data.columns), n


def fit_cfa(
    factors: Mapping[str, Iterable[str]],
    data: pd.DataFrame,
    *,
    orthogonal: Iterable[tuple[str, str]] = (),
    max_iter: int = 500,
    tol: float = 1e-10,
) -> CFAResult:
    """Fit a CFA by ML (``std.lv``; listwise) and return a :class:`CFAResult`.

    ``factors`` maps each factor to its indicators (columns of ``data``, already reverse keyed);
    ``orthogonal`` lists factor pairs whose covariance is fixed to 0 (e.g. a method factor).
    """
    factors = {str(f): [str(i) for i in items] for f, items in factors.items()}
    items: list[str] = []
    for its in factors.values():
        items.extend(i for i in its if i not in items)
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise SurveyInputError("indicator not found in the data", column=absent[0])
    fnames = list(factors)
    p, m = len(items), len(fnames)
    s_df, n = sample_covariance(data[items])
    if n <= p:
        raise EstimationError(f"CFA needs more complete cases than items (N = {n}, p = {p})")
    s = s_df.to_numpy()
    if np.any(np.diag(s) <= 0):
        bad = items[int(np.argmin(np.diag(s)))]
        raise EstimationError(f"item {bad} has no variance among the complete cases")
    eig = np.linalg.eigvalsh(s)
    if eig[0] <= 1e-12 * eig[-1]:
        raise EstimationError("the sample covariance matrix is not positive definite")
    logdet_s = float(np.linalg.slogdet(s)[1])

    row = {i: k for k, i in enumerate(items)}
    col = {f: k for k, f in enumerate(fnames)}
    zero_pairs = {frozenset((a, b)) for a, b in orthogonal}
    unknown = [f for pair in zero_pairs for f in pair if f not in col]
    if unknown:
        raise SurveyInputError("unknown factor in 'orthogonal'", value=unknown[0])
    lam_idx = [(row[i], col[f]) for f in fnames for i in factors[f]]
    phi_idx = [
        (a, b)
        for a in range(m)
        for b in range(a + 1, m)
        if frozenset((fnames[a], fnames[b])) not in zero_pairs
    ]
    n_lam, n_phi = len(lam_idx), len(phi_idx)
    npar = n_lam + n_phi + p
    df = p * (p + 1) // 2 - npar
    if df < 0:
        raise EstimationError(f"the CFA is not identified (df = {df})")

    def unpack(theta_vec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lam = np.zeros((p, m))
        for k, (i, f) in enumerate(lam_idx):
            lam[i, f] = theta_vec[k]
        phi = np.eye(m)
        for k, (a, b) in enumerate(phi_idx):
            phi[a, b] = phi[b, a] = theta_vec[n_lam + k]
        return lam, phi, theta_vec[n_lam + n_phi :]

    def objective(theta_vec: np.ndarray) -> tuple[float, np.ndarray | None]:
        lam, phi, psi = unpack(theta_vec)
        sigma = lam @ phi @ lam.T + np.diag(psi)
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, None
        logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
        sigma_inv = np.linalg.inv(sigma)
        return float(logdet + np.trace(s @ sigma_inv) - logdet_s - p), sigma_inv

    def derivatives(theta_vec: np.ndarray, sigma_inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lam, phi, psi = unpack(theta_vec)
        sigma = lam @ phi @ lam.T + np.diag(psi)
        lp = lam @ phi
        d_sigma = np.zeros((npar, p, p))
        for k, (i, f) in enumerate(lam_idx):
            d_sigma[k, i, :] += lp[:, f]
            d_sigma[k, :, i] += lp[:, f]
        for k, (a, b) in enumerate(phi_idx):
            outer = np.outer(lam[:, a], lam[:, b])
            d_sigma[n_lam + k] = outer + outer.T
        for i in range(p):
            d_sigma[n_lam + n_phi + i, i, i] = 1.0
        w = sigma_inv @ (sigma - s) @ sigma_inv
        grad = np.einsum("ab,kba->k", w, d_sigma)
        a_mats = np.einsum("ab,kbc->kac", sigma_inv, d_sigma)
        info = np.einsum("jab,kba->jk", a_mats, a_mats)
        return grad, info

    start = _start_values(s, items, factors, fnames, lam_idx, phi_idx, row, col)
    current = start
    f_cur, sigma_inv = objective(current)
    if not np.isfinite(f_cur):
        raise EstimationError("the CFA starting values give a non-positive-definite covariance matrix")
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        grad, info = derivatives(current, sigma_inv)
        if np.max(np.abs(grad)) < tol:
            converged = True
            break
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, grad, rcond=None)[0]
        alpha = 1.0
        while alpha > 1e-8:
            trial = current - alpha * step
            f_trial, inv_trial = objective(trial)
            if np.isfinite(f_trial) and f_trial <= f_cur + 1e-14:
                break
            alpha /= 2.0
        else:
            break
        current, f_cur, sigma_inv = trial, f_trial, inv_trial

    lam, phi, psi = unpack(current)
    for f in range(m):  # sign convention: loadings of each factor sum to a positive number
        if lam[:, f].sum() < 0:
            lam[:, f] *= -1
            phi[f, :] *= -1
            phi[:, f] *= -1
    sigma = lam @ phi @ lam.T + np.diag(psi)
    warnings: list[SurveyWarning] = []
    if not converged:
        warnings.append(
            SurveyWarning(
                "cfa_not_converged", f"the CFA did not converge in {iteration} iterations", "measure"
            )
        )
    for i, name in enumerate(items):
        if psi[i] < 0:
            warnings.append(
                SurveyWarning("heywood", f"negative residual variance of {name} (Heywood case)", "measure")
            )
    if m > 1 and np.linalg.eigvalsh(phi)[0] < 0:
        warnings.append(
            SurveyWarning("lv_not_pd", "the factor correlation matrix is not positive definite", "measure")
        )
    if n < 100:
        warnings.append(SurveyWarning("small_n", f"only {n} complete cases for the CFA", "measure"))
    baseline_f = float(np.sum(np.log(np.diag(s))) - logdet_s)
    return CFAResult(
        factors={f: list(v) for f, v in factors.items()},
        loadings=pd.DataFrame(lam, index=items, columns=fnames),
        phi=pd.DataFrame(phi, index=fnames, columns=fnames),
        theta=pd.Series(psi, index=items),
        sample_cov=s_df,
        implied_cov=pd.DataFrame(sigma, index=items, columns=items),
        nobs=n,
        fmin=f_cur,
        df=df,
        baseline_chisq=n * baseline_f,
        baseline_df=p * (p - 1) // 2,
        converged=converged,
        iterations=iteration,
        warnings=warnings,
    )


def _start_values(
    s: np.ndarray,
    items: list[str],
    factors: dict[str, list[str]],
    fnames: list[str],
    lam_idx: list[tuple[int, int]],
    phi_idx: list[tuple[int, int]],
    row: dict[str, int],
    col: dict[str, int],
) -> np.ndarray:
    """Unit-weighted starts: loadings from one-factor item-rest correlations, factor correlations of
    the unit-weighted composites; an item's second (e.g. method) loading starts at .2 sd."""
    sd = np.sqrt(np.diag(s))
    r = s / np.outer(sd, sd)
    first: dict[int, int] = {}
    lam0 = np.zeros(len(lam_idx))
    for k, (i, f) in enumerate(lam_idx):
        others = [row[j] for j in factors[fnames[f]] if row[j] != i]
        if i in first or not others:
            lam0[k] = 0.2 * sd[i]
            continue
        first[i] = f
        rbar = float(np.mean(r[i, others]))
        lam0[k] = np.sign(rbar or 1.0) * np.sqrt(min(max(abs(rbar), 0.05), 0.9)) * sd[i]
    weights = np.zeros((len(items), len(fnames)))
    for k, (i, f) in enumerate(lam_idx):
        if first.get(i) == f:
            weights[i, f] = np.sign(lam0[k])
    comp = weights.T @ s @ weights
    dc = np.sqrt(np.clip(np.diag(comp), 1e-12, None))
    comp_r = comp / np.outer(dc, dc)
    phi0 = np.array([0.8 * comp_r[a, b] for a, b in phi_idx])
    theta0 = 0.5 * np.diag(s)
    return np.concatenate([lam0, phi0, theta0])
