"""Population values for study planning: a lavaan-syntax model with a value for every parameter.

A population is the model's parameter table (:func:`survey.sem.lavaanify`) with one value per row,
written ``lhs op rhs`` without spaces in lavaan's operators (``"F1=~x1"``, ``"F2~F1"``, ``"x1~~x1"``,
``"x1~1"``), as in DESIGN.md's POP.json. Values come from

* a JSON object (:meth:`Population.from_json`): every free parameter must be given; a fixed parameter
  takes its fixed value (a marker loading of 1), and a given value must agree with it;
* the estimates of a pilot fit (:meth:`Population.from_estimates`, the ``est`` column of lavaan's
  ``parameterEstimates()``).

The model-implied moments follow the RAM formulation (McArdle & McDonald 1984):
``Sigma_all = (I - A)^-1 S (I - A)^-T``, ``mu_all = (I - A)^-1 m``, of which the observed rows are kept,
``A`` holding loadings (``=~``) and regressions (``~``), ``S`` variances and covariances (``~~``) and ``m``
intercepts (``~1``; zero when the model has none).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

MODEL_OPS = ("=~", "~", "~~", "~1")


def parameter_key(lhs: str, op: str, rhs: str) -> str:
    """``"lhs op rhs"`` without spaces: the POP.json and power-table name of a parameter."""
    return f"{lhs}{op}{rhs}"


def _partable(model: str) -> pd.DataFrame:
    from survey.sem import lavaanify

    try:
        pt = lavaanify(model)
    except SurveyInputError:
        raise
    except Exception as exc:  # a syntax error from the parser: one line
        raise SurveyInputError(f"model syntax: {exc}".splitlines()[0], field="model") from None
    pt = pt[pt["op"].isin(MODEL_OPS)].reset_index(drop=True)
    pt["key"] = [parameter_key(a, o, b) for a, o, b in zip(pt["lhs"], pt["op"], pt["rhs"], strict=True)]
    return pt


@dataclass
class Population:
    """A model and the population value of each of its parameters (single group).

    ``values`` maps every parameter-table key (``lhs op rhs``) to its value; ``free`` lists the keys of the
    free parameters (the ones whose power, bias and coverage are estimated).
    """

    model: str
    values: dict[str, float]
    source: str = ""
    partable: pd.DataFrame = field(repr=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.partable is None:
            self.partable = _partable(self.model)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, model: str, values: Mapping[str, Any], source: str = "") -> Population:
        """Check ``values`` against the model's parameter table and fill fixed parameters.

        Raises :class:`SurveyInputError` naming the first free parameter without a value, a key that is
        not a parameter of the model, a non-numeric value, or a value that contradicts a fixed one.
        """
        pt = _partable(model)
        given = {str(k).replace(" ", ""): v for k, v in values.items()}
        known = set(pt["key"])
        for key, value in given.items():
            if key not in known:
                raise SurveyInputError("not a parameter of the model (write lhs op rhs, e.g. 'F1=~x1')",
                                       file=source or None, field=key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise SurveyInputError("population value must be a finite number", file=source or None,
                                       field=key, value=value)
        out: dict[str, float] = {}
        for row in pt.itertuples(index=False):
            fixed = row.free == 0 and np.isfinite(row.ustart)
            if row.key in given:
                value = float(given[row.key])
                if fixed and abs(value - float(row.ustart)) > 1e-12:
                    raise SurveyInputError(f"the model fixes this parameter to {float(row.ustart):g}",
                                           file=source or None, field=row.key, value=value)
                out[row.key] = value
            elif fixed:
                out[row.key] = float(row.ustart)
            elif row.op == "~1":
                out[row.key] = 0.0  # intercepts default to 0 (the model's mean structure is not needed)
            else:
                raise SurveyInputError("no population value for this parameter", file=source or None,
                                       field=row.key)
        return cls(model=model, values=out, source=source, partable=pt)

    @classmethod
    def from_json(cls, model: str, path: str | os.PathLike | Mapping[str, Any]) -> Population:
        """Population values from a POP.json file (or an already-parsed mapping)."""
        if isinstance(path, Mapping):
            return cls.from_dict(model, path)
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SurveyInputError("population file not found", file=str(p)) from None
        except json.JSONDecodeError as exc:
            raise SurveyInputError(f"not valid JSON ({exc.msg})", file=str(p), row=exc.lineno) from None
        if not isinstance(data, dict):
            raise SurveyInputError("a population file holds one JSON object {\"lhs op rhs\": value}",
                                   file=str(p))
        return cls.from_dict(model, data, source=str(p))

    @classmethod
    def from_estimates(cls, model: str, estimates: Any) -> Population:
        """Population values from a pilot fit: a result with ``estimates()`` or that DataFrame."""
        frame = estimates.estimates() if hasattr(estimates, "estimates") else pd.DataFrame(estimates)
        frame = frame[frame["op"].isin(MODEL_OPS)]
        values = {parameter_key(r.lhs, r.op, r.rhs): float(r.est) for r in frame.itertuples(index=False)}
        pt = _partable(model)
        values = {k: v for k, v in values.items() if k in set(pt["key"])}
        return cls.from_dict(model, values, source="pilot estimates")

    # ------------------------------------------------------------------ structure
    @property
    def free(self) -> list[str]:
        """Keys of the free parameters, in parameter-table order (first occurrence)."""
        pt = self.partable
        return list(dict.fromkeys(pt.loc[pt["free"] > 0, "key"]))

    @cached_property
    def observed(self) -> list[str]:
        """Observed variables in lavaan's order (indicators as they appear, then other observed)."""
        pt = self.partable
        latent = list(dict.fromkeys(pt.loc[pt["op"] == "=~", "lhs"]))
        names: list[str] = []
        for row in pt.itertuples(index=False):
            for v in (row.rhs, row.lhs) if row.op == "=~" else (row.lhs, row.rhs):
                if v and v not in latent and v not in names:
                    names.append(v)
        return names

    @cached_property
    def latent(self) -> list[str]:
        return list(dict.fromkeys(self.partable.loc[self.partable["op"] == "=~", "lhs"]))

    def implied(self, values: Mapping[str, float] | None = None) -> tuple[pd.DataFrame, pd.Series]:
        """Model-implied covariance matrix and mean vector of the observed variables (RAM, module doc)."""
        vals = self.values if values is None else {**self.values, **values}
        names = [*self.observed, *self.latent]
        idx = {v: i for i, v in enumerate(names)}
        k = len(names)
        a, s, m = np.zeros((k, k)), np.zeros((k, k)), np.zeros(k)
        for row in self.partable.itertuples(index=False):
            value = vals[row.key]
            if row.op == "=~":
                a[idx[row.rhs], idx[row.lhs]] = value
            elif row.op == "~":
                a[idx[row.lhs], idx[row.rhs]] = value
            elif row.op == "~~":
                s[idx[row.lhs], idx[row.rhs]] = s[idx[row.rhs], idx[row.lhs]] = value
            elif row.op == "~1":
                m[idx[row.lhs]] = value
        inv = np.linalg.inv(np.eye(k) - a)
        sigma_all = inv @ s @ inv.T
        mean_all = inv @ m
        p = len(self.observed)
        sigma = pd.DataFrame(sigma_all[:p, :p], index=self.observed, columns=self.observed)
        mean = pd.Series(mean_all[:p], index=self.observed)
        eig = np.linalg.eigvalsh(sigma.to_numpy())
        if eig.min() <= 0:
            raise SurveyInputError(f"the population covariance matrix is not positive definite (smallest "
                                   f"eigenvalue {eig.min():.3g}); check the variances",
                                   file=self.source or None)
        return sigma, mean

    def draw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """``n`` multivariate-normal rows from the implied moments."""
        sigma, mean = self.implied_moments
        chol = np.linalg.cholesky(sigma.to_numpy())
        z = rng.standard_normal((int(n), len(mean)))
        return pd.DataFrame(z @ chol.T + mean.to_numpy(), columns=list(mean.index))

    def draw_shifted(self, n: int, rng: np.random.Generator, parameter: str, shift: float) -> pd.DataFrame:
        """``n`` rows from the population with ``parameter`` shifted by ``shift``: an intercept
        (``"x2~1"``, the indicator's mean moves by ``shift``) or any parameter of the model."""
        key = parameter.replace(" ", "")
        if not shift:
            return self.draw(n, rng)
        if key.endswith("~1") and key not in self.values:
            frame = self.draw(n, rng)
            var = key[:-2]
            if var not in frame.columns:
                raise ValueError(f"{var!r} is not an observed variable of the model")
            frame[var] += shift
            return frame
        if key not in self.values:
            raise ValueError(f"{key!r} is not a parameter of the model")
        sigma, mean = self.implied({key: self.values[key] + shift})
        chol = np.linalg.cholesky(sigma.to_numpy())
        z = rng.standard_normal((int(n), len(mean)))
        return pd.DataFrame(z @ chol.T + mean.to_numpy(), columns=list(mean.index))

    @cached_property
    def implied_moments(self) -> tuple[pd.DataFrame, pd.Series]:
        return self.implied()

    @property
    def truth(self) -> dict[str, float]:
        """The values the estimates are held to (bias, coverage): the free parameters' population values."""
        return {k: self.values[k] for k in self.free}

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "model", "model": self.model, "values": self.values}


def exact_data(sigma: pd.DataFrame, mean: pd.Series | None, n: int) -> pd.DataFrame:
    """``n`` rows whose sample mean is ``mean`` and whose ML covariance (divisor n) is exactly ``sigma``.

    Random rows are centred, whitened by their own Cholesky factor and coloured by that of ``sigma``,
    so ``X' X / n = Sigma`` to rounding: a fit to them returns the population values and the standard
    errors a sample of size n would have at the population (the asymptotic ones).
    """
    p = sigma.shape[0]
    n = int(n)
    if n <= p:
        raise SurveyInputError(f"n = {n} must exceed the number of observed variables ({p})", field="n")
    z = np.random.default_rng(0).standard_normal((n, p))
    z -= z.mean(axis=0)
    lz = np.linalg.cholesky(z.T @ z / n)
    white = np.linalg.solve(lz, z.T).T
    x = white @ np.linalg.cholesky(sigma.to_numpy()).T
    if mean is not None:
        x = x + np.asarray(mean, dtype=float)
    return pd.DataFrame(x, columns=list(sigma.columns))
