"""Multi-group ML estimation with a mean structure (lavaan ``sem(group=, group.equal=, group.partial=)``).

One objective summed over the groups g = 1..G (lavaan's multi-group ML, Joreskog 1971; Sorbom 1974):

    F(theta) = sum_g (N_g / N) F_ML,g(theta),
    F_ML,g = log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)

with S_g the group covariance (divisor N_g) and lavaan's ``fmin`` = F / 2. Equality constraints are
shared parameters: the parameters theta_full of every group's model (one per free row) are
theta_full = K theta, K a 0/1 expansion matrix (:func:`survey.sem.groups.expansion_matrix`), so the
gradient is K' g_full and the expected Hessian K' H_full K. Standard errors from the expected information
(lavaan's default): vcov = (K' I_full K)^-1 / N, I_full = sum_g (N_g/N) I_g.

Group order is lavaan's: the order in which the groups first appear in the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

import numpy as np
import pandas as pd
from scipy import optimize

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data import SampleStats, sample_stats
from survey.sem.defined import check_definitions
from survey.sem.diagnostics import check_convergence, check_identification, check_sample
from survey.sem.estimate import Estimation, gradient, gradient_and_information, objective
from survey.sem.groups import group_partable, normalize_group_equal, normalize_group_partial
from survey.sem.model import RAMModel  # noqa: F401
from survey.sem.model.blocks import MultiGroupModel
from survey.sem.start import start_values

try:  # small dense matrices: BLAS threads only add overhead
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None


def single_thread():
    """Context limiting BLAS to one thread (small dense matrices: threads only add overhead)."""
    return threadpool_limits(1) if threadpool_limits is not None else nullcontext()


def group_order(column: pd.Series) -> list:
    """Group values in order of first appearance (lavaan), missing values excluded."""
    return list(pd.unique(column.dropna()))


def group_label(value) -> str:
    """Printable group label: integer-valued numbers without ".0" (a code column read as float)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def group_sample_stats(
    data: pd.DataFrame, group: str, names: list[str], missing: str = "listwise"
) -> tuple[SampleStats, list[SurveyWarning]]:
    """Listwise deletion and moments (divisor N_g) within each group (lavaan ``lavSampleStats``)."""
    if group not in data.columns:
        raise SurveyInputError("grouping column not found in the data", column=group, field="group")
    warnings: list[SurveyWarning] = []
    values = group_order(data[group])
    if len(values) < 2:
        raise SurveyInputError("the grouping column has fewer than two groups", column=group, field="group")
    n_na = int(data[group].isna().sum())
    if n_na:
        warnings.append(
            SurveyWarning(
                "group_missing",
                f"{n_na} row(s) with a missing value on the grouping column {group!r} were left out",
                "sem",
            )
        )
    groups = []
    for value in values:
        part = data[data[group] == value]
        st = sample_stats(part, names, missing=missing, label=group_label(value))
        g = st.groups[0]
        g.label = group_label(value)
        groups.append(g)
    return SampleStats(names=list(names), groups=groups, n_raw=int(len(data) - n_na)), warnings


def _weights(stats: SampleStats) -> np.ndarray:
    n = np.array([g.n for g in stats.groups], dtype=float)
    return n / n.sum()


def mg_objective(mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray) -> float:
    """F(theta) = sum_g (N_g/N) F_ML,g (inf when some Sigma_g is not positive definite)."""
    full = mg.k @ theta
    total = 0.0
    for i, (w, ram, g) in enumerate(zip(_weights(stats), mg.models, stats.groups, strict=True)):
        f, _ = objective(ram, g, mg.local(full, i))
        if not np.isfinite(f):
            return np.inf
        total += w * f
    return float(total)


def mg_gradient_information_full(
    mg: MultiGroupModel, stats: SampleStats, theta_full: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of F and expected Hessian (2 x unit information) in the full (unconstrained) parameters."""
    q = mg.npar_full
    grad, hess = np.zeros(q), np.zeros((q, q))
    for i, (w, ram, g) in enumerate(zip(_weights(stats), mg.models, stats.groups, strict=True)):
        gr, h = gradient_and_information(ram, g, mg.local(theta_full, i))
        idx = mg.index[i]
        grad[idx] += w * gr
        hess[np.ix_(idx, idx)] += w * h
    return grad, hess


def mg_gradient(mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray) -> np.ndarray:
    """Gradient of F = sum_g (N_g/N) F_ML,g in the shared parameters, K' g (no information matrix)."""
    full = mg.k @ theta
    grad = np.zeros(mg.npar_full)
    for i, (w, ram, g) in enumerate(zip(_weights(stats), mg.models, stats.groups, strict=True)):
        grad[mg.index[i]] += w * gradient(ram, g, mg.local(full, i))
    return mg.k.T @ grad


def mg_gradient_information(
    mg: MultiGroupModel, stats: SampleStats, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and expected Hessian of F in the shared parameters: K' g, K' H K."""
    grad, hess = mg_gradient_information_full(mg, stats, mg.k @ theta)
    return mg.k.T @ grad, mg.k.T @ hess @ mg.k


def _scoring(
    mg: MultiGroupModel,
    stats: SampleStats,
    theta: np.ndarray,
    max_iter: int = 500,
    tol: float = 1e-9,
    quasi_newton_below: float = 1e-3,
) -> Estimation:
    """Fisher scoring with step halving; near the optimum (max |g| < ``quasi_newton_below``) the
    expected Hessian is refined by BFGS updates (superlinear instead of linear convergence, without
    second derivatives; Nocedal & Wright 2006, ch. 6)."""
    f = mg_objective(mg, stats, theta)
    if not np.isfinite(f):
        return Estimation(
            theta, f, False, 0, np.inf, "fisher", "starting values give a non-positive-definite Sigma"
        )
    gmax, it = np.inf, 0
    h_qn: np.ndarray | None = None
    prev: tuple[np.ndarray, np.ndarray] | None = None
    for it in range(1, max_iter + 1):
        g, h = mg_gradient_information(mg, stats, theta)
        gmax = float(np.max(np.abs(g))) if g.size else 0.0
        if gmax < tol:
            return Estimation(theta, f, True, it, gmax, "fisher")
        if gmax < quasi_newton_below:
            if h_qn is None:
                h_qn = h.copy()
            elif prev is not None:
                s_k, y_k = theta - prev[0], g - prev[1]
                ys = float(y_k @ s_k)
                hs = h_qn @ s_k
                shs = float(s_k @ hs)
                if ys > 1e-14 * max(1.0, float(y_k @ y_k)) and shs > 0:
                    h_qn = h_qn - np.outer(hs, hs) / shs + np.outer(y_k, y_k) / ys
            h = h_qn
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(h, g, rcond=None)[0]
        slope = float(g @ step)
        if not np.isfinite(slope) or slope <= 0:
            h_qn = None
            step, slope = g, float(g @ g)
        alpha, accepted = 1.0, False
        noise = 1e-13 * max(1.0, abs(f)) if gmax < 1e-5 else 0.0
        for _ in range(40):
            cand = theta - alpha * step
            f_new = mg_objective(mg, stats, cand)
            if np.isfinite(f_new) and f_new <= f - 1e-4 * alpha * slope + noise:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            return Estimation(theta, f, gmax < 1e-6, it, gmax, "fisher", "line search failed")
        prev = (theta, g)
        theta, f = cand, f_new
    return Estimation(theta, f, False, it, gmax, "fisher", "iteration limit reached")


def estimate_multigroup(mg: MultiGroupModel, stats: SampleStats, start: np.ndarray) -> Estimation:
    """Minimise F: Fisher scoring, then BFGS and a scoring polish if scoring fails."""
    if mg.npar == 0:
        f = mg_objective(mg, stats, start)
        return Estimation(start, f, bool(np.isfinite(f)), 0, 0.0, "none")
    est = _scoring(mg, stats, np.asarray(start, dtype=float))
    if est.converged:
        return est

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        f = mg_objective(mg, stats, x)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(x)
        return f, mg_gradient_information(mg, stats, x)[0]

    x0 = est.theta if np.isfinite(est.fml) else np.asarray(start, dtype=float)
    res = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000})
    polished = _scoring(mg, stats, res.x, max_iter=200)
    polished.iterations += est.iterations + int(res.nit)
    polished.method = "fisher+bfgs"
    return polished


def multigroup_start(mg: MultiGroupModel, stats: SampleStats) -> np.ndarray:
    """lavaan-like starting values per group (:func:`survey.sem.start.start_values`), averaged over the
    rows of each shared parameter."""
    full = np.zeros(mg.npar_full)
    for i, (ram, g) in enumerate(zip(mg.models, stats.groups, strict=True)):
        full[mg.index[i]] = start_values(ram, g)
    counts = mg.k.sum(axis=0)
    return (mg.k.T @ full) / np.where(counts > 0, counts, 1)


def fit_multigroup(
    model: str,
    data: pd.DataFrame,
    group: str,
    *,
    group_equal: Iterable[str] | str = (),
    group_partial: Iterable[str] | str = (),
    estimator: str = "ML",
    missing: str = "listwise",
    se: str = "standard",
    bootstrap: int | None = None,
):
    """Fit a multi-group model by ML with a mean structure, lavaan's defaults and equality constraints.

    Parameters
    ----------
    model : lavaan syntax (labels are shared by all groups, as in lavaan).
    data : one row per respondent, with the grouping column ``group``.
    group_equal : classes constrained equal across groups (lavaan ``group.equal``): ``loadings``,
        ``intercepts``, ``means``, ``regressions``, ``residuals``, ``residual.covariances``,
        ``lv.variances``, ``lv.covariances`` (list or comma-separated string).
    group_partial : parameters exempt from ``group_equal`` (lavaan ``group.partial``), e.g. ``"x3~1"``.

    estimator : "ML" (expected-information SEs) or "MLR" (Huber-White SEs and the Yuan-Bentler scaled
        test, :mod:`survey.sem.mgrobust`).

    Returns
    -------
    :class:`survey.sem.mgresult.MultiGroupResult`
    """
    est_name = str(estimator).upper()
    if est_name not in ("ML", "MLR"):
        raise SurveyInputError(
            f"estimator={estimator!r} is not available for multi-group models (available: ML, MLR)",
            field="estimator",
        )
    if str(missing).lower() != "listwise":
        raise SurveyInputError(
            f"missing={missing!r} is not available for multi-group models (available: listwise)",
            field="missing",
        )
    se_ok = str(se).lower() == "standard" or (str(se).lower() == "robust" and est_name == "MLR")
    if not se_ok or bootstrap:
        raise SurveyInputError(
            "multi-group models have standard errors from the expected information (ML) or robust "
            "Huber-White ones (estimator MLR) only",
            field="se",
            value=str(se),
        )
    with single_thread():
        return _fit_multigroup(model, data, group, group_equal, group_partial, str(missing).lower(), est_name)


def _fit_multigroup(
    model: str,
    data: pd.DataFrame,
    group: str,
    group_equal,
    group_partial,
    missing: str,
    estimator: str = "ML",
):
    from survey.sem.mgresult import MultiGroupResult

    ge = normalize_group_equal(group_equal)
    gp = normalize_group_partial(group_partial)
    if not isinstance(data, pd.DataFrame):
        raise SurveyInputError("data must be a pandas DataFrame", value=type(data).__name__)
    if group not in data.columns:
        raise SurveyInputError("grouping column not found in the data", column=group, field="group")
    labels = group_order(data[group])
    pt = group_partable(model, max(len(labels), 1), ge, gp)
    check_definitions(pt)
    mg = MultiGroupModel.from_partable(pt)
    stats, warnings = group_sample_stats(data, group, mg.ov, missing)
    for i, (ram, g) in enumerate(zip(mg.models, stats.groups, strict=True)):
        ram.set_exogenous(g.cov, g.mean)
        q_g = int(np.count_nonzero(mg.k[mg.index[i], :].any(axis=0)))  # parameters this group informs
        for w in check_sample(g.cov, ram.ov, g.n, q_g):
            warnings.append(SurveyWarning(w.code, f"group {g.label}: {w.message}", w.stage))
    start = multigroup_start(mg, stats)
    estimation = estimate_multigroup(mg, stats, start)
    warnings += check_convergence(estimation.converged, estimation.iterations, estimation.message)
    vcov, singular = None, False
    if np.isfinite(estimation.fml):
        _, hess = mg_gradient_information(mg, stats, estimation.theta)
        info = 0.5 * hess
        if info.size:
            eig = np.linalg.eigvalsh(info)
            singular = bool(eig[0] <= 1e-10 * max(eig[-1], 1e-300))
            vcov = np.full(info.shape, np.nan) if singular else np.linalg.inv(info) / stats.ntotal
            vcov = (vcov + vcov.T) / 2.0
        else:
            vcov = np.zeros((0, 0))
    warnings += check_identification(singular)
    robust = None
    if estimator == "MLR" and vcov is not None and not singular and mg.npar:
        from survey.sem.mgrobust import baseline_mlr, check_mlr_model, mlr_multigroup
        from survey.sem.test import n_moments

        check_mlr_model(mg)
        df = len(stats.groups) * n_moments(len(mg.ov), 0, True) - mg.npar
        vcov, test = mlr_multigroup(mg, stats, estimation.theta, estimation.fml, df)
        robust = (test, baseline_mlr(stats))
    return MultiGroupResult(
        estimator=estimator,
        robust=robust,
        model=model,
        group=group,
        group_equal=ge,
        group_partial=gp,
        mg=mg,
        stats=stats,
        estimation=estimation,
        vcov=vcov,
        warnings=warnings,
        start=start,
    )
