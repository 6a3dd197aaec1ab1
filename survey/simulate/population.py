"""The population model of the simulated study: the known truth every recovery test is held to.

The structural model (standardized metric, every latent variable has mean 0 and variance 1)::

    (SHI, SKL, AUT, EMO, CON, PEER) ~ N(0, Phi)
    FOL = b' xi + zeta,   zeta ~ N(0, 1 - R2),   R2 = b' Phi b            (Bollen 1989, ch. 4)
    y*_i = nu_ig + lambda_i eta + sqrt(1 - lambda_i^2) eps_i,   eps_i ~ N(0, 1)
    x_i  = 1 + sum_a 1{y*_i > tau_ia}                                     (7 categories)

Reverse-keyed items are written as answered, ``8 - x_i``; analysis code reverses them back. The only
intercept that is not zero is the planted non-invariance (PEER2 in age band 1, +0.6 SD of y*).

Planted misfit of the analysis model, as fielded surveys show it (``survey simulate --describe``): a
method factor M ~ N(0, 1), independent of the constructs, with loading .30 on the six reverse-keyed
items; cross-loadings EMO2 on AUT (.20), CON2 on SKL (.15), PEER3 on SHI (.15); a residual correlation
of .35 between SHI1 and SHI3 (similar wording). So y*_i = nu_ig + l_i' eta + gamma_i M + e_i with
Var(e_i) = 1 - l_i' Psi l_i - gamma_i^2, and the analysis CFA (simple structure, no method factor) is
misspecified: its modification indices point at these parameters (tests/test_simulate_misfit.py).

Behaviour: ``FOLLOWED30 | FOL ~ NegBin(mean = exp(a + c FOL), size = k)`` (variance ``mu + mu^2 / k``,
Hilbe 2011, *Negative Binomial Regression*), capped at 500; ``log MINUTES = m0 + m1 FOL + s eps``
(lognormal, weakly related to FOL), rounded to whole minutes in [1, 1440].

All numbers are SIMULATION ASSUMPTIONS. The path sizes are drawn from the ranges reported in influencer
and parasocial-relationship research (e.g. Lou & Kim 2019; Ki, Cuevas & Lim 2020; De Veirman et al.
2017), the loadings from the .65-.85 range typical of published Likert CFAs; none of them is a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import ndtr

DRIVERS: tuple[str, ...] = ("SHI", "SKL", "AUT", "EMO", "CON", "PEER")
OUTCOME = "FOL"

# Gauss-Legendre nodes on [0, 1] for the bivariate-normal orthant integral (exact to ~1e-12 for |rho| < .95).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(40)
_GL_X = (_GL_X + 1.0) / 2.0
_GL_W = _GL_W / 2.0


def _default_phi() -> dict[tuple[str, str], float]:
    return {
        ("SHI", "SKL"): 0.35, ("SHI", "AUT"): 0.45, ("SHI", "EMO"): 0.45, ("SHI", "CON"): 0.30,
        ("SHI", "PEER"): 0.40, ("SKL", "AUT"): 0.30, ("SKL", "EMO"): 0.35, ("SKL", "CON"): 0.50,
        ("SKL", "PEER"): 0.30, ("AUT", "EMO"): 0.60, ("AUT", "CON"): 0.35, ("AUT", "PEER"): 0.30,
        ("EMO", "CON"): 0.30, ("EMO", "PEER"): 0.40, ("CON", "PEER"): 0.35,
    }


def _default_loadings() -> dict[str, float]:
    return {
        "SHI1": 0.80, "SHI2": 0.78, "SHI3": 0.74, "SHI4": 0.66,
        "SKL1": 0.82, "SKL2": 0.76, "SKL3": 0.70, "SKL4": 0.65,
        "AUT1": 0.79, "AUT2": 0.72, "AUT3": 0.75, "AUT4": 0.67,
        "EMO1": 0.74, "EMO2": 0.77, "EMO3": 0.85, "EMO4": 0.70,
        "CON1": 0.78, "CON2": 0.73, "CON3": 0.76, "CON4": 0.68, "CON5": 0.71,
        "PEER1": 0.81, "PEER2": 0.70, "PEER3": 0.77, "PEER4": 0.66,
        "FOL1": 0.84, "FOL2": 0.80, "FOL3": 0.83,
    }


def _default_shifts() -> dict[str, float]:
    """Item-specific threshold shifts (added to the common thresholds): items differ a little in level."""
    return {
        "SHI1": -0.10, "SHI2": 0.05, "SHI3": 0.10, "SHI4": 0.15,
        "SKL1": -0.15, "SKL2": 0.00, "SKL3": 0.10, "SKL4": 0.20,
        "AUT1": -0.05, "AUT2": 0.05, "AUT3": 0.00, "AUT4": 0.15,
        "EMO1": -0.20, "EMO2": -0.05, "EMO3": 0.15, "EMO4": 0.10,
        "CON1": 0.10, "CON2": -0.10, "CON3": 0.05, "CON4": 0.20, "CON5": 0.00,
        "PEER1": 0.05, "PEER2": 0.15, "PEER3": 0.00, "PEER4": 0.25,
        "FOL1": 0.00, "FOL2": -0.15, "FOL3": 0.10,
    }


@dataclass(frozen=True)
class NonInvariance:
    """A planted measurement non-invariance: the intercept of ``item`` in ``group == level`` is raised."""

    item: str
    group: str
    level: int
    shift: float  # in SD units of the item's latent response y*


@dataclass(frozen=True)
class PopulationModel:
    """The truth of the simulated follow-drivers study (see the module docstring for the equations).

    ``paths`` are standardized regression weights of FOL on the drivers; ``phi`` the driver correlations;
    ``loadings`` standardized loadings of each item's continuous latent response y*; ``thresholds`` the
    common cut points of y* into the 7 agree categories (skewed: answers pile up toward agreement), to
    which the item's ``threshold_shift`` is added.
    """

    paths: dict[str, float] = field(default_factory=lambda: {
        "SHI": 0.25, "SKL": 0.18, "AUT": 0.15, "EMO": 0.30, "CON": 0.08, "PEER": 0.10})
    phi: dict[tuple[str, str], float] = field(default_factory=_default_phi)
    loadings: dict[str, float] = field(default_factory=_default_loadings)
    thresholds: tuple[float, ...] = (-2.3, -1.8, -1.3, -0.75, -0.1, 0.85)
    threshold_shift: dict[str, float] = field(default_factory=_default_shifts)
    reverse_keyed: tuple[str, ...] = ("SHI4", "SKL4", "AUT4", "EMO4", "CON4", "PEER4")
    noninvariance: tuple[NonInvariance, ...] = (NonInvariance("PEER2", "AGEBAND", 1, 0.6),)
    # misfit of the analysis model, as fielded surveys show it (the analysis CFA omits all three):
    # a method factor M (independent of the constructs) shared by the reverse-keyed items (acquiescence /
    # negative wording; Marsh 1996, Podsakoff et al. 2003), small cross-loadings, and one correlated
    # residual between two similarly worded items (SHI1 "into the same things I am", SHI3 "care about
    # what I care about")
    method_loadings: dict[str, float] = field(default_factory=lambda: {
        "SHI4": 0.30, "SKL4": 0.30, "AUT4": 0.30, "EMO4": 0.30, "CON4": 0.30, "PEER4": 0.30})
    cross_loadings: dict[tuple[str, str], float] = field(default_factory=lambda: {
        ("EMO2", "AUT"): 0.20, ("CON2", "SKL"): 0.15, ("PEER3", "SHI"): 0.15})
    residual_correlations: dict[tuple[str, str], float] = field(default_factory=lambda: {
        ("SHI1", "SHI3"): 0.35})
    # behaviour: FOLLOWED30 ~ NegBin(exp(a + c * FOL), size k); MINUTES = exp(m0 + m1 FOL + s eps)
    count_intercept: float = 1.4
    count_slope: float = 0.45
    count_size: float = 1.5
    count_max: int = 500
    minutes_intercept: float = 3.9
    minutes_slope: float = 0.10
    minutes_sd: float = 0.55
    # group distributions (independent of the latent variables: no latent mean differences)
    group_probs: dict[str, dict[int, float]] = field(default_factory=lambda: {
        "AGEBAND": {1: 0.30, 2: 0.32, 3: 0.22, 4: 0.16},
        "GENDER": {1: 0.50, 2: 0.46, 3: 0.04},
        "COUNTRY": {1: 0.30, 2: 0.20, 3: 0.12, 4: 0.15, 5: 0.13, 6: 0.10},
        "EDU": {1: 0.25, 2: 0.30, 3: 0.30, 4: 0.15},
    })

    def __post_init__(self) -> None:
        eig = np.linalg.eigvalsh(self.phi_matrix)
        if eig.min() <= 0:
            raise ValueError(f"driver correlations not positive definite (min eigenvalue {eig.min():.4f})")
        if not 0 < self.r2 < 1:
            raise ValueError(f"implied R2 of FOL is {self.r2:.4f}; it must lie in (0, 1)")
        for item in self.loadings:
            if not 0 < self.common_variance(item) < 1:
                raise ValueError(f"common variance of {item}'s latent response is "
                                 f"{self.common_variance(item):.4f}; it must lie in (0, 1)")

    # ------------------------------------------------------------------ structural part
    @cached_property
    def phi_matrix(self) -> np.ndarray:
        """Driver correlation matrix Phi in the order of ``DRIVERS``."""
        mat = np.eye(len(DRIVERS))
        for (a, b), r in self.phi.items():
            i, j = DRIVERS.index(a), DRIVERS.index(b)
            mat[i, j] = mat[j, i] = r
        return mat

    @property
    def path_vector(self) -> np.ndarray:
        return np.array([self.paths[d] for d in DRIVERS])

    @cached_property
    def r2(self) -> float:
        """Implied R2 of FOL: ``b' Phi b`` (standardized drivers and outcome)."""
        b = self.path_vector
        return float(b @ self.phi_matrix @ b)

    @property
    def residual_variance(self) -> float:
        """Var(zeta) = 1 - R2, so that Var(FOL) = 1."""
        return 1.0 - self.r2

    def latent_covariance(self) -> pd.DataFrame:
        """Implied covariance (= correlation) matrix of the six drivers and FOL."""
        b = self.path_vector
        phi = self.phi_matrix
        cov_xf = phi @ b
        full = np.zeros((7, 7))
        full[:6, :6] = phi
        full[:6, 6] = full[6, :6] = cov_xf
        full[6, 6] = 1.0
        names = [*DRIVERS, OUTCOME]
        return pd.DataFrame(full, index=names, columns=names)

    # ------------------------------------------------------------------ measurement part
    def construct_of(self, item: str) -> str:
        return item.rstrip("0123456789")

    def loading_vector(self, item: str) -> dict[str, float]:
        """The item's loadings on the latent variables: its own construct and any planted cross-loading."""
        out = {self.construct_of(item): self.loadings[item]}
        for (it, construct), value in self.cross_loadings.items():
            if it == item:
                out[construct] = out.get(construct, 0.0) + value
        return out

    def common_variance(self, item: str) -> float:
        """Var of the item's latent response explained by the constructs and the method factor:
        l' Psi l + gamma^2 (Psi = latent correlations of drivers and FOL; M independent, variance 1)."""
        psi = self.latent_covariance()
        lv = self.loading_vector(item)
        var = sum(a * b * psi.loc[f, g] for f, a in lv.items() for g, b in lv.items())
        return float(var + self.method_loadings.get(item, 0.0) ** 2)

    def residual_correlation(self, a: str, b: str) -> float:
        return self.residual_correlations.get((a, b), self.residual_correlations.get((b, a), 0.0))

    def response_covariance(self, a: str, b: str) -> float:
        """Cov(y*_a, y*_b) = l_a' Psi l_b + gamma_a gamma_b + r_ab sqrt(theta_a theta_b) (each Var y* = 1)."""
        psi = self.latent_covariance()
        la, lb = self.loading_vector(a), self.loading_vector(b)
        cov = sum(x * y * psi.loc[f, g] for f, x in la.items() for g, y in lb.items())
        cov += self.method_loadings.get(a, 0.0) * self.method_loadings.get(b, 0.0)
        r = self.residual_correlation(a, b)
        if r:
            cov += r * np.sqrt((1 - self.common_variance(a)) * (1 - self.common_variance(b)))
        return float(cov)

    def response_latent_covariance(self, item: str, latent: str) -> float:
        """Cov(y*_item, latent) = sum_k l_k Psi[k, latent]."""
        psi = self.latent_covariance()
        return float(sum(v * psi.loc[k, latent] for k, v in self.loading_vector(item).items()))

    def items_of(self, construct: str, items: list[str] | None = None) -> list[str]:
        pool = list(self.loadings) if items is None else [i for i in items if i in self.loadings]
        return [i for i in pool if self.construct_of(i) == construct]

    def item_thresholds(self, item: str) -> np.ndarray:
        return np.asarray(self.thresholds) + self.threshold_shift.get(item, 0.0)

    def intercept(self, item: str, groups: dict[str, int]) -> float:
        """Intercept nu of y* for a respondent in ``groups`` (0 unless a planted non-invariance applies)."""
        return sum(ni.shift for ni in self.noninvariance
                   if ni.item == item and groups.get(ni.group) == ni.level)

    def _group_mixture(self, item: str) -> list[tuple[float, float]]:
        """``[(probability, intercept)]`` over the groups that change the item's intercept."""
        rules = [ni for ni in self.noninvariance if ni.item == item]
        if not rules:
            return [(1.0, 0.0)]
        out = []
        for ni in rules:
            p = self.group_probs[ni.group][ni.level]
            out += [(p, ni.shift), (1.0 - p, 0.0)]
        return out

    def _category_moments(self, item: str) -> tuple[float, float, float]:
        """Mean, variance of the (analysis-keyed) category score x and Cov(x, eta), pooled over groups.

        With x = 1 + sum_a 1{y* > tau_a} and y* ~ N(nu, 1): E x = 1 + sum_a Phi(nu - tau_a);
        Var x = sum_ab [Phi(nu - max(tau_a, tau_b)) - Phi(nu - tau_a) Phi(nu - tau_b)];
        Cov(x, eta) = lambda sum_a phi(tau_a - nu) (Stein's lemma; the polyserial identity, Olsson,
        Drasgow & Dorans 1982). Groups mix as Var = sum p_g Var_g + sum p_g (m_g - m)^2.
        """
        tau = self.item_thresholds(item)
        lam = self.response_latent_covariance(item, self.construct_of(item))
        parts = []
        for p, nu in self._group_mixture(item):
            up = ndtr(nu - tau)
            mean = 1.0 + up.sum()
            var = float((ndtr(nu - np.maximum.outer(tau, tau)) - np.outer(up, up)).sum())
            cov = lam * float(np.exp(-0.5 * (tau - nu) ** 2).sum() / np.sqrt(2 * np.pi))
            parts.append((p, mean, var, cov))
        m = sum(p * mean for p, mean, _, _ in parts)
        v = sum(p * var + p * (mean - m) ** 2 for p, mean, var, _ in parts)
        c = sum(p * cov for p, _, _, cov in parts)
        return m, v, c

    def _one_factor(self, items: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        cache = self.__dict__.setdefault("_cache", {})
        key = ("one_factor", items)
        if key not in cache:
            cache[key] = one_factor_ml(self.observed_covariance(list(items)).to_numpy())
        return cache[key][0].copy(), cache[key][1].copy()

    def projection_loading(self, item: str, raw: bool = False) -> float:
        """Loading of the 7-point score as its linear projection on eta: Cov(x, eta) or Corr(x, eta)."""
        _, var, cov = self._category_moments(item)
        return cov if raw else cov / np.sqrt(var)

    def observed_loadings(self, construct: str, items: list[str] | None = None,
                          raw: bool = False) -> pd.Series:
        """Pseudo-true loadings of the 7-point scores: one-factor ML solution of their population covariance.

        An ML CFA of category scores converges to the minimiser of F_ML(Sigma(theta), Sigma_x) (the
        pseudo-true value, White 1982), not to the latent-response loading: coarse, skewed categories
        attenuate the loadings (and share a little non-linear variance). Standardized unless ``raw``.
        """
        its = self.items_of(construct, items)
        sigma = self.observed_covariance(its).to_numpy()
        lam, _ = self._one_factor(tuple(its))
        if not raw:
            lam = lam / np.sqrt(np.diag(sigma))
        return pd.Series(lam, index=its, name=construct)

    def observed_covariance(self, items: list[str], count: bool = False) -> pd.DataFrame:
        """Population covariance matrix of the (analysis-keyed) category scores of ``items``
        (and of FOLLOWED30 when ``count``, see :meth:`count_item_covariance`).

        Off-diagonal: Cov(x_i, x_j) = sum_ab [Phi2(h_a, k_b; rho) - Phi(h_a) Phi(k_b)] with rho the latent
        response correlation lambda_i lambda_j corr(eta_i, eta_j), computed by the integral
        (1 / 2 pi) int_0^rho exp(-(h^2 - 2 r h k + k^2) / (2 (1 - r^2))) / sqrt(1 - r^2) dr
        (Drezner & Wesolowsky 1990), by Gauss-Legendre quadrature. Groups mix as in
        :meth:`_category_moments` (the between-group term enters only through the planted intercepts).
        """
        key = ("observed_covariance", tuple(items), bool(count))
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = self._observed_covariance(list(items), count)
        return cache[key].copy()

    def _observed_covariance(self, items: list[str], count: bool) -> pd.DataFrame:
        n = len(items)
        out = np.zeros((n, n))
        for i, a in enumerate(items):
            out[i, i] = self._category_moments(a)[1]
            for j in range(i + 1, n):
                b = items[j]
                rho = self.response_covariance(a, b)
                out[i, j] = out[j, i] = self._pair_covariance(a, b, rho)
        frame = pd.DataFrame(out, index=items, columns=items)
        if count:
            cov_y = [self.count_item_covariance(i) for i in items]
            frame.loc["FOLLOWED30"] = cov_y
            frame["FOLLOWED30"] = [*cov_y, self.count_moments()["var"]]
        return frame

    def count_item_covariance(self, item: str) -> float:
        """Cov(FOLLOWED30, x_i) between the count and an item's 7-point score (cap at 500 ignored).

        E[Y | FOL] = exp(a + c FOL), and exponential tilting gives E[exp(c FOL) 1{y* > tau}] =
        exp(c^2 / 2) Phi(nu + rho c - tau) with rho = Corr(y*, FOL) = lambda_i Corr(eta_i, FOL), hence
        Cov(Y, x_i) = E[Y] sum_a [Phi(nu + rho c - tau_a) - Phi(nu - tau_a)], mixed over groups.
        """
        rho = self.response_latent_covariance(item, OUTCOME)
        tau = self.item_thresholds(item)
        c = self.count_slope
        mean = self.count_moments()["mean"]
        return float(sum(p * mean * (ndtr(nu + rho * c - tau) - ndtr(nu - tau)).sum()
                         for p, nu in self._group_mixture(item)))

    def _pair_covariance(self, a: str, b: str, rho: float) -> float:
        ta, tb = self.item_thresholds(a), self.item_thresholds(b)
        mix_a, mix_b = self._group_mixture(a), self._group_mixture(b)
        # the planted non-invariances concern single items; if both items have one, assume the same rule
        if len(mix_a) > 1 and len(mix_b) > 1:
            mixes = [(pa, na, nb) for (pa, na), (_, nb) in zip(mix_a, mix_b, strict=True)]
        elif len(mix_a) > 1:
            mixes = [(p, nu, 0.0) for p, nu in mix_a]
        else:
            mixes = [(p, 0.0, nu) for p, nu in mix_b]
        total = 0.0
        means_a, means_b, probs = [], [], []
        r = rho * _GL_X
        for p, nu_a, nu_b in mixes:
            h = (ta - nu_a)[:, None, None]
            k = (tb - nu_b)[None, :, None]
            dens = np.exp(-(h**2 - 2 * r * h * k + k**2) / (2 * (1 - r**2))) / np.sqrt(1 - r**2)
            within = float((dens * _GL_W).sum() * rho / (2 * np.pi))
            total += p * within
            means_a.append(1 + ndtr(nu_a - ta).sum())
            means_b.append(1 + ndtr(nu_b - tb).sum())
            probs.append(p)
        pr = np.array(probs)
        ma, mb = np.array(means_a), np.array(means_b)
        total += float((pr * (ma - pr @ ma) * (mb - pr @ mb)).sum())
        return total

    # ------------------------------------------------------------------ behaviour
    def count_moments(self) -> dict[str, float]:
        """Moments of FOLLOWED30 implied by the negative binomial (ignoring the cap at 500).

        With mu = exp(a + c F), F ~ N(0, 1): E Y = exp(a + c^2/2); Cov(Y, F) = c exp(a + c^2/2) (Stein);
        Var Y = E mu + E mu^2 / k + Var mu, E mu^2 = exp(2a + 2c^2).
        """
        a, c, k = self.count_intercept, self.count_slope, self.count_size
        mean = float(np.exp(a + c**2 / 2))
        emu2 = float(np.exp(2 * a + 2 * c**2))
        var = mean + emu2 / k + (emu2 - mean**2)
        cov = c * mean
        return {"mean": mean, "var": var, "cov_fol": cov, "std_slope": cov / np.sqrt(var)}

    # ------------------------------------------------------------------ summaries
    def to_dict(self, items: list[str] | None = None) -> dict[str, Any]:
        """Every population value as plain JSON-able numbers (rounded for stable bytes).

        ``items`` restricts the measurement part to an instrument version's items (e.g. no CON5 in 1.0.0).
        """
        cache = self.__dict__.setdefault("_cache", {})
        key = ("to_dict", None if items is None else tuple(items))
        if key not in cache:
            cache[key] = json.dumps(self._to_dict(items))
        return json.loads(cache[key])

    def _to_dict(self, items: list[str] | None) -> dict[str, Any]:

        def rnd(x: float) -> float:
            return round(float(x), 10)

        observed = pd.concat([self.observed_loadings(c, items) for c in (*DRIVERS, OUTCOME)])
        keep = list(observed.index)
        reliability = population_reliability(self, items).to_dict(orient="index")
        return {
            "drivers": list(DRIVERS),
            "paths_std": {d: rnd(self.paths[d]) for d in DRIVERS},
            "phi": {f"{a}~~{b}": rnd(r) for (a, b), r in self.phi.items()},
            "r2_FOL": rnd(self.r2),
            "residual_variance_FOL": rnd(self.residual_variance),
            "loadings_latent": {i: rnd(self.loadings[i]) for i in keep},
            "loadings_observed": {i: round(float(v), 6) for i, v in observed.items()},
            "thresholds": [rnd(t) for t in self.thresholds],
            "threshold_shift": {i: rnd(self.threshold_shift.get(i, 0.0)) for i in keep},
            "reverse_keyed": list(self.reverse_keyed),
            "noninvariance": [
                {"item": ni.item, "group": ni.group, "level": ni.level, "intercept_shift_sd": rnd(ni.shift)}
                for ni in self.noninvariance],
            "behaviour": {
                "FOLLOWED30": {"family": "negative binomial", "log_mean_intercept": rnd(self.count_intercept),
                               "log_mean_slope_FOL": rnd(self.count_slope), "size": rnd(self.count_size),
                               "cap": self.count_max,
                               **{k: rnd(v) for k, v in self.count_moments().items()}},
                "MINUTES": {"family": "lognormal", "log_intercept": rnd(self.minutes_intercept),
                            "log_slope_FOL": rnd(self.minutes_slope), "log_sd": rnd(self.minutes_sd),
                            "range": [1, 1440]},
            },
            "group_probs": {g: {str(k): rnd(v) for k, v in p.items()} for g, p in self.group_probs.items()},
            "reliability": {c: {k: (int(v) if k == "n_items" else round(float(v), 6)) for k, v in row.items()}
                            for c, row in reliability.items()},
        }

    def describe(self, pseudo_true: bool = True) -> str:
        """The population model as plain text (README, docs and ``survey simulate --describe``)."""
        phi_values = list(self.phi.values())
        lines = [
            "Population model of the simulated follow-drivers study",
            "(simulation assumptions drawn from ranges reported in influencer research; not findings)",
            "",
            "Structural model: FOL = b' xi + zeta; drivers standardized, Var(FOL) = 1",
            "  standardized paths to FOL: " + ", ".join(f"{d} {self.paths[d]:.2f}" for d in DRIVERS),
            f"  implied R2(FOL) = b' Phi b = {self.r2:.5f}; "
            f"residual variance of FOL = {self.residual_variance:.5f}",
            f"  driver correlations: min {min(phi_values):.2f}, mean {np.mean(phi_values):.3f}, "
            f"max {max(phi_values):.2f}; smallest eigenvalue {np.linalg.eigvalsh(self.phi_matrix).min():.4f}",
            "",
            "Driver correlation matrix Phi:",
        ]
        phi = pd.DataFrame(self.phi_matrix, index=DRIVERS, columns=DRIVERS)
        lines += ["  " + row for row in phi.to_string(float_format=lambda v: f"{v:.2f}").splitlines()]
        lines += ["", "Measurement model (7-point agree items; y* cut at thresholds + item shift):",
                  "  common thresholds: " + ", ".join(f"{t:+.2f}" for t in self.thresholds),
                  "  item  loading(y*)  loading(7-point)  shift  keyed"]
        observed = pd.concat([self.observed_loadings(c) for c in (*DRIVERS, OUTCOME)])
        for item, lam in self.loadings.items():
            keyed = "-1" if item in self.reverse_keyed else "+1"
            lines.append(f"  {item:<6}{lam:>9.2f}{observed[item]:>16.3f}"
                         f"{self.threshold_shift.get(item, 0.0):>9.2f}{keyed:>7}")
        lines.append("  versions: AUT2 has the same parameters under both wordings (1.0.0, 1.1.0),")
        lines.append("  so invariance across versions holds; CON5 exists only in 1.1.0")
        for ni in self.noninvariance:
            lines.append(f"  planted non-invariance: intercept of {ni.item} is {ni.shift:+.2f} SD of y* "
                         f"when {ni.group} = {ni.level}")
        lines += ["", "Planted misfit of the analysis model (which omits these, as analysis models do):"]
        method = ", ".join(f"{i} {v:.2f}" for i, v in self.method_loadings.items())
        lines.append(f"  method factor of the reverse-keyed items (orthogonal to the constructs): {method}")
        for (item, construct), value in self.cross_loadings.items():
            lines.append(f"  cross-loading: {item} on {construct} {value:.2f} (y* metric)")
        for (a, b), r in self.residual_correlations.items():
            lines.append(f"  correlated residual: {a} ~~ {b}, residual correlation {r:.2f}")
        cm = self.count_moments()
        lines += [
            "",
            "Behaviour:",
            f"  FOLLOWED30 ~ NegBin(mean = exp({self.count_intercept} + {self.count_slope} FOL), "
            f"size = {self.count_size}), capped at {self.count_max}; E = {cm['mean']:.3f}, "
            f"SD = {np.sqrt(cm['var']):.3f}, std. slope on FOL = {cm['std_slope']:.4f}",
            f"  MINUTES = exp({self.minutes_intercept} + {self.minutes_slope} FOL + {self.minutes_sd} eps), "
            "rounded, in [1, 1440]",
            "",
            "Population reliability (omega_latent of y*; omega and alpha of the 7-point scores):",
        ]
        rel = population_reliability(self)
        lines += ["  " + row for row in rel.to_string(float_format=lambda v: f"{v:.4f}").splitlines()]
        if pseudo_true:
            from survey.simulate.pseudotrue import pseudo_true as _pt

            est = _pt(list(self.loadings))
            reg = est[(est["op"] == "~") & est["rhs"].isin([*DRIVERS, OUTCOME])
                      & est["lhs"].isin([OUTCOME, "FOLLOWED30"])]
            lines += ["", "Pseudo-true values of the ML analysis model on the 7-point data (all items,",
                      "marker identification: first loading = 1): what estimates converge to",
                      "(see survey.simulate.pseudotrue):",
                      "  path              est (marker)   std.all   generating std"]
            for _, r in reg.iterrows():
                gen = self.paths.get(r["rhs"]) if r["lhs"] == OUTCOME else self.count_moments()["std_slope"]
                name = f"{r['lhs']} ~ {r['rhs']}"
                lines.append(f"  {name:<18}{r['est']:>12.4f}{r['std.all']:>10.4f}{gen:>17.4f}")
        return "\n".join(lines)


def population_reliability(population: PopulationModel | None = None,
                           items: list[str] | None = None) -> pd.DataFrame:
    """Population reliability of each construct's unit-weighted score, one row per construct.

    Columns:
    - ``omega_latent``: omega of the continuous latent responses with observed total variance,
      (sum L*)^2 / 1' Sigma* 1, L* the one-factor ML loadings of Sigma* = Cov(y*) (what omega estimates on
      continuous data); for a construct whose items have no planted misfit among them this is McDonald's
      (sum lambda)^2 / ((sum lambda)^2 + sum (1 - lambda^2)) (McDonald 1999, eq. 6.20b);
    - ``omega``: omega of the 7-point scores with observed total variance, as semTools ``compRelSEM``
      computes it on data: (sum L_i)^2 / 1' Sigma_x 1, L_i the one-factor ML loadings of the population
      covariance Sigma_x of the category scores (Bentler 2009; the large-sample value of the estimate);
    - ``alpha``: Cronbach's alpha of the 7-point scores, k / (k - 1) (1 - tr Sigma_x / 1' Sigma_x 1)
      (Cronbach 1951), from the exact population covariance of the category scores.

    ``items`` restricts the items (e.g. the 1.0.0 set without CON5); by default all items of the model.
    Items are analysis-keyed (reverse-keyed items already reversed).
    """
    pop = population or PopulationModel()
    rows = {}
    for construct in (*DRIVERS, OUTCOME):
        its = pop.items_of(construct, items)
        if not its:
            continue
        star = np.array([[pop.response_covariance(a, b) if a != b else 1.0 for b in its] for a in its])
        omega_lat = one_factor_ml(star)[0].sum() ** 2 / star.sum()
        sigma = pop.observed_covariance(its).to_numpy()
        total = sigma.sum()
        raw = pop._one_factor(tuple(its))[0]
        k = len(its)
        rows[construct] = {
            "n_items": k,
            "omega_latent": float(omega_lat),
            "omega": float(raw.sum() ** 2 / total),
            "alpha": float(k / (k - 1) * (1 - np.trace(sigma) / total)),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "construct"
    return frame


def one_factor_ml(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ML one-factor solution (loadings, unique variances) of a covariance matrix.

    Minimises F_ML = log|L L' + Psi| + tr(S (L L' + Psi)^-1) - log|S| - p (Joreskog 1967) by L-BFGS with
    the analytic gradient dF/dL = 2 D L, dF/dPsi = diag(D), D = Sigma^-1 (Sigma - S) Sigma^-1.
    """
    s = np.asarray(sigma, dtype=float)
    p = s.shape[0]
    _, logdet_s = np.linalg.slogdet(s)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        lam, psi = theta[:p], np.exp(theta[p:])
        sig = np.outer(lam, lam) + np.diag(psi)
        inv = np.linalg.inv(sig)
        _, logdet = np.linalg.slogdet(sig)
        f = logdet + np.trace(s @ inv) - logdet_s - p
        d = inv @ (sig - s) @ inv
        return f, np.concatenate([2 * d @ lam, np.diag(d) * psi])

    start = np.concatenate([np.sqrt(np.diag(s)) * 0.7, np.log(np.diag(s) * 0.5)])
    res = minimize(objective, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15,
                                                                          "maxiter": 2000})
    lam = res.x[:p]
    return (lam if lam.sum() >= 0 else -lam), np.exp(res.x[p:])


DEFAULT_POPULATION = PopulationModel()
