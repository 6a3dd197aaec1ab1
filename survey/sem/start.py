"""Starting values, as lavaan's ``lav_start`` (start="default", i.e. "lavaan"; lavaan 0.6.14).

- factor loadings: per factor whose indicators are all observed, FABIN 3 (Hagglund 1982,
  Psychometrika 47) on the indicators' sample covariance S, the first indicator as reference:
      lambda_1 = 1,  lambda_i = s_i3' S_33^-1 s_31 / (s_13' S_33^-1 s_31)   (3 = the other indicators),
  bounded by |lambda_i| <= sqrt(s_ii / (0.1 s_11)); with fewer than 4 indicators the closed-form
  three-indicator solution (lambda_2 = s_32 / s_31, lambda_3 = s_32 / s_21, psi = s_21 s_31 / s_32;
  one or two indicators are padded to three as lavaan does). When the factor is identified by its
  variance (``F ~~ 1*F``) the loadings are rescaled by sqrt|psi|, psi from the FABIN residual variances
      theta = (I - D*D)^-1 diag(S - D S D),  D = lambda lambda' / lambda'lambda,
      psi = lambda' (S - diag theta) lambda / (lambda'lambda)^2.
  A negative triad gives 0.7 (variance-identified) or 1; factors measured by other factors start at 1;
- residual variances of observed variables: half the sample variance;
- latent (residual) variances 0.05; regressions and covariances 0; intercepts at the sample means,
  latent means 0; fixed.x moments and user-fixed values at their values.
"""

from __future__ import annotations

import numpy as np

from survey.sem.data import GroupStats
from survey.sem.model import RAMModel


def three_indicator(s: np.ndarray, std_lv: bool) -> tuple[np.ndarray, bool]:
    """Loadings of a one-factor model with 1-3 indicators in closed form (and the negative-triad flag)."""
    nvar = s.shape[0]
    if nvar == 1:
        s = np.ones((3, 3))
    elif nvar == 2:
        extra = np.array([np.mean(np.diag(s)), s[1, 0]])
        s = np.block([[s, extra[:, None]], [extra[None, :], np.array([[np.max(np.diag(s))]])]])
    s21, s31, s32 = s[1, 0], s[2, 0], s[2, 1]
    neg = bool(s21 * s31 * s32 < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        psi = s21 * s31 / s32
        lam = np.array([1.0, s32 / s31, s32 / s21])
    lower = 0.1 * s[0, 0]
    psi = min(max(psi, lower), s[0, 0]) if np.isfinite(psi) else psi
    for i in (1, 2):
        bound = np.sqrt(s[i, i] / lower)
        lam[i] = min(max(-bound, lam[i]), bound)
    if std_lv:
        lam = lam * np.sign(psi) * np.sqrt(abs(psi))
    return lam[:nvar], neg


def fabin3(s: np.ndarray, std_lv: bool = False) -> tuple[np.ndarray, bool]:
    """FABIN 3 loadings of a one-factor model on covariance ``s`` (see the module docstring)."""
    nvar = s.shape[0]
    if nvar < 4:
        return three_indicator(s, std_lv)
    lam = np.ones(nvar)
    for i in range(1, nvar):
        rest = [k for k in range(nvar) if k not in (0, i)]
        s_i3, s_31 = s[i, rest], s[rest, 0]
        try:
            w = np.linalg.solve(s[np.ix_(rest, rest)], s_31)
            lam[i] = (s_i3 @ w) / (s_31 @ w)
        except np.linalg.LinAlgError:
            lam[i] = (s_i3 @ s_31) / (s_31 @ s_31)
    lower = 0.1 * s[0, 0]
    bound = np.sqrt(np.diag(s)[1:] / lower)
    lam[1:] = np.clip(lam[1:], -bound, bound)
    if std_lv:
        l2 = lam @ lam
        d = np.outer(lam, lam) / l2
        theta = np.linalg.solve(np.eye(nvar) - d * d, np.diag(s - d @ s @ d))
        psi = lam @ (s - np.diag(theta)) @ lam / l2**2
        lam = lam * np.sign(psi) * np.sqrt(abs(psi))
    return lam, False


def start_values(model: RAMModel, stats: GroupStats) -> np.ndarray:
    """Vector of starting values of the free parameters (length ``model.npar``)."""
    pt = model.partable
    lhs, op, rhs = pt["lhs"].to_numpy(), pt["op"].to_numpy(), pt["rhs"].to_numpy()
    free = pt["free"].to_numpy(dtype=int)
    ustart = pt["ustart"].to_numpy(dtype=float)
    cov = stats.cov
    idx = {v: i for i, v in enumerate(model.ov)}
    start = np.zeros(len(pt))
    start[op == "=~"] = 1.0
    lv = set(model.lv)
    for f in model.lv:
        rows = np.flatnonzero((lhs == f) & (op == "=~"))
        if not rows.size or any(r in lv or r not in idx for r in rhs[rows]):
            continue
        var_rows = np.flatnonzero((lhs == f) & (op == "~~") & (rhs == f))
        std_lv = bool(var_rows.size) and bool(np.all(free[var_rows] == 0) and np.all(ustart[var_rows] == 1))
        ov_idx = [idx[r] for r in rhs[rows]]
        lam, neg = fabin3(cov[np.ix_(ov_idx, ov_idx)], std_lv)
        lam[~np.isfinite(lam)] = 1.0
        if neg:
            lam[:] = 0.7 if std_lv else 1.0
        start[rows] = lam
    for k in range(len(pt)):
        if op[k] == "~~" and lhs[k] == rhs[k]:
            start[k] = 0.5 * cov[idx[lhs[k]], idx[lhs[k]]] if lhs[k] in idx else 0.05
        elif op[k] == "~1":
            start[k] = stats.mean[idx[lhs[k]]] if lhs[k] in idx else 0.0
    user = np.isfinite(ustart)
    start[user] = ustart[user]
    start[~np.isfinite(start)] = 0.5
    exo = pt["exo"].to_numpy(dtype=int) if "exo" in pt else np.zeros(len(pt), dtype=int)
    check_cov(start, lhs, op, rhs, free, ustart, exo)
    theta = np.zeros(model.npar)
    for k in range(len(pt) - 1, -1, -1):  # first row of an equality label wins
        if free[k] > 0:
            theta[free[k] - 1] = start[k]
    return theta


def check_cov(start: np.ndarray, lhs, op, rhs, free, ustart, exo) -> None:
    """lavaan's ``lav_start_check_cov`` (lav_start.R, 0.6.14), in place: a starting covariance whose implied
    correlation exceeds 1 in absolute value (e.g. a user-fixed ``f1 ~~ 0.3*f2`` beside the 0.05 starting
    variances of the factors) is repaired by dividing the covariance by 1.1 r, or multiplying the smaller
    (else the larger) variance by (1.1 r)^2 -- the first of these that is free and not user-started, else
    the first that is free; a free covariance of a variable whose variance is fixed at 0 starts at 0."""
    var_row = {a: k for k, (a, o, b) in enumerate(zip(lhs, op, rhs, strict=True)) if o == "~~" and a == b}
    for k in range(len(start)):
        if op[k] != "~~" or lhs[k] == rhs[k] or exo[k] or start[k] == 0:
            continue
        i, j = var_row.get(lhs[k]), var_row.get(rhs[k])
        if i is None or j is None:
            continue
        if start[i] == 0 or start[j] == 0:
            if free[k] > 0:
                start[k] = 0.0
            continue
        small, large = (i, j) if abs(start[i]) < abs(start[j]) else (j, i)
        r = start[k] / np.sqrt(start[i] * start[j]) if start[i] * start[j] > 0 else np.nan
        if not np.isfinite(r):
            start[i] = start[j] = 1.0
            start[k] = 0.0
            continue
        if abs(r) <= 1:
            continue
        fixes = [(k, 1.0 / (r * 1.1)), (small, (r * 1.1) ** 2), (large, (r * 1.1) ** 2)]
        pick = next((f for f in fixes if free[f[0]] > 0 and not np.isfinite(ustart[f[0]])), None) \
            or next((f for f in fixes if free[f[0]] > 0), None)
        if pick is not None:
            start[pick[0]] *= pick[1]
