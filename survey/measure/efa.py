"""Exploratory factor analysis: how many factors (parallel analysis, MAP) and an oblique EFA.

* :func:`parallel_analysis` - Horn (1965): keep the leading factors whose eigenvalues exceed the 95th
  percentile of eigenvalues of random normal data of the same size (Glorfeld 1995 percentile rule).
  Reported both for components (eigenvalues of R) and common factors (eigenvalues of R with squared
  multiple correlations on the diagonal), like ``psych::fa.parallel``.
* :func:`velicer_map` - Velicer's (1976) minimum average partial test as in ``psych::vss``: after
  partialling out the first m principal components, the mean squared partial correlation;
  the number of factors is the m with the smallest value (m = 1 .. max_factors).
* :func:`efa` - minres (ordinary least squares, Harman 1960; ``psych::fa`` default) or ML
  (Joreskog 1967) extraction on the correlation matrix, then an oblique rotation (oblimin or promax,
  via ``factor_analyzer``'s ``Rotator``). Pattern loadings with |loading| >= cutoff (.30) on more
  than one factor are flagged as cross-loadings.

Correlations use pairwise-complete observations (psych's ``use = "pairwise"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from survey.errors import EstimationError, SurveyInputError, SurveyWarning


def _corr(data: pd.DataFrame) -> pd.DataFrame:
    x = data.apply(pd.to_numeric, errors="coerce").astype(float)
    if x.shape[1] < 3:
        raise SurveyInputError("factor analysis needs at least three items")
    r = x.corr()
    if r.isna().to_numpy().any():
        bad = r.columns[r.isna().any()][0]
        raise SurveyInputError("item has no variance or too few observations", column=str(bad))
    return r


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations 1 - 1/diag(R^-1) (pseudo-inverse when R is singular)."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    return 1.0 - 1.0 / np.diag(inv)


@dataclass
class ParallelResult:
    """Observed and random-data eigenvalues; suggested numbers of components and factors."""

    table: pd.DataFrame
    n_components: int
    n_factors: int
    n_iter: int
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> str:
        return (
            f"Parallel analysis ({self.n_iter} random data sets, seed {self.seed}, 95th percentile): "
            f"{self.n_factors} factors, {self.n_components} components"
        )

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.table.to_html(float_format="%.3f")


def _count_leading(observed: np.ndarray, threshold: np.ndarray) -> int:
    above = observed > threshold
    return int(np.argmin(above)) if not above.all() else int(above.size)


def parallel_analysis(
    data: pd.DataFrame, n_iter: int = 100, seed: int | None = 0, quantile: float = 0.95
) -> ParallelResult:
    """Horn's parallel analysis with random normal data of the same n (rows) and p (items)."""
    r = _corr(data).to_numpy()
    n, p = data.shape
    rng = np.random.default_rng(seed)
    obs_pc = np.linalg.eigvalsh(r)[::-1]
    r_red = r.copy()
    np.fill_diagonal(r_red, smc(r))
    obs_fa = np.linalg.eigvalsh(r_red)[::-1]
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    for b in range(n_iter):
        z = rng.standard_normal((n, p))
        rz = np.corrcoef(z, rowvar=False)
        sim_pc[b] = np.linalg.eigvalsh(rz)[::-1]
        np.fill_diagonal(rz, smc(rz))
        sim_fa[b] = np.linalg.eigvalsh(rz)[::-1]
    q_pc = np.quantile(sim_pc, quantile, axis=0)
    q_fa = np.quantile(sim_fa, quantile, axis=0)
    table = pd.DataFrame(
        {"eigen.pc": obs_pc, "random.pc": q_pc, "eigen.fa": obs_fa, "random.fa": q_fa},
        index=pd.RangeIndex(1, p + 1, name="number"),
    )
    return ParallelResult(table, _count_leading(obs_pc, q_pc), _count_leading(obs_fa, q_fa), n_iter, seed)


def velicer_map(data: pd.DataFrame, max_factors: int = 8) -> pd.Series:
    """Velicer's MAP values for m = 1 .. max_factors (psych ``vss(...)$map``); minimum = suggested m."""
    r = _corr(data).to_numpy()
    p = r.shape[0]
    values, vectors = np.linalg.eigh(r)
    order = np.argsort(values)[::-1]
    comp = vectors[:, order] * np.sqrt(np.clip(values[order], 0, None))
    top = min(max_factors, p - 1)
    out = {}
    for m in range(1, top + 1):
        c = r - comp[:, :m] @ comp[:, :m].T
        d = 1.0 / np.sqrt(np.diag(c))
        partial = c * np.outer(d, d)
        np.fill_diagonal(partial, 0.0)
        out[m] = float(np.sum(partial**2) / (p * (p - 1)))
    return pd.Series(out, name="map").rename_axis("factors")


def _loadings_from_psi(r: np.ndarray, psi: np.ndarray, k: int, method: str) -> np.ndarray:
    if method == "ml":
        s = 1.0 / np.sqrt(psi)
        values, vectors = np.linalg.eigh(r * np.outer(s, s))
        idx = np.argsort(values)[::-1][:k]
        return (vectors[:, idx] * np.sqrt(np.clip(values[idx] - 1.0, 0, None))) / s[:, None]
    reduced = r - np.diag(psi)
    values, vectors = np.linalg.eigh(reduced)
    idx = np.argsort(values)[::-1][:k]
    return vectors[:, idx] * np.sqrt(np.clip(values[idx], 0, None))


def _objective(psi: np.ndarray, r: np.ndarray, k: int, method: str) -> float:
    if method == "ml":
        s = 1.0 / np.sqrt(psi)
        values = np.sort(np.linalg.eigvalsh(r * np.outer(s, s)))[::-1][k:]
        return float(-np.sum(np.log(values) - values) - k + r.shape[0])
    load = _loadings_from_psi(r, psi, k, method)
    resid = r - load @ load.T
    np.fill_diagonal(resid, 0.0)
    return float(np.sum(resid**2))


@dataclass
class EFAResult:
    """Rotated pattern loadings, factor correlations, communalities and cross-loading flags."""

    loadings: pd.DataFrame
    phi: pd.DataFrame
    communalities: pd.Series
    cross_loadings: pd.DataFrame
    method: str
    rotation: str
    cutoff: float
    warnings: list[SurveyWarning] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["cross_loading"] = out.index.isin(self.cross_loadings.index)
        return out

    def summary(self) -> str:
        text = (
            f"EFA ({self.method}, {self.rotation}), {self.loadings.shape[1]} factors; "
            f"|loading| < {self.cutoff:.2f} blanked\n"
        )
        shown = self.loadings.where(self.loadings.abs() >= self.cutoff).round(2).astype(object)
        text += shown.where(shown.notna(), "").to_string()
        if len(self.cross_loadings):
            text += "\nCross-loading items: " + ", ".join(map(str, self.cross_loadings.index))
        return text

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format="%.3f")


def efa(
    data: pd.DataFrame,
    n_factors: int,
    *,
    method: str = "minres",
    rotation: str = "oblimin",
    cutoff: float = 0.30,
) -> EFAResult:
    """Exploratory factor analysis with an oblique rotation (see the module docstring)."""
    method = method.lower()
    if method not in ("minres", "ml"):
        raise SurveyInputError("method must be 'minres' or 'ml'", field="method", value=method)
    if rotation not in ("oblimin", "promax", "varimax", "none"):
        raise SurveyInputError(
            "rotation must be oblimin, promax, varimax or none", field="rotation", value=rotation
        )
    r_df = _corr(data)
    r = r_df.to_numpy()
    p = r.shape[0]
    if not 1 <= n_factors < p:
        raise SurveyInputError("n_factors must be between 1 and the number of items - 1", value=n_factors)
    start = np.clip(1.0 - smc(r), 0.005, 1.0)
    res = optimize.minimize(
        _objective,
        start,
        args=(r, n_factors, method),
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * p,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10},
    )
    warnings: list[SurveyWarning] = []
    if not res.success:
        warnings.append(SurveyWarning("efa_not_converged", f"EFA extraction: {res.message}", "measure"))
    load = _loadings_from_psi(r, res.x, n_factors, method)
    if not np.all(np.isfinite(load)):
        raise EstimationError("EFA extraction failed (non-finite loadings)")
    phi = np.eye(n_factors)
    used = rotation
    if n_factors > 1 and rotation != "none":
        from factor_analyzer.rotator import Rotator  # imported here: it loads scikit-learn

        rot = Rotator(method=rotation)
        load = rot.fit_transform(load)
        if rot.phi_ is not None:
            phi = np.asarray(rot.phi_)
    else:
        used = "none"
    signs = np.sign(load.sum(axis=0))
    signs[signs == 0] = 1
    load = load * signs
    phi = phi * np.outer(signs, signs)
    order = np.argsort(-np.sum(load**2, axis=0), kind="stable")
    load, phi = load[:, order], phi[np.ix_(order, order)]
    names = [f"F{j + 1}" for j in range(n_factors)]
    loadings = pd.DataFrame(load, index=r_df.index, columns=names)
    phi_df = pd.DataFrame(phi, index=names, columns=names)
    communalities = pd.Series(np.diag(load @ phi @ load.T), index=r_df.index, name="h2")
    if (communalities > 1).any():
        warnings.append(SurveyWarning("heywood", "an EFA communality exceeds 1 (Heywood case)", "measure"))
    big = loadings.abs() >= cutoff
    multi = big.sum(axis=1) > 1
    cross = pd.DataFrame(
        {
            "primary": loadings.abs().idxmax(axis=1)[multi],
            "n_factors": big.sum(axis=1)[multi],
        }
    )
    return EFAResult(loadings, phi_df, communalities, cross, method, used, cutoff, warnings)
