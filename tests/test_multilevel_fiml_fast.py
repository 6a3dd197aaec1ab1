"""Two-level FIML with missing values in every cluster (issue 14): the vectorised per-cluster loglik
(Woodbury rows without between-only variables, pattern batches with them) equals the dense normal loglik
of each cluster and lavaan 0.6.14 (tests/fixtures/multilevel/make_multilevel_missing_all.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from survey.sem import fit
from survey.sem.multilevel.loglik import Moments
from survey.sem.multilevel.missing import missing_stats

FIX = Path(__file__).parent / "fixtures" / "multilevel"
LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2")


def _dense_minus2(m: Moments, data: pd.DataFrame, y: list[str], z: list[str]) -> float:
    """-2 logl of every incomplete cluster from its dense joint covariance (scipy's normal density)."""
    out = 0.0
    for _, rows in data.groupby("cluster", sort=False):
        x = rows[y].to_numpy(float)
        if not np.isnan(rows[y + z].to_numpy(float)).any():
            continue
        zv = np.array([np.nanmean(rows[v]) if rows[v].notna().any() else np.nan for v in z])
        zi = np.flatnonzero(np.isfinite(zv))
        r, a = np.nonzero(~np.isnan(x))
        v = m.sb[np.ix_(a, a)] + m.sw[np.ix_(a, a)] * (r[:, None] == r[None, :])
        full = np.block([[m.szz[np.ix_(zi, zi)], m.syz[np.ix_(a, zi)].T], [m.syz[np.ix_(a, zi)], v]])
        mean = np.concatenate([m.mu_z[zi], m.mu_y[a]])
        out += -2.0 * multivariate_normal(mean, full).logpdf(np.concatenate([zv[zi], x[r, a]]))
    return out


def _moments(pz: int, seed: int) -> Moments:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(6 + pz, 6 + pz))
    big = a @ a.T / 8 + 0.3 * np.eye(6 + pz)  # the between (z, y) covariance
    b = rng.normal(size=(6, 6))
    return Moments(b @ b.T / 6 + np.eye(6), big[pz:, pz:], big[:pz, :pz], big[pz:, :pz],
                   rng.normal(size=pz), rng.normal(size=6))


@pytest.mark.parametrize("z", [[], ["w1"]])
def test_fiml_cluster_loglik_and_gradient_equal_dense(z):
    """-2 logl of the incomplete clusters (all but 20 of 200, z = [] through the Woodbury rows, z = [w1]
    through the pattern batches) equals the dense per-cluster normal density; its analytic gradient
    equals central differences of it along random symmetric directions."""
    data = pd.read_csv(FIX / "demo_twolevel_fiml_all.csv")
    if z:
        data["w1"] = pd.read_csv(FIX / "demo_twolevel.csv")["w1"]
        data.loc[data["cluster"].isin([3, 8]), "w1"] = np.nan
    y = [f"y{i}" for i in range(1, 7)]
    ms, _ = missing_stats(data, "cluster", y, z)
    ms.complete = None  # only the incomplete clusters (the complete ones: test_multilevel.py)
    assert len(ms.parts) > 150
    m = _moments(len(z), 7)
    assert ms.minus2_logl(m) == pytest.approx(_dense_minus2(m, data, y, z), rel=1e-10)
    g = ms.moment_gradient(m)
    rng = np.random.default_rng(3)
    for _ in range(3):
        d = [rng.normal(size=s.shape) for s in (m.sw, m.sb, m.szz, m.syz, m.mu_z, m.mu_y)]
        d[0], d[1], d[2] = (x + x.T for x in d[:3])
        h = 1e-5
        base = (m.sw, m.sb, m.szz, m.syz, m.mu_z, m.mu_y)
        hi = Moments(*(p + h * q for p, q in zip(base, d, strict=True)))
        lo = Moments(*(p - h * q for p, q in zip(base, d, strict=True)))
        numeric = (ms.minus2_logl(hi) - ms.minus2_logl(lo)) / (2 * h)
        grads = (g.sw, g.sb, g.szz, g.syz, g.mu_z, g.mu_y)
        analytic = sum(np.sum(a * q) for a, q in zip(grads, d, strict=True))
        assert analytic == pytest.approx(numeric, rel=1e-6)
    # Sigma_B = -0.05 I (not PSD, V_j still positive definite) -> finite, = dense; -1.5 I (V_j not PD) -> inf
    for shift in (-0.05, -1.5):
        bad = Moments(m.sw, shift * np.eye(6), m.szz, 0.0 * m.syz, m.mu_z, m.mu_y)
        try:
            want = _dense_minus2(bad, data, y, z)
        except ValueError:  # scipy: not positive definite
            want = np.inf
        assert bool(np.isfinite(want)) is (shift > -0.5)
        assert ms.minus2_logl(bad) == pytest.approx(want, rel=1e-10)


def test_fiml_missing_in_every_cluster_equals_lavaan():
    """4% of y1-y6 missing at random over all rows of Demo.twolevel (180 of 200 clusters incomplete):
    estimates, SEs, standardized values and every fit measure lavaan reports, = lavaan 0.6.14."""
    ref = json.loads((FIX / "multilevel_missing_all.json").read_text())["cfa_fiml_all"]
    data = pd.read_csv(FIX / "demo_twolevel_fiml_all.csv")
    res = fit(ref["model"], data, cluster="cluster", missing="ml")
    assert res.fit_measures()["ntotal"] == ref["ntotal"] and res.converged is ref["converged"] is True
    est, want = res.estimates(), pd.DataFrame(ref["estimates"])
    assert list(est["lhs"] + est["op"] + est["rhs"]) == list(want["lhs"] + want["op"] + want["rhs"])
    for col in ("est", "se", "std.lv", "std.all"):
        np.testing.assert_allclose(est[col], want[col], atol=1e-3, err_msg=col)
    ours = res.fit_measures()
    na = [k for k, v in ref["fit_measures"].items() if v == "NA" or v is None]  # lavaan's NA robust CFI/RMSEA
    assert na and all(not np.isfinite(ours.get(k, np.nan)) for k in na)
    # lavaan's h1 (nlminb) stops 0.003 below our unrestricted maximum: chisq within 0.006 (rel 1.3e-5)
    for key, value in ref["fit_measures"].items():
        if key in na:
            continue
        tol = {"rel": 1e-5} if key in LIKELIHOOD else {"abs": 1e-3, "rel": 1e-3}
        assert ours[key] == pytest.approx(value, **tol), key
