"""The model of a fit over group blocks: one RAM model per block over the block's own free rows, and the
expansion matrix K with theta_full = K theta (one entry of theta_full per free row, lavaan's equality
constraints as shared parameters; Rosseel 2012, lavaan ``lav_model``). A single-group model is one block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.sem.model.ram import RAMModel
from survey.sem.syntax.groups import expansion_matrix


@dataclass
class MultiGroupModel:
    """Per-group RAM models over the full parameter vector, and the expansion K (theta_full = K theta)."""

    partable: pd.DataFrame
    models: list[RAMModel]
    k: np.ndarray
    index: list[np.ndarray]

    def local(self, theta_full: np.ndarray, g: int) -> np.ndarray:
        """Parameters of group g's own model (its free rows numbered 1..q_g) from theta_full."""
        return np.asarray(theta_full)[self.index[g]]

    @property
    def npar(self) -> int:
        return int(self.k.shape[1])

    @property
    def npar_full(self) -> int:
        return int(self.k.shape[0])

    @property
    def free_rows(self) -> int:
        """lavaan's number of free rows before equality constraints (one per row with ``free`` > 0: a label
        shared by two rows counts twice, as lavaan's partable keeps both free and adds ``==`` rows); the
        divisor of the Yuan-Bentler ``scaling.factor.h0``."""
        pt = self.partable
        return int(((pt["free"] > 0) & ~pt["op"].isin(["==", "<", ">", ":="])).sum())

    @property
    def meanstructure(self) -> bool:
        return self.models[0].meanstructure

    @property
    def ov(self) -> list[str]:
        return self.models[0].ov

    @classmethod
    def from_partable(cls, pt: pd.DataFrame, names=None) -> MultiGroupModel:
        """``names`` (lavaan's variable sets) fixes the order of the variables (default: the table's)."""
        groups = sorted(int(x) for x in pt["group"].unique() if x > 0)
        if len(groups) == 1:  # one block: its free parameters are theta (K = I), labels shared in RAMModel
            pt = pt.copy()
            pt["free_full"] = pt["free"].where(pt["op"] != ":=", 0)
        k = expansion_matrix(pt)
        models, index = [], []
        for g in groups:
            sub = pt[pt["group"] == g].copy()
            full = sub["free_full"].to_numpy()
            uniq = np.unique(full[full > 0])
            local = np.zeros(len(sub), dtype=int)
            local[full > 0] = np.searchsorted(uniq, full[full > 0]) + 1
            sub["free"] = local
            models.append(RAMModel(sub.reset_index(drop=True), names))
            index.append(uniq - 1)
        return cls(pt, models, k, index)
