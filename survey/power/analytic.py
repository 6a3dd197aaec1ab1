"""Analytic power: RMSEA tests of fit and the power of one parameter.

RMSEA (MacCallum, Browne & Sugawara 1996, *Psychological Methods* 1, 130-149), as semTools 0.5
``findRMSEApower`` / ``findRMSEAsamplesize``: with ``lambda_k = (N - 1) df eps_k^2 / G`` (G groups),
the test of close fit (eps0 < epsA) rejects when T > c, c the upper-alpha quantile of the noncentral
chi-square(df, lambda_0), power = P(chi2(df, lambda_A) > c); the test of not-close fit (eps0 > epsA)
rejects when T < c, c the lower-alpha quantile, power = P(chi2(df, lambda_A) < c). The sample size is the
smallest N >= 5 whose power exceeds the target (divided by G, as semTools reports it).

One parameter (Satorra & Saris 1985, *Psychometrika* 50, 83-90): fit the model with the parameter fixed
to 0 to the population moments; its chi-square is the noncentrality lambda = N F_ML (lavaan's N
convention), power = P(chi2(1, lambda) > chi2_{1, 1-alpha}). The Wald test uses the population standard
error: fitted to data whose moments equal the population's, the estimate is the population value and
its se the asymptotic one, delta = theta / se(N), power = Phi(delta - z) + Phi(-delta - z),
z = Phi^-1(1 - alpha / 2). Both noncentralities grow linearly in N (F_ML and the information do not
depend on N), so one fit gives the power at every N and the N for a target power.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

# the ufuncs scipy.stats' ncx2, chi2 and norm call (ncx2: Boost's non-central chi-square), without
# importing scipy.stats (about 1.5 s of CPU at start-up); the same numbers, bit for bit
from scipy.special import chdtrc, chdtri, ndtr, ndtri
from scipy.special._ufuncs import _ncx2_isf as ncx2_isf_ufunc
from scipy.special._ufuncs import _ncx2_sf as ncx2_sf_ufunc

from survey.errors import SurveyInputError

if TYPE_CHECKING:  # the population module (pandas) is imported by the parameter-power functions only
    from survey.power.population import Population

REFERENCE_N = 1000


def _check_rmsea(rmsea0: float, rmsea1: float, df: float, alpha: float, groups: int) -> None:
    for name, v in (("rmsea0", rmsea0), ("rmsea1", rmsea1)):
        if not (isinstance(v, int | float) and np.isfinite(v) and v >= 0):
            raise SurveyInputError("RMSEA must be a number >= 0", field=name, value=v)
    if rmsea0 == rmsea1:
        raise SurveyInputError("rmsea0 and rmsea1 must differ (no test has power against itself)",
                               field="rmsea1", value=rmsea1)
    if not df > 0:
        raise SurveyInputError("degrees of freedom must be positive", field="df", value=df)
    if not 0 < alpha < 1:
        raise SurveyInputError("alpha must lie in (0, 1)", field="alpha", value=alpha)
    if int(groups) < 1:
        raise SurveyInputError("groups must be at least 1", field="groups", value=groups)


def rmsea_power(rmsea0: float, rmsea1: float, df: float, n: Any, alpha: float = 0.05,
                groups: int = 1) -> Any:
    """Power of the RMSEA test of H0: eps = ``rmsea0`` against eps = ``rmsea1`` at sample size ``n``
    (a number or an array), semTools ``findRMSEApower(rmsea0, rmseaA, df, n, alpha, group)``."""
    _check_rmsea(rmsea0, rmsea1, df, alpha, groups)
    n_arr = np.asarray(n, dtype=float)
    ncp0 = (n_arr - 1) * df * rmsea0**2 / groups
    ncp1 = (n_arr - 1) * df * rmsea1**2 / groups
    if rmsea0 < rmsea1:
        crit = _ncx2_isf(alpha, df, ncp0)
        out = _ncx2_sf(crit, df, ncp1)
    else:
        crit = _ncx2_isf(1 - alpha, df, ncp0)
        out = 1 - _ncx2_sf(crit, df, ncp1)
    return float(out) if np.ndim(out) == 0 else out


def _ncx2_sf(x: Any, df: float, ncp: Any) -> Any:
    ncp = np.asarray(ncp, dtype=float)
    return np.where(ncp > 0, ncx2_sf_ufunc(x, df, np.maximum(ncp, 1e-300)), chdtrc(df, x))


def _ncx2_isf(q: float, df: float, ncp: Any) -> Any:
    ncp = np.asarray(ncp, dtype=float)
    return np.where(ncp > 0, ncx2_isf_ufunc(q, df, np.maximum(ncp, 1e-300)), chdtri(df, q))


def rmsea_sample_size(rmsea0: float, rmsea1: float, df: float, power: float = 0.80, alpha: float = 0.05,
                      groups: int = 1) -> float:
    """Smallest N (from 5 up) with RMSEA power above ``power``, per group: semTools ``findRMSEAsamplesize``.

    Returns ``5 / groups`` when N = 5 already has the power (semTools then answers "Sample Size <= 5").
    Power rises with N, so the first N is found by doubling and bisection instead of semTools' scan;
    semTools scans N = 5..500, then 505..1000, 1005..1500, ... (it never visits 500k + 1 .. 500k + 4),
    and so does this function, so that both give the same N.
    """
    _check_rmsea(rmsea0, rmsea1, df, alpha, groups)
    if not 0 < power < 1:
        raise SurveyInputError("target power must lie in (0, 1)", field="power", value=power)

    def ok(n: int) -> bool:
        return bool(rmsea_power(rmsea0, rmsea1, df, n, alpha, groups) > power)

    lo = 5
    if ok(lo):
        return lo / groups
    hi = 10
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > 10**9:
            raise SurveyInputError("no sample size up to 1e9 reaches the target power", field="power",
                                   value=power)
    while hi - lo > 1:  # invariant: not ok(lo), ok(hi)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    if 1 <= hi % 500 <= 4:  # not on semTools' grid: its next point is 500k + 5
        hi = hi - hi % 500 + 5
    return hi / groups


# ---------------------------------------------------------------------------------------------- parameters
def wald_power_delta(delta: Any, alpha: float = 0.05) -> Any:
    """Two-sided Wald (z) test power for noncentrality ``delta = theta / se``: Phi(d - z) + Phi(-d - z)."""
    z = -ndtri(alpha / 2)  # norm.isf
    d = np.abs(np.asarray(delta, dtype=float))
    return ndtr(d - z) + ndtr(-d - z)


def chisq_power_ncp(ncp: Any, df: int = 1, alpha: float = 0.05) -> Any:
    """Power of a chi-square(df) test at level ``alpha`` for noncentrality ``ncp``."""
    crit = chdtri(df, alpha)  # chi2.isf
    return _ncx2_sf(crit, df, ncp)


def _n_for(target: float, power_of_n: Any, n_min: int = 2) -> int:
    """Smallest integer N with ``power_of_n(N) >= target`` (power increasing in N)."""
    lo, hi = n_min, max(n_min * 2, 4)
    if power_of_n(lo) >= target:
        return lo
    while power_of_n(hi) < target:
        lo, hi = hi, hi * 2
        if hi > 10**9:
            return -1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_of_n(mid) >= target else (mid, hi)
    return hi


def restricted_syntax(model: str, key: str, value: float = 0.0) -> str:
    """``model`` with the parameter ``key`` (``lhs op rhs``) fixed to ``value``.

    The term of the user's syntax is rewritten as ``value*rhs`` (its label or start value dropped), and
    definitions or constraints that use its label are dropped; a parameter lavaan adds by itself (a
    residual variance) gets its own line ``lhs op value*rhs``.
    """
    from survey.power.population import parameter_key

    found = False
    labels: set[str] = set()
    lines_out: list[str] = []
    for raw in re.split(r"[\n;]", model):
        line = raw.split("#", 1)[0].strip()
        m = re.match(r"^([A-Za-z_.][\w.]*)\s*(=~|~~|~)\s*(.+)$", line)
        if not m or m.group(2) + m.group(3).strip() == "~1":
            lines_out.append(line)
            continue
        lhs, op, rhs = m.groups()
        terms = [t.strip() for t in rhs.split("+")]
        new_terms = []
        for term in terms:
            parts = [p.strip() for p in term.split("*")]
            var = parts[-1]
            if parameter_key(lhs, op, var) == key or (op == "~~" and parameter_key(var, op, lhs) == key):
                found = True
                labels |= {p for p in parts[:-1] if re.match(r"^[A-Za-z_.][\w.]*$", p)}
                new_terms.append(f"{value!r}*{var}")
            else:
                new_terms.append(term)
        lines_out.append(f"{lhs} {op} " + " + ".join(new_terms))
    if labels:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, labels)) + r")\b")
        lines_out = [ln for ln in lines_out
                     if not (re.search(r":=|==|<|>", ln) and pattern.search(ln))]
    if not found:
        m = re.match(r"^(.+?)(=~|~~|~)(.+)$", key)
        if not m:
            raise SurveyInputError("not a parameter name (write lhs op rhs)", field="parameter", value=key)
        lhs, op, rhs = m.groups()
        lines_out.append(f"{lhs} {op} {value!r}*{rhs}")
    return "\n".join(ln for ln in lines_out if ln)


@dataclass
class ParameterPower:
    """Analytic power of the test of one parameter = 0: Wald (``delta`` at ``REFERENCE_N``) and
    Satorra-Saris (``f0``: the restricted model's F_ML at the population, lambda = N f0)."""

    parameter: str
    value: float
    se_reference: float
    f0: float
    alpha: float = 0.05

    def delta(self, n: Any) -> Any:
        return self.value / self.se_reference * np.sqrt(np.asarray(n, dtype=float) / REFERENCE_N)

    def wald(self, n: Any) -> Any:
        return wald_power_delta(self.delta(n), self.alpha)

    def ncp(self, n: Any) -> Any:
        return np.asarray(n, dtype=float) * self.f0

    def satorra_saris(self, n: Any) -> Any:
        return chisq_power_ncp(self.ncp(n), 1, self.alpha)

    def n_required(self, power: float = 0.80, method: str = "wald") -> int:
        """Smallest N whose power reaches ``power`` (-1 when the parameter is 0 in the population)."""
        fn = self.wald if method == "wald" else self.satorra_saris
        if self.value == 0 or (method != "wald" and self.f0 <= 0):
            return -1
        return _n_for(power, lambda n: float(fn(n)))

    def to_dict(self, n: list[int] | None = None, power: float = 0.80) -> dict[str, Any]:
        out: dict[str, Any] = {"parameter": self.parameter, "value": self.value, "alpha": self.alpha,
                               "n_required": {"wald": self.n_required(power, "wald"),
                                              "satorra_saris": self.n_required(power, "satorra_saris")}}
        if n is not None:
            out["n"] = list(n)
            out["power"] = {"wald": [float(v) for v in np.atleast_1d(self.wald(n))],
                            "satorra_saris": [float(v) for v in np.atleast_1d(self.satorra_saris(n))]}
        return out


def parameter_power(population: Population, parameter: str, alpha: float = 0.05,
                    fit_options: dict[str, Any] | None = None) -> ParameterPower:
    """Analytic (Wald and Satorra-Saris) power of the test ``parameter = 0`` under ``population``.

    Two fits by :func:`survey.sem.fit` to data with exactly the population moments (N = REFERENCE_N):
    the full model (the parameter's se) and the model with the parameter fixed to 0 (its chi-square
    minus the full model's is lambda at that N).
    """
    from survey.power.population import exact_data, parameter_key
    from survey.sem import fit

    key = parameter.replace(" ", "")
    if key not in population.values:
        raise SurveyInputError("not a parameter of the model", field="parameter", value=parameter)
    sigma, mean = population.implied_moments
    data = exact_data(sigma, mean, REFERENCE_N)
    opts = dict(fit_options or {})
    full = fit(population.model, data, **opts)
    est = full.estimates(standardized=False)
    keys = [parameter_key(a, o, b) for a, o, b in zip(est["lhs"], est["op"], est["rhs"], strict=True)]
    row = est.iloc[keys.index(key)]
    restricted = fit(restricted_syntax(population.model, key), data, **opts)
    chisq_full = float(full.fit_measures()["chisq"])
    chisq_restricted = float(restricted.fit_measures()["chisq"])
    f0 = max(chisq_restricted - chisq_full, 0.0) / REFERENCE_N
    se = float(row["se"])
    if not math.isfinite(se) or se <= 0:
        raise SurveyInputError("the parameter has no standard error at the population (fixed or not "
                               "identified)", field="parameter", value=parameter)
    return ParameterPower(parameter=key, value=float(population.values[key]), se_reference=se, f0=f0,
                          alpha=alpha)



def difference_power(population: Population, pair: Any, alpha: float = 0.05,
                     fit_options: dict[str, Any] | None = None) -> ParameterPower:
    """Analytic Wald power of a path difference (:class:`survey.power.replicate.PathPair`): its
    delta-method se from the fit to the population moments (no Satorra-Saris value: ``f0`` is NaN)."""
    from survey.power.population import exact_data
    from survey.power.replicate import pair_difference
    from survey.sem import fit

    sigma, mean = population.implied_moments
    res = fit(population.model, exact_data(sigma, mean, REFERENCE_N), **dict(fit_options or {}))
    diff, se = pair_difference(res, res.estimates(standardized=False), pair)
    return ParameterPower(parameter=pair.name, value=diff, se_reference=se, f0=float("nan"), alpha=alpha)
