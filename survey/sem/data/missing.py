"""FIML sample statistics: data grouped by missing-data pattern, the casewise (observed-data) normal
log-likelihood and its saturated (H1) EM estimates (casewise scores and the h1 information matrices:
:mod:`survey.sem.data.missing_info`).

A pattern k with observed variables o, n_k cases, sums ``t_k = sum_i y_io`` and cross-products
``Q_k = sum_i y_io y_io'`` contributes (Arbuckle 1996; Finkbeiner 1979)

    logl_k = -1/2 [n_k (p_o log 2 pi + log|Sigma_oo|) + tr(Sigma_oo^-1 R_k)],
    R_k = Q_k - t_k mu_o' - mu_o t_k' + n_k mu_o mu_o'

with gradient ``dlogl/dSigma_oo = -1/2 (n_k Sigma_oo^-1 - Sigma_oo^-1 R_k Sigma_oo^-1)`` and
``dlogl/dmu_o = Sigma_oo^-1 (t_k - n_k mu_o)``. Patterns with the same number of observed variables are
stacked. Sigma_oo^-1 and log|Sigma_oo| of a pattern come from Omega = Sigma^-1 (one Cholesky of Sigma)
and the missing part only, by the partitioned inverse (Schur complement; Magnus & Neudecker 1999, ch. 1;
Harville 1997, thm 8.5.11):

    Sigma_oo^-1 = Omega_oo - Omega_om Omega_mm^-1 Omega_mo,   |Sigma_oo| = |Sigma| |Omega_mm|,

an inverse of size p_m instead of p_o (patterns with fewer missing than observed variables; otherwise, or
when Sigma itself is not positive definite, Sigma_oo is inverted directly). The EM regression of the
missing on the observed values is Sigma_mo Sigma_oo^-1 = -Omega_mm^-1 Omega_mo with residual covariance
Omega_mm^-1. The saturated model by EM (Dempster, Laird & Rubin 1977; Little & Rubin 2002, ch. 11).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOG2PI = np.log(2 * np.pi)


@dataclass
class Batch:
    """Missing-data patterns with the same number of observed variables, stacked."""

    obs: np.ndarray  # (K, p_o) observed variable indices
    mis: np.ndarray  # (K, p_m) missing variable indices
    n: np.ndarray  # (K,) cases per pattern
    sums: np.ndarray  # (K, p_o) sum of y_o
    cross: np.ndarray  # (K, p_o, p_o) sum of y_o y_o'
    cases: list[np.ndarray]  # row numbers of each pattern
    embedded: np.ndarray | None = None  # (N_b, p) the batch's cases, pattern by pattern, 0 where missing
    observed: np.ndarray | None = None  # (N_b, p) True where observed
    pattern: np.ndarray | None = None  # (N_b,) the pattern (0..K-1) of each of these cases


@dataclass
class MissingData:
    """Data grouped by missing-data pattern (lavaan ``lavData@Mp``)."""

    x: np.ndarray  # (N, p) with NaN, all-missing rows dropped
    p: int
    batches: list[Batch]
    n_patterns: int
    n_dropped: int
    coverage: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def missing_patterns(x: np.ndarray) -> MissingData:
    """Group the rows of ``x`` (NaN = missing) by pattern; rows with every value missing are dropped."""
    x = np.asarray(x, dtype=float)
    observed = np.isfinite(x)
    keep = observed.any(axis=1)
    x, observed = x[keep], observed[keep]
    p = x.shape[1]
    keys, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    by_size: dict[int, list[int]] = {}
    for k in range(keys.shape[0]):
        by_size.setdefault(int(keys[k].sum()), []).append(k)
    batches = []
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(keys.shape[0] + 1))
    for size, ks in sorted(by_size.items()):
        obs = np.array([np.flatnonzero(keys[k]) for k in ks], dtype=int).reshape(len(ks), size)
        mis = np.array([np.flatnonzero(~keys[k]) for k in ks], dtype=int).reshape(len(ks), p - size)
        cases = [order[starts[k] : starts[k + 1]] for k in ks]
        n = np.array([c.size for c in cases], dtype=float)
        sums = np.zeros((len(ks), size))
        cross = np.zeros((len(ks), size, size))
        for j, (c, o) in enumerate(zip(cases, obs, strict=True)):
            y = x[np.ix_(c, o)]
            sums[j] = y.sum(axis=0)
            cross[j] = y.T @ y
        rows = np.concatenate(cases)
        seen = observed[rows]
        batches.append(Batch(obs, mis, n, sums, cross, cases, np.where(seen, x[rows], 0.0), seen,
                             np.repeat(np.arange(len(ks)), n.astype(int))))
    coverage = observed.T.astype(float) @ observed.astype(float) / max(x.shape[0], 1)
    return MissingData(x, p, batches, int(keys.shape[0]), int((~keep).sum()), coverage)


def _sub(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return matrix[rows[:, :, None], cols[:, None, :]]


def _scatter(p: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    flat = (rows[:, :, None] * p + cols[:, None, :]).ravel()
    return np.bincount(flat, weights=values.ravel(), minlength=p * p).reshape(p, p)


def _batch_inverse(sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses and log-determinants of a stack of covariance matrices (one Cholesky each)."""
    chol = np.linalg.cholesky(sig)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    inv = np.linalg.inv(sig)
    return inv, logdet


@dataclass
class FullInverse:
    """Omega = Sigma^-1 and log|Sigma| of the full covariance matrix (None when Sigma is not PD)."""

    omega: np.ndarray | None
    logdet: float

    @classmethod
    def of(cls, sigma: np.ndarray) -> FullInverse:
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return cls(None, float("nan"))
        eye = np.eye(sigma.shape[0])
        low = np.linalg.solve(chol, eye)  # L^-1 (triangular system, one matrix)
        return cls(low.T @ low, float(2.0 * np.log(np.diag(chol)).sum()))


def pattern_inverse(sigma: np.ndarray, b: Batch, full: FullInverse) -> tuple[np.ndarray, np.ndarray]:
    """Sigma_oo^-1 (K, p_o, p_o) and log|Sigma_oo| (K,) of every pattern of the batch (see the module
    docstring); raises LinAlgError when some Sigma_oo is not positive definite."""
    po, pm = b.obs.shape[1], b.mis.shape[1]
    k = b.n.size
    if full.omega is None or pm >= po:
        return _batch_inverse(_sub(sigma, b.obs, b.obs))
    if pm == 0:
        return np.broadcast_to(full.omega, (k, po, po)), np.full(k, full.logdet)
    o_mm = _sub(full.omega, b.mis, b.mis)
    inv_mm, logdet_mm = _batch_inverse(o_mm)
    o_om = _sub(full.omega, b.obs, b.mis)
    a = _sub(full.omega, b.obs, b.obs) - o_om @ inv_mm @ o_om.transpose(0, 2, 1)
    return a, full.logdet + logdet_mm


def _residual_cross(b: Batch, mu_o: np.ndarray) -> np.ndarray:
    tm = np.einsum("ki,kj->kij", b.sums, mu_o)
    return b.cross - tm - tm.transpose(0, 2, 1) + b.n[:, None, None] * np.einsum("ki,kj->kij", mu_o, mu_o)


def loglik(md: MissingData, sigma: np.ndarray, mu: np.ndarray, gradient: bool = False):
    """Observed-data log-likelihood at (mu, Sigma) [and its gradient wrt Sigma (p x p) and mu].

    Batches with fewer missing than observed variables go by cases from Omega = Sigma^-1
    (:func:`_casewise`); the others by their patterns' cross-products."""
    p = md.p
    total = 0.0
    g_sig = np.zeros((p, p))
    g_mu = np.zeros(p)
    full = FullInverse.of(sigma)
    for b in md.batches:
        po, pm = b.obs.shape[1], b.mis.shape[1]
        if po == 0:
            continue
        if full.omega is not None and pm < po and b.embedded is not None:
            value, gs, gm = _casewise(b, full, mu, gradient)
            total += value
            if gradient:
                g_sig += gs
                g_mu += gm
            continue
        try:
            inv, logdet = pattern_inverse(sigma, b, full)
        except np.linalg.LinAlgError:
            return (-np.inf, None, None) if gradient else -np.inf
        mu_o = mu[b.obs]
        r = _residual_cross(b, mu_o)
        tr = np.einsum("kij,kji->k", inv, r)
        total += -0.5 * float(np.sum(b.n * (b.obs.shape[1] * LOG2PI + logdet) + tr))
        if gradient:
            iri = inv @ r @ inv
            g = -0.5 * (b.n[:, None, None] * inv - iri)
            g_sig += _scatter(p, b.obs, b.obs, g)
            gm = np.einsum("kij,kj->ki", inv, b.sums - b.n[:, None] * mu_o)
            g_mu += np.bincount(b.obs.ravel(), weights=gm.ravel(), minlength=p)
    return (total, g_sig, g_mu) if gradient else total


def _casewise(b: Batch, full: FullInverse, mu: np.ndarray, gradient: bool):
    """One batch's log-likelihood [and gradient] by cases, without inverting any Sigma_oo.

    With d_i the case's deviations embedded in p (0 where missing), m its missing variables and
    v_i = Omega_mm^-1 (Omega d_i)_m, the embedded z_i = Sigma_oo^-1 (y_io - mu_o) is
    Omega d_i - Omega_(.,m) v_i (zero on m). Then tr(Sigma_oo^-1 R_k) = sum_i d_i' z_i,
    sum_k Sigma_oo^-1 R_k Sigma_oo^-1 = Z'Z and sum_k n_k Sigma_oo^-1 (embedded) =
    N_b Omega - sum_k n_k Omega_(.,m) Omega_mm^-1 Omega_(m,.)."""
    omega = full.omega
    po, pm = b.obs.shape[1], b.mis.shape[1]
    d = b.embedded - b.observed * mu
    od = d @ omega
    logdet = np.full(b.n.size, full.logdet)
    if pm:
        o_mm = _sub(omega, b.mis, b.mis)
        chol = np.linalg.cholesky(o_mm)
        logdet = logdet + 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        inv_mm = np.linalg.inv(o_mm)
        mis = b.mis[b.pattern]  # (N_b, p_m)
        u = np.take_along_axis(od, mis, axis=1)
        v = np.einsum("nij,nj->ni", inv_mm[b.pattern], u)
        z = od - np.einsum("njq,nj->nq", omega[mis], v)
        z[~b.observed] = 0.0
    else:
        z = od
    value = -0.5 * (float(np.sum(b.n * (po * LOG2PI + logdet))) + float(np.sum(d * z)))
    if not gradient:
        return value, None, None
    a_sum = b.pattern.size * omega
    if pm:
        o_pm = omega[:, b.mis]  # (p, K, p_m)
        w = np.einsum("pki,kij->pkj", o_pm, b.n[:, None, None] * inv_mm)
        a_sum = a_sum - w.reshape(omega.shape[0], -1) @ o_pm.reshape(omega.shape[0], -1).T
    return value, 0.5 * (z.T @ z) - 0.5 * a_sum, z.sum(axis=0)


def _em_casewise(b: Batch, omega: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E-step sums of one batch by cases: the missing values replaced by their conditional means
    E[y_m | y_o] = mu_m - Omega_mm^-1 (Omega d)_m (d the deviations, 0 where missing), t1 = sum y_i,
    t2 = sum y_i y_i' + sum_k n_k Var(y_m | y_o), Var(y_m | y_o) = Omega_mm^-1."""
    p = omega.shape[0]
    resid = np.linalg.inv(_sub(omega, b.mis, b.mis))
    mis = b.mis[b.pattern]
    d = b.embedded - b.observed * mu
    u = np.take_along_axis(d @ omega, mis, axis=1)
    y = b.embedded.copy()
    np.put_along_axis(y, mis, mu[mis] - np.einsum("nij,nj->ni", resid[b.pattern], u), axis=1)
    return y.sum(axis=0), y.T @ y + _scatter(p, b.mis, b.mis, b.n[:, None, None] * resid)


def em_saturated(
    md: MissingData, max_iter: int = 5000, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray, int]:
    """EM estimates of the unrestricted mean and covariance (the H1 model): (mean, cov, iterations)."""
    x = md.x
    mu = np.nanmean(x, axis=0)
    dev = np.where(np.isfinite(x), x - mu, 0.0)
    cnt = np.isfinite(x).sum(axis=0)
    sigma = np.diag((dev**2).sum(axis=0) / np.maximum(cnt, 1))
    p, n = md.p, md.n
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        full = FullInverse.of(sigma)
        for b in md.batches:
            po, pm = b.obs.shape[1], b.mis.shape[1]
            if pm == 0:
                t1 += np.bincount(b.obs.ravel(), weights=b.sums.ravel(), minlength=p)
                t2 += _scatter(p, b.obs, b.obs, b.cross)
                continue
            if po == 0:
                continue
            if full.omega is not None and pm < po and b.embedded is not None:
                e1, e2 = _em_casewise(b, full.omega, mu)
                t1 += e1
                t2 += e2
                continue
            soo = _sub(sigma, b.obs, b.obs)
            smo = _sub(sigma, b.mis, b.obs)
            beta = np.linalg.solve(soo, smo.transpose(0, 2, 1)).transpose(0, 2, 1)
            resid = _sub(sigma, b.mis, b.mis) - beta @ smo.transpose(0, 2, 1)
            a = mu[b.mis] - np.einsum("kij,kj->ki", beta, mu[b.obs])
            bs = np.einsum("kij,kj->ki", beta, b.sums)
            nn = b.n[:, None, None]
            mo = np.einsum("ki,kj->kij", a, b.sums) + beta @ b.cross
            mm = (
                nn * np.einsum("ki,kj->kij", a, a)
                + np.einsum("ki,kj->kij", a, bs)
                + np.einsum("ki,kj->kij", bs, a)
                + beta @ b.cross @ beta.transpose(0, 2, 1)
                + nn * resid
            )
            perm = np.concatenate([b.obs, b.mis], axis=1)
            block = np.zeros((b.n.size, p, p))
            block[:, :po, :po] = b.cross
            block[:, po:, :po] = mo
            block[:, :po, po:] = mo.transpose(0, 2, 1)
            block[:, po:, po:] = mm
            t2 += _scatter(p, perm, perm, block)
            t1 += np.bincount(
                perm.ravel(),
                weights=np.concatenate([b.sums, b.n[:, None] * a + bs], axis=1).ravel(),
                minlength=p,
            )
        mu_new = t1 / n
        sigma_new = t2 / n - np.outer(mu_new, mu_new)
        sigma_new = (sigma_new + sigma_new.T) / 2
        change = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(sigma_new - sigma)))
        mu, sigma = mu_new, sigma_new
        if change < tol:
            break
    return mu, sigma, it
