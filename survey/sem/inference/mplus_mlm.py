"""Estimators MLM and MLMV under ``mimic = "Mplus"`` (lavaan 0.6.14 ``lav_model_nvcov_robust_sem``,
``lav_model_information_expected_MLM``, ``lav_test_satorra_bentler``): robust.sem and the Satorra-Bentler
test with the information at the sample moments.

With f_g = N_g / N, f1_g = (N_g - 1) / N, W_g(S) the normal h1 information at the sample covariance matrix
S_g (divisor N_g; fixed.x elements zeroed) instead of at Sigma(theta), Delta_g the model Jacobian and
Gamma_g the ADF covariance of the moments (divisor N_g):

    E     = sum_g f_g Delta_g' W_g(S) Delta_g
    vcov  = E^-1 [sum_g f_g^2 / f1_g Delta_g' W_g(S) Gamma*_g W_g(S) Delta_g] E^-1 / N,
            Gamma*_g = Gamma_g with its mean block times (N_g - 1) / N_g
    U     = bdiag(f_g W_g(S)) - bdiag(f_g W_g(S)) Delta E^-1 Delta' bdiag(f_g W_g(S)),
    c     = tr(U bdiag(Gamma_g / f_g)) / df,  T_SB = T / c      (Satorra & Bentler 1994)

the same for the baseline model; MLMV's scaled.shifted test takes tr(U bdiag(Gamma_g / f_g)) and
tr((U bdiag(Gamma_g / f_g))^2) of the same U (tests/fixtures/wishart_options: mplus_mlmv). Everything
else of the MLM fit (estimates, T, logl) is unchanged.
"""

from __future__ import annotations

import numpy as np

from survey.sem.inference.tests import satorra_bentler
from survey.sem.inference.vcov import Information, h1_weight, is_singular, symmetric_inverse
from survey.sem.model.moments import block_gamma


def mplus_sem(mg, blocks, theta: np.ndarray, deltas: list[np.ndarray]):
    """(Information with the robust.sem vcov, the pieces of the Satorra-Bentler test) of the notes."""
    n = float(sum(b.n for b in blocks))
    e = np.zeros((mg.npar, mg.npar))
    middle, middle_v, parts = np.zeros_like(e), np.zeros_like(e), []
    for ram, b, d in zip(mg.models, blocks, deltas, strict=True):
        ms = ram.meanstructure
        f, f1 = b.n / n, (b.n - 1.0) / n
        w = h1_weight(b, b.cov, ms)
        gamma = block_gamma(b, ms)
        star = gamma.copy()
        if ms:
            p = b.cov.shape[0]
            star[:p, :p] *= (b.n - 1.0) / b.n
        wd = w @ d
        e += f * d.T @ wd
        middle += f * wd.T @ gamma @ wd
        middle_v += f * f / f1 * wd.T @ star @ wd
        parts.append((w, gamma))
    singular, low = is_singular(e)
    q = e.shape[0]
    if singular:
        return Information(e, np.full((q, q), np.nan), True, low), (e, middle, parts)
    e_inv = symmetric_inverse(e)
    v = e_inv @ middle_v @ e_inv / n
    return Information(e, (v + v.T) / 2.0, False, low), (e, middle, parts)


def apply_mplus_mlm(res) -> None:
    """Replace the vcov and the scaled tests (model and baseline) of an MLM fit ``res`` by the notes'."""
    from survey.sem.inference.information import deltas

    blocks = res.stats.groups
    info, pieces = mplus_sem(res.mg, blocks, res.theta, deltas(res.mg, res.theta))
    res._vcov = info.vcov
    if res.information is not None:
        res.information.vcov = info.vcov
    method = res.pieces.scaled.method if res.pieces.scaled is not None else "satorra.bentler"
    res.pieces.scaled = _test(method, res.mg, blocks, res.theta, float(res.pieces.stat),
                              float(res.pieces.df), pieces)
    base = res.baseline
    if base is not None and getattr(base, "scaled", None) is not None:
        _, bpieces = mplus_sem(base.mg, blocks, base.theta, deltas(base.mg, base.theta))
        base.scaled = _test(method, base.mg, blocks, base.theta, float(base.stat), float(base.df), bpieces)
    res.partable = res._fill_partable(res.mg.partable.copy())
    for key in ("_fit", "_fit_all"):
        res.__dict__.pop(key, None)


def _test(method: str, mg, blocks, theta: np.ndarray, stat: float, df: float, pieces):
    """Satorra-Bentler from the notes' pieces; MLMV's scaled.shifted from the same U Gamma (lavaan
    ``lav_test_satorra_bentler``: under Mplus only its labels differ) with W_g(S) and E^-1."""
    if method != "scaled.shifted":
        return satorra_bentler(stat, df, *pieces)
    from survey.sem.inference.adjusted import requested_test
    from survey.sem.inference.information import deltas

    e = pieces[0]
    if is_singular(e)[0]:
        return satorra_bentler(stat, df, *pieces)
    return requested_test(method, stat, df, mg, blocks, theta, deltas(mg, theta), symmetric_inverse(e),
                          weight=lambda b, sigma, mu, ms: h1_weight(b, b.cov, ms))
