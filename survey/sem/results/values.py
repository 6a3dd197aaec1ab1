"""Parameter-table values of a fit over group blocks at any theta: estimates (defined parameters
included) and standardized values (lavaan ``standardizedSolution``; ``:=`` rows evaluated at the
standardized parameters, lavaan's convention). Used by the result and by the bootstrap replicates."""

from __future__ import annotations

import numpy as np

from survey.sem.model.blocks import MultiGroupModel
from survey.sem.standardize import standardize
from survey.sem.syntax.defined import DefinedFunction


def _with_defined(mg: MultiGroupModel, parts: list[np.ndarray]) -> np.ndarray:
    cache = getattr(mg, "_defined_cache", None)
    if cache is None:  # built once per model: the row mask and the compiled := definitions
        pt = mg.partable
        model = (pt["group"] > 0).to_numpy()  # block rows; := and constraint rows (block 0) after them
        defined = (pt["op"] == ":=").to_numpy()
        cache = (model, defined, DefinedFunction(pt) if defined.any() else None)
        mg._defined_cache = cache
    model, defined, func = cache
    vals = np.full(model.size, np.nan)
    vals[model] = np.concatenate(parts) if parts else np.zeros(0)
    if func is not None:
        vals[defined] = func(vals)
    return vals


def values_at(mg: MultiGroupModel, theta: np.ndarray) -> np.ndarray:
    """Value of every parameter-table row at theta."""
    full = mg.k @ theta
    return _with_defined(mg, [ram.parameter_values(mg.local(full, i)) for i, ram in enumerate(mg.models)])


def std_at(mg: MultiGroupModel, theta: np.ndarray, kind: str) -> np.ndarray:
    """Standardized value (``std.lv`` or ``std.all``) of every parameter-table row at theta."""
    full = mg.k @ theta
    return _with_defined(mg, [standardize(ram, mg.local(full, i), kind) for i, ram in enumerate(mg.models)])
