"""lavaan's ``conditional.x = TRUE`` for continuous data: the model of y given the exogenous covariates x.

With complete data and normal-theory ML the likelihood of (y, x) with x fixed (fixed.x = TRUE) factors into
the likelihood of y | x and that of x, the latter saturated; so the estimates, standard errors and the
chi-square of the conditional model are those of the fixed.x fit (lavaan 0.6.14 agrees to 1e-9, tests/
fixtures/condx). What differs is what lavaan builds on the conditional sample statistics (``res.cov``,
``res.int``, ``res.slopes``; lav_samplestats, lav_residuals):

* the mean structure is always on (lavaan's npar counts the intercepts of y);
* the baseline model keeps the regressions y ~ x free (lav_partable_independence with conditional.x):
  each y_j regressed on all x with a free residual variance; its ML estimates are the OLS slopes
  B = S_yx S_xx^-1, intercepts ybar - B xbar and residual variances diag(S_yy - B S_xy) (divisor N);
* the residual RMS family (SRMR ...) is computed on the residual covariance and intercepts of y given x,
  standardised by the sample residual variances (lav_residuals, type "cor.bentler").

lavaan 0.6.14 refuses missing = "ml" / "ml.x" and fixed.x = FALSE with conditional.x; its GLS fails.
MLM, MLMV, MLMVS and ML's test= / se="robust.sem" use the robust.sem sandwich and the Satorra-Bentler traces
of y given x (lavaan's Gamma of the residual statistics: :mod:`survey.sem.inference.conditional_sem`).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from survey.errors import SurveyInputError

# the estimators and ML's test= values done in y given x (survey.sem.inference.conditional_sem)
ROBUST_OK = ("ML", "MLR", "MLM", "MLMV", "MLMVS", "DEFAULT")
LS_OK = ("ULS", "DWLS", "WLS", "ULSM", "ULSMV", "ULSMVS", "WLSM", "WLSMV", "WLSMVS")  # wls_conditional
TESTS_ML = ("default", "standard", "satorra.bentler", "sb", "scaled.shifted", "mean.var.adjusted",
            "browne.residual.adf", "browne.residual.nt")
_CONDITIONAL: ContextVar[bool] = ContextVar("conditional_x", default=False)


@contextmanager
def conditional_x_fit():
    """Within this block the fits are lavaan's conditional.x = TRUE ones (their baseline models)."""
    token = _CONDITIONAL.set(True)
    try:
        yield
    finally:
        _CONDITIONAL.reset(token)


def conditional_x() -> bool:
    """True inside :func:`conditional_x_fit`."""
    return _CONDITIONAL.get()


def check_conditional_x(options: dict, *, estimator: str, missing: str, ordered, sampling_weights,
                        cluster, se: str = "default") -> None:
    """lavaan 0.6.14's refusals of conditional.x = TRUE (its messages), and what is not done here yet."""
    miss = str(missing).lower()
    if miss in ("ml", "fiml", "direct", "ml.x"):
        which = "ml.x" if miss == "ml.x" else "ml"
        raise SurveyInputError(f"missing = {which} + conditional.x not supported yet (lavaan 0.6.14's "
                               "refusal)", field="conditional_x")
    if options.get("fixed_x", True) is False:
        raise SurveyInputError("fixed.x = FALSE is not supported when conditional.x = TRUE (lavaan 0.6.14's "
                               "refusal)", field="conditional_x")
    est = str(estimator or "ML").upper()
    if est not in ROBUST_OK + LS_OK:
        why = "lavaan 0.6.14's GLS does not converge there; " if est == "GLS" else ""
        raise SurveyInputError(f"conditional.x=TRUE with estimator={est} is not available yet ({why}"
                               f"available: {', '.join(ROBUST_OK[:-1] + LS_OK)})", field="conditional_x")
    if est in LS_OK:
        check_ls_conditional(est, options, se, miss)
    if sampling_weights or cluster:
        raise SurveyInputError("conditional.x=TRUE with sampling weights or clusters is not available yet "
                               "(available: ML, MLR, groups, group.equal)",
                               field="conditional_x")
    if est in LS_OK:
        return
    test = str(options.get("test", "default")).lower()
    info = str(options.get("information", "default")).lower()
    tests = TESTS_ML if est == "ML" else ("default", "standard")
    if test not in tests:
        raise SurveyInputError(f"conditional.x=TRUE with test={options['test']!r} is not available yet "
                               f"(available with estimator {est}: {', '.join(tests)})", field="conditional_x")
    infos = ("default", "expected", "observed") if est == "ML" and test in ("default", "standard") else (
        "default", "expected")
    if info not in infos:
        raise SurveyInputError(f"conditional.x=TRUE with information={options['information']!r} is not "
                               f"available yet with estimator {est}" + (f" and test={test}" if est == "ML"
                                                                        else "")
                               + f" (available: {', '.join(infos)})", field="conditional_x")
    se_name = str(se or "default").lower()
    if se_name == "robust.sem" and (est == "MLR" or info == "observed"):
        raise SurveyInputError("conditional.x=TRUE with se='robust.sem' and the observed information is not "
                               "available yet (available: information='expected')", field="conditional_x")
    if info == "observed" and se_name not in ("default", "standard", "none"):
        raise SurveyInputError(f"conditional.x=TRUE with information='observed' and se={se!r} is not "
                               "available yet (available: se='standard')", field="conditional_x")
    for key in ("mimic", "likelihood"):
        if key in options and str(options[key]).lower() not in ("default", "lavaan", "normal"):
            raise SurveyInputError(f"conditional.x=TRUE with {key}={options[key]!r} is not available yet "
                                   "(available: ML, MLR, MLM, groups, group.equal)",
                                   field="conditional_x")


def check_ls_conditional(est: str, options: dict, se: str | None, missing: str) -> None:
    """ULS / DWLS / WLS (and lavaan's ULSMV, WLSMV ... names) with conditional.x: complete data, se
    "standard" / "none" / "robust.sem", the standard, Satorra-Bentler, scaled-shifted and mean-and-variance
    adjusted tests (survey.sem.inference.ls_robust); Browne's tests and the bootstrap are not done yet."""
    for key, value, ok in (("missing", missing, ("listwise", "listwise")),
                           ("se", se, ("default", "standard", "none", "robust.sem", "robust")),
                           ("test", options.get("test"), ("default", "standard", "satorra.bentler",
                                                          "scaled.shifted", "mean.var.adjusted")),
                           ("information", options.get("information"), ("default", "expected"))):
        if str(value if value is not None else "default").lower() not in ok:
            raise SurveyInputError(f"conditional.x=TRUE with estimator={est} and {key}={value!r} is not "
                                   f"available yet (available: {key}={ok[1]!r})", field="conditional_x")


def baseline_syntax_conditional(ys: list[str], x_names: list[str]) -> str:
    """The conditional.x baseline: free residual variances of y and every regression y ~ x free."""
    lines = [f"{v} ~~ {v}" for v in ys]
    lines += [f"{v} ~ " + " + ".join(x_names) for v in ys]
    lines += [f"{a} ~~ 0*{b}" for i, a in enumerate(ys) for b in ys[i + 1:]]  # no auto.cov.y covariances
    return "\n".join(lines)


def ols(cov: np.ndarray, mean: np.ndarray, x_index: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slopes B (y by x), intercepts, residual covariance) of y on x from moments with divisor N:
    B = S_yx S_xx^-1, a = ybar - B xbar, S_y.x = S_yy - B S_xy (lavaan's res.slopes, res.int, res.cov)."""
    p = cov.shape[0]
    xi = list(x_index)
    yi = [i for i in range(p) if i not in xi]
    s_xx = cov[np.ix_(xi, xi)]
    s_yx = cov[np.ix_(yi, xi)]
    b = np.linalg.solve(s_xx, s_yx.T).T
    res = cov[np.ix_(yi, yi)] - b @ s_yx.T
    a = mean[yi] - b @ mean[xi] if mean is not None else None
    return b, a, res


def baseline_theta_conditional(mg, blocks) -> np.ndarray:
    """Closed-form ML of :func:`baseline_syntax_conditional`: OLS slopes, intercepts, residual variances."""
    theta = np.zeros(mg.npar)
    pt = mg.partable
    for g, b in enumerate(blocks, start=1):
        xi = list(b.x_index)
        yi = [i for i in range(len(b.names)) if i not in xi]
        slopes, ints, res = ols(b.cov, b.mean, xi)
        for row in pt[(pt["free"] > 0) & (pt["group"] == g)].itertuples(index=False):
            j = yi.index(b.names.index(row.lhs))
            if row.op == "~~":
                value = res[j, j]
            elif row.op == "~1":
                value = ints[j]
            else:
                value = slopes[j, xi.index(b.names.index(row.rhs))]
            theta[int(row.free) - 1] = value
    return theta


def residual_moments(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray | None, mu: np.ndarray | None,
                     x_index) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Sample and implied residual covariance and intercepts of y given x (lavaan's res.cov, res.int)."""
    xi = list(x_index)
    zero = np.zeros(s.shape[0]) if mean is None else None
    _, a_s, r_s = ols(s, mean if mean is not None else zero, xi)
    _, a_m, r_m = ols(sigma, mu if mu is not None else zero, xi)
    if mean is None or mu is None:
        return r_s, r_m, None, None
    return r_s, r_m, a_s, a_m


def conditional_gfi(s: np.ndarray, sigma: np.ndarray, mean: np.ndarray, mu: np.ndarray,
                    x_index) -> tuple[float, int]:
    """GFI of one group of y given x and lavaan's ``nel`` (its WLS.obs: res.int, res.slopes, res.cov).

    GFI = 1 - e'Ve / s'Vs with s = (coefficients [a; B'], vech S_y.x) and V the expected information of
    the multivariate regression at the implied residual covariance R (lav_mvreg_information_expected):
    R^-1 (x) E[(1, x')'(1, x')] for the coefficients, 1/2 D'(R^-1 (x) R^-1) D for the covariance, so that
    s'Vs = tr(R^-1 C' M C) + 1/2 tr(R^-1 S R^-1 S), M = [[1, xbar'], [xbar, S_xx + xbar xbar']].
    """
    xi = list(x_index)
    b_s, a_s, r_s = ols(s, mean, xi)
    b_m, a_m, r_m = ols(sigma, mu, xi)
    c_s, c_m = np.vstack([a_s, b_s.T]), np.vstack([a_m, b_m.T])
    xbar = mean[xi]
    s_xx = s[np.ix_(xi, xi)] + np.outer(xbar, xbar)
    m = np.block([[np.ones((1, 1)), xbar[None, :]], [xbar[:, None], s_xx]])
    w = np.linalg.inv(r_m)

    def quad(c: np.ndarray, r: np.ndarray) -> float:
        wr = w @ r
        return float(np.trace(w @ c.T @ m @ c) + 0.5 * np.trace(wr @ wr))

    p = r_s.shape[0]
    return 1.0 - quad(c_s - c_m, r_s - r_m) / quad(c_s, r_s), p + p * len(xi) + p * (p + 1) // 2


def has_covariates(model: str, options: dict) -> bool:
    """Whether the model has exogenous observed covariates under fixed.x (lavaan: without them it sets
    conditional.x = FALSE, with a warning, and keeps its default mean structure)."""
    from survey.sem.syntax.groups import group_partable

    keep = {k: v for k, v in options.items() if k not in ("meanstructure", "fixed_x", "test", "information")}
    try:
        pt = group_partable(model, 1, meanstructure=False, fixed_x=True, **keep)
    except Exception:  # noqa: BLE001 - the fit itself reports the syntax error in one line
        return True
    return bool(((pt["exo"] == 1) & (pt["op"] == "~~")).any())


def conditional_residuals(parts: list[dict], kind: str) -> list[dict]:
    """lavaan's ``residuals()`` of a conditional.x fit per group (the fields of
    survey.sem.results.residuals.Residuals): res.cov, res.int, res.slopes (sample minus
    implied OLS moments of y given x), cov.x and mean.x (0: fixed at the sample values). ``cor.bentler``
    scales res.cov and res.int by the sample residual SDs, ``cor``/``cor.bollen`` takes the difference of
    the residual correlations (lav_residuals_rescale: the slopes stay raw)."""
    import pandas as pd

    if kind not in ("raw", "cor", "cor.bollen", "cor.bentler"):
        raise SurveyInputError(f"residual type {kind!r} is not available with conditional.x=TRUE (available: "
                               "raw, cor, cor.bollen, cor.bentler)", field="type")
    out = []
    for part in parts:
        xi = list(part["x_index"])
        names = part["names"]
        ys = [v for i, v in enumerate(names) if i not in xi]
        xs = [names[i] for i in xi]
        b_s, a_s, r_s = ols(part["s"], part["mean"], xi)
        b_m, a_m, r_m = ols(part["sigma"], part["mu"], xi)
        cov, ints = r_s - r_m, a_s - a_m
        if kind != "raw":
            sd_s, sd_m = np.sqrt(np.diag(r_s)), np.sqrt(np.diag(r_m))
            if kind == "cor.bentler":
                cov = cov / np.outer(sd_s, sd_s)
            else:
                cov = r_s / np.outer(sd_s, sd_s) - r_m / np.outer(sd_m, sd_m)
            ints = ints / sd_s
        out.append(dict(cov=pd.DataFrame(cov, index=ys, columns=ys), mean=pd.Series(ints, index=ys),
                        slopes=pd.DataFrame(b_s - b_m, index=ys, columns=xs),
                        cov_x=pd.DataFrame(np.zeros((len(xs), len(xs))), index=xs, columns=xs),
                        mean_x=pd.Series(np.zeros(len(xs)), index=xs)))
    return out


def drop_x_candidates(mi, x_names: set[str]):
    """lavaan's modindices() of a conditional.x fit leave out the candidates x ~ ... (the covariates are
    not modelled: their regressions and (co)variances are not in the model of y given x)."""
    keep = ~(mi["lhs"].isin(x_names) & mi["op"].isin(["~", "~~"])) & ~(
        (mi["op"] == "~~") & mi["rhs"].isin(x_names))
    return mi[keep.to_numpy()]


def refuse_conditional(result, what: str) -> None:
    """One line for what a least-squares fit of y given x does not compute yet (conditional.x = TRUE)."""
    if getattr(result, "conditional_x", False):
        raise SurveyInputError(f"{what} of a {result.estimator} fit with conditional.x=TRUE is not available "
                               "yet (available: estimates, standard errors, fitMeasures(); ML has them)",
                               field="conditional_x")
