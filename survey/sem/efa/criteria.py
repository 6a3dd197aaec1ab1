"""More rotation criteria Q(L) with their gradients dQ/dL, scaled as lavaan 0.6.14 writes them
(``lav_matrix_rotate_<name>``); GPA only needs Q and dQ/dL (Bernaards & Jennrich 2005, EPM 65).

* Crawford-Ferguson (Crawford & Ferguson 1970, Psychometrika 35), kappa in [0, 1]:
  Q = (1 - kappa)/4 sum L2 * (L2 N) + kappa/4 sum L2 * (M L2), N = 1_mm - I, M = 1_pp - I;
  dQ/dL = (1 - kappa) L * (L2 N) + kappa L * (M L2). Named kappas (Browne 2001, MBR 36, table 1):
  quartimax 0, varimax 1/p, equamax m/(2p), parsimax (m-1)/(p+m-2), factor parsimony 1.
* quartimax (Carroll 1953): Q = -1/4 sum L2^2, dQ/dL = -L * L2.
* bentler's invariant pattern simplicity (Bentler 1977, Psychometrika 42): with M = L2'L2 and
  D = diag(M), Q = -(log|M| - log|D|)/4, dQ/dL = -L * (L2 (M^-1 - D^-1)).
* minimum entropy (Jennrich 2004, Psychometrika 69): Q = -1/2 sum L2 log L2 (0 log 0 = 0),
  dQ/dL = -L log L2 - L.
* infomax (McKeon 1968; Browne 2001): Q = log m + H(L2/s) - H(colsums/s) - H(rowsums/s), s = sum L2,
  H the entropy -sum x log x.
* McCammon's minimum entropy ratio (McCammon 1966): Q = log H1 - log H2, H1 the entropy of each column's
  L2 shares P_ij = L2_ij / s_j (summed), H2 that of the column shares s_j / s.
* oblimax (Saunders 1961): Q = -log sum L2^2 + 2 log sum L2.
* tandem criteria I and II (Comrey 1967): with LL = L L', Q1 = -sum L2 * (LL^2 L2),
  Q2 = sum L2 * ((1 - LL^2) L2).
* partially specified target (Browne 1972; 2001): Q = sum (W * (L - B))^2 over the target B's cells with
  weight W = 1 (``target_mask``), dQ/dL = 2 W (L - B).
* simplimax (Kiers 1994, Psychometrika 59): Q = sum of the k smallest L2 (lavaan's k = p, the number of
  rows; every cell with L2 <= the k-th smallest counts), dQ/dL = 2 ID * L, ID the indicator of those cells.
* bi-factor quartimin and geomin (Jennrich & Bentler 2011, Psychometrika 76; 2012, 77): the criterion on
  the group factors' columns 2..m, the general factor (column 1) unconstrained (gradient 0).
"""

from __future__ import annotations

import numpy as np

CF_NAMED = ("cf-quartimax", "cf-varimax", "cf-equamax", "cf-parsimax", "cf-facparsim")
EXTRA = ("cf", *CF_NAMED, "quartimax", "bentler", "entropy", "infomax", "mccammon", "oblimax", "tandem1",
         "tandem2", "pst", "biquartimin", "bigeomin", "simplimax")


def cf_kappa(method: str, p: int, m: int, cf_gamma: float = 0.0) -> float:
    """The Crawford-Ferguson kappa of a named member (lavaan's switch), or ``cf_gamma`` for "cf"."""
    return {"cf-quartimax": 0.0, "cf-varimax": 1.0 / p, "cf-equamax": m / (2.0 * p),
            "cf-parsimax": (m - 1.0) / (p + m - 2.0), "cf-facparsim": 1.0}.get(method, cf_gamma)


def _entropy(x: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)))


def cf(lam: np.ndarray, kappa: float) -> tuple[float, np.ndarray]:
    p, m = lam.shape
    l2 = lam * lam
    lr = l2 @ (np.ones((m, m)) - np.eye(m))
    lc = (np.ones((p, p)) - np.eye(p)) @ l2
    q = (1 - kappa) * np.sum(l2 * lr) / 4 + kappa * np.sum(l2 * lc) / 4
    return float(q), (1 - kappa) * lam * lr + kappa * lam * lc


def bentler(lam: np.ndarray) -> tuple[float, np.ndarray]:
    l2 = lam * lam
    mm = l2.T @ l2
    diag = np.diag(mm)
    logdet = np.linalg.slogdet(mm)[1]
    q = -(logdet - np.sum(np.log(diag))) / 4
    return float(q), -lam * (l2 @ (np.linalg.inv(mm) - np.diag(1.0 / diag)))


def entropy(lam: np.ndarray) -> tuple[float, np.ndarray]:
    l2 = lam * lam
    l2 = np.where(l2 == 0, 1.0, l2)
    return float(-np.sum(l2 * np.log(l2)) / 2), -lam * np.log(l2) - lam


def infomax(lam: np.ndarray) -> tuple[float, np.ndarray]:
    p, m = lam.shape
    l2 = lam * lam
    rows, cols, s = l2.sum(axis=1), l2.sum(axis=0), l2.sum()
    q = np.log(m) + _entropy(l2 / s) - _entropy(cols / s) - _entropy(rows / s)
    h = -(np.log(l2 / s) + 1)
    g1 = h / s - np.sum(l2 * h) / s**2
    hj = -(np.log(cols / s) + 1)
    g2 = np.broadcast_to(hj / s, (p, m)) - float(hj @ cols) / s**2
    hi = -(np.log(rows / s) + 1)
    g3 = np.broadcast_to((hi / s)[:, None], (p, m)) - float(rows @ hi) / s**2
    return float(q), 2 * lam * (g1 - g2 - g3)


def mccammon(lam: np.ndarray) -> tuple[float, np.ndarray]:
    p, m = lam.shape
    l2 = lam * lam
    cols, s = l2.sum(axis=0), l2.sum()
    share = l2 / cols[None, :]
    q1, q2 = _entropy(share), _entropy(cols / s)
    h = -(np.log(share) + 1)
    g1 = h / cols[None, :] - (np.sum(l2 * h, axis=0) / cols**2)[None, :]
    hc = -(np.log(cols / s) + 1)
    g2 = np.broadcast_to(hc / s - float(hc @ cols) / s**2, (p, m))
    return float(np.log(q1) - np.log(q2)), 2 * lam * (g1 / q1 - g2 / q2)


def oblimax(lam: np.ndarray) -> tuple[float, np.ndarray]:
    l2 = lam * lam
    s4, s2 = np.sum(l2 * l2), np.sum(l2)
    return float(-np.log(s4) + 2 * np.log(s2)), -4 * l2 * lam / s4 + 4 * lam / s2


def tandem(lam: np.ndarray, second: bool) -> tuple[float, np.ndarray]:
    l2 = lam * lam
    ll = lam @ lam.T
    weight = 1 - ll * ll if second else ll * ll
    q = np.sum(l2 * (weight @ l2))
    g1 = 4 * lam * (weight @ l2)
    g2 = 4 * (ll * (l2 @ l2.T)) @ lam
    return (float(q), g1 - g2) if second else (float(-q), -g1 - g2)


def simplimax(lam: np.ndarray) -> tuple[float, np.ndarray]:
    l2 = lam * lam
    small = np.sort(l2, axis=None)[lam.shape[0] - 1]
    ind = (l2 <= small).astype(float)
    return float(np.sum(l2 * ind)), 2 * ind * lam


def pst(lam: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    diff = mask * lam - mask * target
    return float(np.nansum(diff * diff)), np.nan_to_num(2 * diff)


def extra_criterion(method: str, lam: np.ndarray, base, cf_gamma: float = 0.0, target=None,
                    target_mask=None) -> tuple[float, np.ndarray]:
    """Q and dQ/dL for one of :data:`EXTRA`; ``base(method, lam)`` evaluates geomin / quartimin for the
    bi-factor criteria."""
    p, m = lam.shape
    if method == "cf" or method in CF_NAMED:
        return cf(lam, cf_kappa(method, p, m, cf_gamma))
    if method == "quartimax":
        l2 = lam * lam
        return float(-np.sum(l2 * l2) / 4), -lam * l2
    if method in ("biquartimin", "bigeomin"):
        q, g = base("quartimin" if method == "biquartimin" else "geomin", lam[:, 1:])
        return q, np.hstack([np.zeros((p, 1)), g])
    if method in ("tandem1", "tandem2"):
        return tandem(lam, method == "tandem2")
    if method == "pst":
        return pst(lam, np.asarray(target, dtype=float), np.asarray(target_mask, dtype=float))
    return {"bentler": bentler, "entropy": entropy, "infomax": infomax, "mccammon": mccammon,
            "oblimax": oblimax, "simplimax": simplimax}[method](lam)
