"""Parameter vector -> model matrices -> model-implied moments (RAM formulation).

All variables (observed first, then latent) sit in one vector v = A v + e, Cov(e) = S, so that

    Sigma_all = T S T',  T = (I - A)^-1,   Sigma = F Sigma_all F'

with F selecting the observed variables (McArdle & McDonald 1984, Br J Math Stat Psychol 37).
A factor loading ``f =~ x`` is A[x, f]; a regression ``y ~ x`` is A[y, x]; ``a ~~ b`` is S[a, b].
This is the same model as lavaan's LISREL matrices (Lambda, B, Psi, Theta); the derivatives of Sigma
with respect to the parameters are analytic:

    dSigma/dA_ij = F T e_i e_j' Sigma_all F' + (.)'      dSigma/dS_ij = F T (e_i e_j' + e_j e_i') T' F'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import EstimationError, SurveyInputError
from survey.sem.syntax import variable_names


@dataclass
class Implied:
    """Model-implied moments at one parameter vector."""

    sigma: np.ndarray  # observed covariance (p x p)
    sigma_all: np.ndarray  # covariance of all variables (n x n)
    t: np.ndarray  # (I - A)^-1
    mean: np.ndarray | None = None


class RAMModel:
    """The model of one parameter table: fills A and S from the free parameters and fixed values."""

    def __init__(self, partable: pd.DataFrame, names=None) -> None:
        pt = partable
        names = names if names is not None else variable_names(pt[pt["op"].isin(["=~", "~", "~~", "~1"])])
        self.names = names
        self.ov: list[str] = list(names.ov)
        self.lv: list[str] = list(names.lv)
        self.variables = self.ov + self.lv
        self.index = {v: i for i, v in enumerate(self.variables)}
        self.p = len(self.ov)
        self.nvar = len(self.variables)
        self.npar = int(pt["free"].max()) if len(pt) else 0
        self.meanstructure = bool((pt["op"] == "~1").any())
        a_rows, a_cols, a_par, a_val = [], [], [], []
        s_rows, s_cols, s_par, s_val = [], [], [], []
        m_rows, m_par, m_val = [], [], []
        self.row_kind = np.full(len(pt), "", dtype=object)
        for k, row in enumerate(pt.itertuples(index=False)):
            par = int(row.free) - 1
            val = 0.0 if np.isnan(row.ustart) else float(row.ustart)
            if row.op == "=~" and row.lhs == row.rhs and par < 0 and val == 0.0:
                self.row_kind[k] = "0"  # lavaan's phantom latent ``f =~ 0``: the row f =~ f fixed at 0,
                continue  # no matrix entry
            if row.op == "=~":
                a_rows.append(self.index[row.rhs])
                a_cols.append(self.index[row.lhs])
                a_par.append(par)
                a_val.append(val)
                self.row_kind[k] = "A"
            elif row.op == "~":
                if row.lhs == row.rhs:
                    raise SurveyInputError(
                        "a variable cannot be regressed on itself", value=row.lhs, field="model"
                    )
                a_rows.append(self.index[row.lhs])
                a_cols.append(self.index[row.rhs])
                a_par.append(par)
                a_val.append(val)
                self.row_kind[k] = "A"
            elif row.op == "~~":
                i, j = self.index[row.lhs], self.index[row.rhs]
                s_rows.append(i)
                s_cols.append(j)
                s_par.append(par)
                s_val.append(val)
                self.row_kind[k] = "S"
            elif row.op == "~1":
                m_rows.append(self.index[row.lhs])
                m_par.append(par)
                m_val.append(val)
                self.row_kind[k] = "M"
        self.a_rows, self.a_cols = np.array(a_rows, dtype=int), np.array(a_cols, dtype=int)
        self.a_par, self.a_val = np.array(a_par, dtype=int), np.array(a_val, dtype=float)
        self.s_rows, self.s_cols = np.array(s_rows, dtype=int), np.array(s_cols, dtype=int)
        self.s_par, self.s_val = np.array(s_par, dtype=int), np.array(s_val, dtype=float)
        self.m_rows, self.m_par = np.array(m_rows, dtype=int), np.array(m_par, dtype=int)
        self.m_val = np.array(m_val, dtype=float)
        self.partable = pt.reset_index(drop=True)
        self._std_plan = None  # row plan of survey.sem.standardize, built on first use
        self._check_recursive_identity()
        # 0/1 maps from matrix entries to free parameters (sums entries sharing a label)
        self._rows_a = np.flatnonzero(self.row_kind == "A")
        self._rows_s = np.flatnonzero(self.row_kind == "S")
        self._rows_m = np.flatnonzero(self.row_kind == "M")
        self._a_map = self._entry_map(self.a_par)
        self._s_map = self._entry_map(self.s_par)
        self._m_map = self._entry_map(self.m_par)

    def _entry_map(self, par: np.ndarray) -> np.ndarray:
        free = par[par >= 0]
        out = np.zeros((self.npar, free.size))
        out[free, np.arange(free.size)] = 1.0
        return out

    def _check_recursive_identity(self) -> None:
        a = np.zeros((self.nvar, self.nvar))
        a[self.a_rows, self.a_cols] = 1.0
        if np.any(np.diag(a) != 0):
            raise SurveyInputError("a variable cannot predict itself", field="model")

    # ------------------------------------------------------------------ fixed values
    def set_exogenous(self, cov: np.ndarray, mean: np.ndarray | None = None) -> None:
        """Fix the ``exo`` rows (fixed.x covariates) at the sample moments, as lavaan does."""
        pt = self.partable
        s_k = np.flatnonzero(self.row_kind == "S")
        for pos, k in enumerate(s_k):
            if pt.at[k, "exo"] == 1:
                i, j = self.s_rows[pos], self.s_cols[pos]
                self.s_val[pos] = cov[i, j]
        if mean is not None:
            m_k = np.flatnonzero(self.row_kind == "M")
            for pos, k in enumerate(m_k):
                if pt.at[k, "exo"] == 1:
                    self.m_val[pos] = mean[self.m_rows[pos]]

    # ------------------------------------------------------------------ matrices
    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A, S and the mean vector m at ``theta`` (fixed entries at their values)."""
        theta = np.asarray(theta)
        dtype = np.result_type(theta.dtype, float)
        a = np.zeros((self.nvar, self.nvar), dtype=dtype)
        s = np.zeros((self.nvar, self.nvar), dtype=dtype)
        m = np.zeros(self.nvar, dtype=dtype)
        av = np.where(self.a_par >= 0, theta[np.maximum(self.a_par, 0)], self.a_val)
        sv = np.where(self.s_par >= 0, theta[np.maximum(self.s_par, 0)], self.s_val)
        a[self.a_rows, self.a_cols] = av
        s[self.s_rows, self.s_cols] = sv
        s[self.s_cols, self.s_rows] = sv
        if len(self.m_rows):
            m[self.m_rows] = np.where(self.m_par >= 0, theta[np.maximum(self.m_par, 0)], self.m_val)
        return a, s, m

    def parameter_values(self, theta: np.ndarray) -> np.ndarray:
        """Value of every parameter-table row (free rows from ``theta``, fixed rows at their value)."""
        theta = np.asarray(theta)
        out = np.full(len(self.partable), np.nan, dtype=np.result_type(theta.dtype, float))
        for ks, par, val in (
            (self._rows_a, self.a_par, self.a_val),
            (self._rows_s, self.s_par, self.s_val),
            (self._rows_m, self.m_par, self.m_val),
        ):
            out[ks] = np.where(par >= 0, theta[np.maximum(par, 0)], val)
        out[self.row_kind == "0"] = 0.0  # phantom rows f =~ f (lavaan's ``f =~ 0``)
        return out

    def implied(self, theta: np.ndarray) -> Implied:
        """Sigma(theta) (and mu(theta) with a mean structure)."""
        a, s, m = self.matrices(theta)
        eye = np.eye(self.nvar)
        try:
            t = np.linalg.inv(eye - a)
        except np.linalg.LinAlgError as exc:
            raise EstimationError(
                "the regression paths form a singular system (I - B not invertible)"
            ) from exc
        sigma_all = t @ s @ t.T
        sigma = sigma_all[: self.p, : self.p]
        mean = (t @ m)[: self.p] if self.meanstructure else None
        return Implied(sigma=sigma, sigma_all=sigma_all, t=t, mean=mean)

    def delta(self, theta: np.ndarray, implied: Implied | None = None) -> np.ndarray:
        """Jacobian dSigma/dtheta as an array (npar, p, p) (analytic, see module docstring)."""
        imp = implied if implied is not None else self.implied(theta)
        p = self.p
        g = imp.t[:p, :]  # F T  (p x n)
        c_ov = imp.sigma_all[:, :p]  # Sigma_all F'  (n x p)
        out = np.zeros((self.npar, p * p))
        free = self.a_par >= 0
        if free.any():
            u = g[:, self.a_rows[free]]  # p x m
            v = c_ov[self.a_cols[free], :]  # m x p
            d = u.T[:, :, None] * v[:, None, :]
            d = d + d.transpose(0, 2, 1)
            out += self._a_map @ d.reshape(d.shape[0], -1)
        free = self.s_par >= 0
        if free.any():
            gi = g[:, self.s_rows[free]]
            gj = g[:, self.s_cols[free]]
            d = gi.T[:, :, None] * gj.T[:, None, :]
            d = d + d.transpose(0, 2, 1)
            diag = self.s_rows[free] == self.s_cols[free]
            d[diag] *= 0.5
            out += self._s_map @ d.reshape(d.shape[0], -1)
        return out.reshape(self.npar, p, p)

    def gradient_from_weight(self, w: np.ndarray, imp: Implied) -> np.ndarray:
        """sum_ij W_ij dSigma_ij/dtheta_k for a symmetric p x p weight W, without forming dSigma.

        dSigma/dA_ij -> 2 (G' W C)_ij with G = F T, C = Sigma_all F';
        dSigma/dS_ij -> (2 - delta_ij) (G' W G)_ij.
        """
        p = self.p
        g = imp.t[:p, :]
        gw = g.T @ w  # n x p
        out = np.zeros(self.npar)
        free = self.a_par >= 0
        if free.any():
            m = gw @ imp.sigma_all[:, :p].T  # n x n
            out += self._a_map @ (2.0 * m[self.a_rows[free], self.a_cols[free]])
        free = self.s_par >= 0
        if free.any():
            m = gw @ g  # n x n
            rows, cols = self.s_rows[free], self.s_cols[free]
            out += self._s_map @ (np.where(rows == cols, 1.0, 2.0) * m[rows, cols])
        return out

    def delta_mean(self, theta: np.ndarray, implied: Implied | None = None) -> np.ndarray:
        """Jacobian dmu/dtheta (npar, p) for a mean structure: mu = F T m."""
        imp = implied if implied is not None else self.implied(theta)
        p = self.p
        out = np.zeros((self.npar, p))
        if not self.meanstructure:
            return out
        a, s, m = self.matrices(theta)
        g = imp.t[:p, :]
        tm = imp.t @ m
        free = self.a_par >= 0
        if free.any():
            # d mu / dA_ij = F T e_i e_j' T m
            d = g[:, self.a_rows[free]].T * tm[self.a_cols[free]][:, None]
            out += self._a_map @ d
        free = self.m_par >= 0
        if free.any():
            out += self._m_map @ g[:, self.m_rows[free]].T
        return out
