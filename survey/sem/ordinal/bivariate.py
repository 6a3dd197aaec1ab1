"""Bivariate standard normal probabilities and their derivatives, vectorised over any array shape.

``pbinorm(a, b, rho) = P(X < a, Y < b)`` for standard normals with correlation ``rho``: the
Drezner & Wesolowsky (1990, J Stat Comput Simul 35) method as refined by Genz (2004, Statistics and
Computing 14, "Numerical computation of rectangular bivariate and trivariate normal and t
probabilities"): for |rho| < .925 a Gauss-Legendre rule on Plackett's integral (Genz's 6, 12 or 20
points for |rho| < .3, < .75 and above)

    Phi2(a, b, rho) = Phi(a) Phi(b) + 1/(2 pi) int_0^asin(rho) exp(-(a^2 + b^2 - 2ab sin t) / (2 cos^2 t)) dt,

and for |rho| >= .925 Genz's series-plus-quadrature correction of the near-singular case. Error below
1e-14 in double precision; every input may carry +-inf (the limits Phi(b), Phi(a) or 0).

Derivatives (Olsson 1979, Psychometrika 44):

    d Phi2 / d rho = phi2(a, b, rho) = exp(-(a^2 - 2 rho a b + b^2) / (2 (1 - rho^2))) / (2 pi s),
                     s = sqrt(1 - rho^2)
    d Phi2 / d a   = phi(a) Phi((b - rho a) / sqrt(1 - rho^2))
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

_X, _W = np.polynomial.legendre.leggauss(20)  # nodes on [-1, 1]; the rules below use 1 + x in (0, 2)
_RULES = [(0.3, *np.polynomial.legendre.leggauss(6)), (0.75, *np.polynomial.legendre.leggauss(12)),
          (0.925, _X, _W)]  # Genz (2004): the points needed for double precision by |rho|
_TWO_PI = 2.0 * np.pi


def _plackett(h: np.ndarray, k: np.ndarray, r: np.ndarray, x: np.ndarray = _X,
              w: np.ndarray = _W) -> np.ndarray:
    """P(X > h, Y > k) for |r| < .925 (Genz 2004, eq. 3 with Gauss-Legendre nodes ``x``, weights ``w`` on
    t in (0, asin r))."""
    hk = h * k
    hs = (h * h + k * k) / 2.0
    asr = np.arcsin(r) / 2.0
    sn = np.sin(asr[..., None] * (1.0 + x))
    terms = np.exp((sn * hk[..., None] - hs[..., None]) / (1.0 - sn * sn))
    return (terms @ w) * asr / _TWO_PI + ndtr(-h) * ndtr(-k)


def _near_singular(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """P(X > h, Y > k) for |r| >= .925 (Genz 2004, section 2.2: Drezner-Wesolowsky's correction)."""
    neg = r < 0
    k = np.where(neg, -k, k)
    hk = h * k
    one_minus = np.maximum(1.0 - r * r, 0.0)
    a = np.sqrt(one_minus)
    bs = (h - k) ** 2
    c = (4.0 - hk) / 8.0
    d = (12.0 - hk) / 80.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        asr = -(bs / one_minus + hk) / 2.0
        bvn = np.where(asr > -100, a * np.exp(asr) * (1 - c * (bs - one_minus) * (1 - d * bs) / 3
                                                      + c * d * one_minus**2), 0.0)
        b = np.sqrt(bs)
        sp = np.sqrt(_TWO_PI) * ndtr(-b / a)
        bvn = np.where(hk > -100, bvn - np.exp(-hk / 2) * sp * b * (1 - c * bs * (1 - d * bs) / 3), bvn)
        half = a / 2.0
        xs = (half[..., None] * (1.0 + _X)) ** 2
        asx = -(bs[..., None] / xs + hk[..., None]) / 2.0
        sp2 = 1.0 + c[..., None] * xs * (1.0 + 5.0 * d[..., None] * xs)
        rs = np.sqrt(1.0 - xs)
        ep = np.exp(-(hk[..., None] / 2.0) * xs / (1.0 + rs) ** 2) / rs
        f = np.where(asx > -100, np.exp(asx) * (sp2 - ep), 0.0)
        bvn = np.where(one_minus > 0, (half * (np.nan_to_num(f) @ _W) - bvn) / _TWO_PI, 0.0)
    pos = bvn + ndtr(-np.maximum(h, k))
    lower = np.where(h < 0, ndtr(k) - ndtr(h), ndtr(-h) - ndtr(-k))
    negv = np.where(h >= k, -bvn, lower - bvn)
    return np.where(neg, negv, pos)


def pbinorm(a, b, rho) -> np.ndarray:
    """P(X < a, Y < b), X, Y standard normal with correlation ``rho`` (arrays broadcast; +-inf allowed)."""
    a, b, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float), np.asarray(rho, float))
    out = np.zeros(a.shape)
    fin = np.isfinite(a) & np.isfinite(b)
    # limits: a = +inf -> Phi(b); b = +inf -> Phi(a); either -inf -> 0
    out = np.where(np.isposinf(a) & ~np.isneginf(b), ndtr(b), out)
    out = np.where(np.isposinf(b) & ~np.isneginf(a), ndtr(a), out)
    if fin.any():
        h, k, r = -a[fin], -b[fin], rho[fin]
        small = np.abs(r) < 0.925
        val = np.empty(h.shape)
        lower = 0.0  # |r| bands of _RULES
        for upper, x, w in _RULES:
            band = (np.abs(r) >= lower) & (np.abs(r) < upper)
            if band.any():
                val[band] = _plackett(h[band], k[band], r[band], x, w)
            lower = upper
        if (~small).any():
            val[~small] = _near_singular(h[~small], k[~small], r[~small])
        out[fin] = np.clip(val, 0.0, 1.0)
    return out


def dbinorm(a, b, rho) -> np.ndarray:
    """Bivariate standard normal density phi2(a, b, rho) (0 where a or b is infinite)."""
    a, b, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float), np.asarray(rho, float))
    fin = np.isfinite(a) & np.isfinite(b)
    aa, bb = np.where(fin, a, 0.0), np.where(fin, b, 0.0)
    one_minus = 1.0 - rho * rho
    q = (aa * aa - 2 * rho * aa * bb + bb * bb) / one_minus
    return np.where(fin, np.exp(-q / 2) / (_TWO_PI * np.sqrt(one_minus)), 0.0)


def dpbinorm_da(a, b, rho) -> np.ndarray:
    """d Phi2(a, b, rho) / d a = phi(a) Phi((b - rho a) / sqrt(1 - rho^2)) (0 where a is infinite)."""
    a, b, rho = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float), np.asarray(rho, float))
    fa = np.isfinite(a)
    aa = np.where(fa, a, 0.0)
    with np.errstate(invalid="ignore"):
        z = (b - rho * aa) / np.sqrt(1.0 - rho * rho)
    dens = np.exp(-aa * aa / 2) / np.sqrt(_TWO_PI)
    return np.where(fa, dens * ndtr(z), 0.0)


def rectangles(grid: np.ndarray) -> np.ndarray:
    """Cell probabilities from a grid of ``Phi2(tau_k, sigma_l)`` (..., K+1, L+1): the rectangles'
    inclusion-exclusion ``G[k+1, l+1] - G[k, l+1] - G[k+1, l] + G[k, l]`` (..., K, L)."""
    return grid[..., 1:, 1:] - grid[..., :-1, 1:] - grid[..., 1:, :-1] + grid[..., :-1, :-1]
