"""Factor rotation by gradient projection (GPA), with lavaan 0.6.14's criteria, random starts, reflection
and ordering of the rotated factors (``lav_matrix_rotate``, ``lav_matrix_rotate_gpa``).

GPA: Jennrich (2001, Psychometrika 66, orthogonal) and Jennrich (2002, Psychometrika 67, oblique);
Bernaards & Jennrich (2005, EPM 65, the GPArotation algorithm: step doubling then halving until the
criterion drops by at least 0.5 alpha ||Gp||^2; converged when ||Gp||_F < tol). Oblique rotation keeps
T with unit-length columns, loadings L = A T^-T and factor correlations Phi = T'T; orthogonal keeps T
orthonormal, L = A T.

Criteria Q(L) and their gradients dQ/dL (as lavaan writes them):

* geomin (Yates 1987; Browne 2001, MBR 36): sum_i prod_j (l_ij^2 + eps)^(1/m), eps = ``geomin_epsilon``
  (lavaan's rotation.args default 0.001);
* oblimin (Carroll 1957; Jennrich 1979): 1/4 sum L2 * ((I - gamma J/p) L2 N), N = 1 - I (gamma 0 =
  quartimin);
* quartimin: 1/4 sum L2 * (L2 N);
* orthomax (gamma 1 = varimax, Kaiser 1958): -1/4 sum L2 * (L2 - gamma colmeans(L2)); varimax as lavaan
  writes it: -|...|/4;
* the Crawford-Ferguson family, quartimax, bentler, entropy, infomax, mccammon, oblimax, tandem I/II,
  pst and the bi-factor quartimin / geomin: :mod:`survey.sem.efa.criteria`.

Before rotating, lavaan (rotation.args) scales the rows: ``std_ov`` (default TRUE) divides by the
model-implied standard deviations, and row weights ("kaiser": 1/||row||, lavaan's default for varimax and
promax; "cureton-mulaik"; "none" otherwise). ``rstarts`` random orthonormal starts (QR of a normal matrix;
lavaan's default 30, no identity start): the smallest criterion wins. After rotating: columns with a
negative loading sum are reflected, then ordered by "index" (the mean row index of the loadings >= 0.8 x the
column's largest absolute loading), as lavaan's ``reflect = TRUE, order.lv.by = "index"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.efa.criteria import EXTRA, extra_criterion

ORTHOGONAL_ONLY = ("varimax", "entropy", "mccammon", "tandem1", "tandem2")  # lavaan forces orthogonal
METHODS = ("geomin", "oblimin", "quartimin", "varimax", "orthomax", "target", *EXTRA)


def criterion(method: str, lam: np.ndarray, geomin_epsilon: float = 0.001, oblimin_gamma: float = 0.0,
              orthomax_gamma: float = 1.0, target: np.ndarray | None = None, cf_gamma: float = 0.0,
              target_mask: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Q(L) and dQ/dL for one of :data:`METHODS` (lavaan's ``lav_matrix_rotate_<method>``; target:
    Harman 1976, Q = sum (L - target)^2 over the target's non-missing cells, dQ/dL = 2 (L - target);
    the others: :mod:`survey.sem.efa.criteria`)."""
    p, m = lam.shape
    if method in EXTRA:
        if method == "pst" and np.shape(target) != lam.shape:
            raise SurveyInputError(f"rotation_args target has shape {np.shape(target)}, the efa block's "
                                   f"loadings {p} x {m}", field="rotation_args", value="target")
        return extra_criterion(method, lam, lambda name, sub: criterion(name, sub, geomin_epsilon),
                               cf_gamma, target, target_mask)
    if method == "target":
        target = np.asarray(target, dtype=float)
        if target.shape != lam.shape:
            raise SurveyInputError(f"rotation_args target has shape {target.shape}, the efa block's "
                                   f"loadings {p} x {m}", field="rotation_args", value="target")
        diff = lam - target
        return float(np.nansum(diff * diff)), np.nan_to_num(2.0 * diff)
    l2 = lam * lam
    if method == "geomin":
        l2e = l2 + geomin_epsilon
        if geomin_epsilon < np.sqrt(np.finfo(float).eps):
            row = np.prod(l2e, axis=1) ** (1.0 / m)
        else:
            row = np.exp(np.log(l2e).sum(axis=1) / m)
        return float(row.sum()), (2.0 / m) * lam / l2e * row[:, None]
    if method in ("oblimin", "quartimin"):
        gamma = oblimin_gamma if method == "oblimin" else 0.0
        lr = l2 @ (np.ones((m, m)) - np.eye(m))
        tmp = lr - gamma * lr.mean(axis=0, keepdims=True) if gamma else lr
        return float((l2 * tmp).sum() / 4.0), lam * tmp
    if method in ("varimax", "orthomax"):
        gamma = 1.0 if method == "varimax" else orthomax_gamma
        centred = l2 - gamma * l2.mean(axis=0, keepdims=True)
        value = (l2 * centred).sum() / 4.0
        return float(-abs(value) if method == "varimax" else -value), -lam * centred
    raise SurveyInputError(f"rotation={method!r} is not available (available: {', '.join(METHODS)}, none)",
                           field="rotation", value=method)


def gpa(a: np.ndarray, start: np.ndarray, orthogonal: bool, crit, tol: float = 1e-5,
        max_iter: int = 10000) -> tuple[np.ndarray, float, bool]:
    """GPA from the rotation ``start``; returns (T, Q, converged). ``crit(L) -> (Q, dQ/dL)``."""
    t = start.copy()

    def loadings(rot):
        return a @ rot if orthogonal else np.linalg.solve(rot, a.T).T

    lam = loadings(t)
    q, gq = crit(lam)
    grad = a.T @ gq if orthogonal else -np.linalg.solve(t.T, gq.T @ lam)
    alpha, converged = 1.0, False
    for _ in range(max_iter + 1):
        if orthogonal:
            mm = t.T @ grad
            gp = grad - t @ ((mm + mm.T) / 2.0)
        else:
            gp = grad - t * np.sum(t * grad, axis=0)[None, :]
        frob = float(np.sqrt(np.sum(gp * gp)))
        if frob < tol:
            converged = True
            break
        alpha *= 2.0
        for _ in range(1000):
            x = t - alpha * gp
            if orthogonal:
                u, _, vt = np.linalg.svd(x)
                t_new = u @ vt
            else:
                t_new = x / np.sqrt(np.sum(x * x, axis=0))[None, :]
            lam = loadings(t_new)
            q_new, gq = crit(lam)
            if q_new < q - 0.5 * frob * frob * alpha:
                break
            alpha /= 2.0
        t, q = t_new, q_new
        grad = a.T @ gq if orthogonal else -np.linalg.solve(t.T, gq.T @ lam)
    return t, q, converged


@dataclass
class Rotation:
    """A rotated block: loadings, factor correlations, T (lavaan's ROT: L = A T^-T, Phi = T'T oblique)."""

    loadings: np.ndarray
    phi: np.ndarray
    rot: np.ndarray
    order: np.ndarray
    value: float
    converged: bool


def cureton_mulaik(a: np.ndarray) -> np.ndarray:
    """Cureton & Mulaik (1975, Psychometrika 40) weights: with a* = |first principal axis of A A'| times
    the Kaiser weights and d = pi/2 where a* < 1/sqrt(m) (else 0), w = (cos^2(pi/2 (acos(1/sqrt m) -
    acos a*) / (acos(1/sqrt m) - d)) + 0.001) / ||row|| (lavaan's ``lav_matrix_rotate_cm_weights``)."""
    vals, vecs = np.linalg.eigh(a @ a.T)
    first = vecs[:, -1] * np.sqrt(vals[-1])
    kaiser = 1.0 / np.sqrt(np.sum(a * a, axis=1))
    star = np.abs(first * kaiser)
    root = 1.0 / np.sqrt(a.shape[1])
    delta = np.where(star < root, np.pi / 2, 0.0)
    ang = (np.arccos(root) - np.arccos(np.clip(star, -1.0, 1.0))) / (np.arccos(root) - delta) * (np.pi / 2)
    return (np.cos(ang) ** 2 + 0.001) * kaiser


def row_weights(a: np.ndarray, kind: str) -> np.ndarray:
    """lavaan's row weights: "none" (1), "kaiser" (1 / ||row||) or "cureton-mulaik"."""
    if kind == "none":
        return np.ones(a.shape[0])
    if kind == "kaiser":
        return 1.0 / np.sqrt(np.sum(a * a, axis=1))
    if kind == "cureton-mulaik":
        return cureton_mulaik(a)
    raise SurveyInputError(f"row_weights={kind!r} is not lavaan's (lavaan: row.weights can be none, kaiser "
                           "or cureton-mulaik)", field="rotation_args", value=kind)


def rotate(a: np.ndarray, method: str = "geomin", orthogonal: bool = False, ov_var: np.ndarray | None = None,
           weights: str = "none", rstarts: int = 30, seed: int = 0, tol: float = 1e-5,
           max_iter: int = 10000, start: np.ndarray | None = None, **criterion_args) -> Rotation:
    """Rotate the unrotated loadings ``a`` (p x m) as lavaan's ``lav_matrix_rotate`` (GPA, ``rstarts``
    random starts drawn with ``seed``; ``ov_var``: std.ov's model-implied variances; ``start``: one GPA
    run from this rotation instead, as lavaan's init.ROT with rstarts = 0)."""
    p, m = a.shape
    if method == "biquartimin" and m < 3:
        raise SurveyInputError("rotation='bi-quartimin' needs an efa block of 3 or more factors (with one "
                               "group factor its criterion is constant: every rotation is a solution)",
                               field="rotation", value=method)
    scaled = a / np.sqrt(ov_var)[:, None] if ov_var is not None else a.copy()
    w = row_weights(scaled, weights)
    scaled = scaled * w[:, None]

    def crit(lam):
        return criterion(method, lam, **criterion_args)

    rng = np.random.default_rng(seed)
    best = None
    if start is not None:
        starts = [np.asarray(start, dtype=float)]
    elif rstarts > 0:
        starts = [np.linalg.qr(rng.standard_normal((m, m)))[0] for _ in range(rstarts)]
    else:
        starts = [np.eye(m)]
    for start in starts:
        t, q, ok = gpa(scaled, start, orthogonal, crit, tol, max_iter)
        if best is None or q < best[1]:
            best = (t, q, ok)
    t, q, ok = best
    lam = scaled @ t if orthogonal else np.linalg.solve(t, scaled.T).T
    lam = lam / w[:, None]
    if ov_var is not None:
        lam = lam * np.sqrt(ov_var)[:, None]
    neg = lam.sum(axis=0) < 0  # reflect = TRUE
    lam[:, neg] *= -1.0
    t[:, neg] *= -1.0
    phi = np.eye(m) if orthogonal else t.T @ t
    top = np.abs(lam).max(axis=0)
    index = [np.mean(np.flatnonzero(np.abs(lam[:, j]) >= 0.8 * top[j]) + 1) for j in range(m)]
    order = np.argsort(index, kind="stable")  # order.lv.by = "index"
    return Rotation(lam[:, order], phi[np.ix_(order, order)], t[:, order], order, q, ok)
