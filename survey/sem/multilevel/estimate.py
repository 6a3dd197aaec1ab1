"""Estimation of a two-level model: lavaan-like starting values per level, quasi-Newton on -2 logl / N
with the analytic gradient (:mod:`.loglik`), Newton steps on the numerical Hessian of that gradient to
finish (lavaan: nlminb on the same objective), and the observed information (lavaan's default for
two-level models: the Hessian of -logl, ``lav_model_information_observed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.sem.data.moments import GroupStats
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.multilevel.loglik import TwoLevel
from survey.sem.multilevel.stats import ClusterStats
from survey.sem.start import start_values


@dataclass
class TwoLevelEstimate:
    theta: np.ndarray
    minus2: float  # -2 logl at theta
    converged: bool
    iterations: int
    hessian: np.ndarray  # of -logl (observed information)


def build_model(pt: pd.DataFrame, st: ClusterStats) -> TwoLevel:
    """The two RAM models (one per level) with lavaan's fixed.x values: within-only covariates at their
    total moments (divisor N), between-only covariates at the moments of the cluster values (divisor J)."""
    pt = pt.copy()
    model_rows = (pt["block"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="])
    pt = pt[model_rows].reset_index(drop=True)
    free = pt["free"].to_numpy()
    pt["free_full"] = 0
    pt.loc[free > 0, "free_full"] = np.arange(1, int((free > 0).sum()) + 1)
    mg = MultiGroupModel.from_partable(pt)
    w, b = mg.models
    cov_w = np.zeros((w.p, w.p))
    mean_w = np.zeros(w.p)
    yi = [st.y.index(v) for v in w.ov]
    cov_w[:, :] = st.total_cov[np.ix_(yi, yi)]
    mean_w[:] = st.total_mean[yi]
    w.set_exogenous(cov_w, mean_w)
    cov_b = np.zeros((b.p, b.p))
    mean_b = np.zeros(b.p)
    zi = [i for i, v in enumerate(b.ov) if v in st.z]
    zz = [st.z.index(b.ov[i]) for i in zi]
    cov_b[np.ix_(zi, zi)] = st.between_cov[np.ix_(zz, zz)]
    mean_b[zi] = st.between_mean[zz]
    b.set_exogenous(cov_b, mean_b)
    return TwoLevel(mg, st)


def set_h1_exogenous(tl: TwoLevel, sat) -> None:
    """lavaan 0.6.14's fixed.x values when a covariate appears at both levels (``lav_start`` with
    ``lavh1``): the moments of the saturated two-level model fitted by EM (:func:`.h1.fit_saturated`),
    Sigma_W at level 1 and Sigma_B (between-only and split variables) at level 2, its Mu.W at level 1 (the
    split covariates' level-1 intercepts stay at their fixed 0) and Mu.B at level 2. For covariates at one
    level only those are the moments :func:`build_model` takes (EM gives them exactly)."""
    st, w, b, m = tl.st, tl.within, tl.between, sat.moments
    yi = [st.y.index(v) for v in w.ov]
    both = {st.y[i] for i in tl.y_both}
    mean_w = np.where([v in both for v in w.ov], 0.0, sat.mu_w[yi])
    w.set_exogenous(m.sw[np.ix_(yi, yi)], mean_w)
    order = st.z + st.y
    pz = st.p_z
    full = np.zeros((len(order),) * 2)
    full[:pz, :pz], full[pz:, :pz], full[:pz, pz:], full[pz:, pz:] = m.szz, m.syz, m.syz.T, m.sb
    idx = [order.index(v) for v in b.ov]
    b.set_exogenous(full[np.ix_(idx, idx)], np.concatenate([m.mu_z, sat.mu_b])[idx])


def _level_stats(tl: TwoLevel) -> list[GroupStats]:
    """Moments for the starting values: S_PW at level 1; at level 2 lavaan's between estimate
    (S_B - S_PW) / c with S_B the size-weighted covariance of the cluster means (lavaan's Sigma.B start),
    the cluster-value moments for between-only variables."""
    st = tl.st
    w, b = tl.within, tl.between
    yi = [st.y.index(v) for v in w.ov]
    sw = st.s_pw[np.ix_(yi, yi)]
    level1 = GroupStats("within", st.n, sw, st.total_mean[yi], np.empty((0, len(yi))))
    means = st.ybar  # (z, y)
    size = st.cluster_size
    grand = means.T @ size / st.n
    dev = means - grand
    s_b = (dev * size[:, None]).T @ dev / (st.nclusters - 1)
    c = (st.n - np.sum(size**2) / st.n) / (st.nclusters - 1)
    order = st.z + st.y
    idx = [order.index(v) for v in b.ov]
    pz = st.p_z
    spw_full = np.zeros((len(order),) * 2)
    spw_full[pz:, pz:] = st.s_pw
    sig_b = (s_b - spw_full) / c
    zpos = list(range(pz))
    sig_b[np.ix_(zpos, zpos)] = np.cov(means[:, :pz].T, ddof=0).reshape(pz, pz)
    diag = np.diag(sig_b).copy()
    sig_b[np.ix_(diag < 1e-10, range(len(order)))] = 0.0
    sig_b[np.ix_(range(len(order)), diag < 1e-10)] = 0.0
    level2 = GroupStats("between", st.nclusters, sig_b[np.ix_(idx, idx)], grand[idx], np.empty((0, len(idx))))
    return [level1, level2]


def start(tl: TwoLevel) -> np.ndarray:
    """Starting values (the project's lavaan-like starts per level), mapped onto the reduced vector."""
    full = np.zeros(tl.mg.npar_full)
    for g, (mod, gs) in enumerate(zip(tl.mg.models, _level_stats(tl), strict=True)):
        sv = start_values(mod, gs)
        full[tl.mg.index[g]] = sv
    theta = np.zeros(tl.mg.npar)
    k = tl.mg.k
    for j in range(tl.mg.npar):
        theta[j] = full[np.flatnonzero(k[:, j])[0]]
    return theta


def numeric_hessian(grad, theta: np.ndarray) -> np.ndarray:
    """Central differences of an analytic gradient, symmetrised (lavaan ``lav_model_hessian``: the same
    scheme with step 1e-6 on the gradient of its objective)."""
    q = theta.size
    h = np.zeros((q, q))
    for j in range(q):
        step = 1e-5 * max(1.0, abs(theta[j]))
        e = np.zeros(q)
        e[j] = step
        h[:, j] = (grad(theta + e) - grad(theta - e)) / (2.0 * step)
    return 0.5 * (h + h.T)


def estimate(tl: TwoLevel, theta0: np.ndarray | None = None) -> TwoLevelEstimate:
    """Minimise -2 logl: BFGS from the starting values, then Newton steps until the gradient vanishes."""
    from scipy.optimize import minimize

    n = tl.st.n
    theta = start(tl) if theta0 is None else np.asarray(theta0, dtype=float)

    def f(t):
        return tl.minus2_logl(t) / n

    def g(t):
        return tl.gradient(t) / n

    res = minimize(f, theta, jac=g, method="BFGS", options={"gtol": 1e-7, "maxiter": 5000})
    theta = res.x
    iterations = int(res.nit)
    value = tl.minus2_logl(theta)
    converged = bool(np.isfinite(value))
    hess = numeric_hessian(tl.gradient, theta)  # of -2 logl
    for _ in range(20):
        grad = tl.gradient(theta)
        if np.max(np.abs(grad)) / n < 1e-9:
            break
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        for shrink in (1.0, 0.5, 0.25, 0.1):
            new = theta - shrink * step
            new_value = tl.minus2_logl(new)
            if new_value <= value + 1e-10:
                theta, value = new, new_value
                break
        else:
            break
        iterations += 1
        hess = numeric_hessian(tl.gradient, theta)
    grad = tl.gradient(theta)
    converged = converged and bool(np.max(np.abs(grad)) / n < 1e-5)
    return TwoLevelEstimate(theta, float(value), converged, iterations, 0.5 * hess)
