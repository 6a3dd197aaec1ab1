"""What the single-group and multi-group bootstraps share (:mod:`survey.sem.bootstrap`,
:mod:`survey.sem.bootstrap_blocks`): the Bollen-Stine matrix power, the check of the number of
replicates, and the assembly of the replicates into a :class:`BootstrapResult` with the failure
warning and the Bollen-Stine p-value (Bollen & Stine 1992; lavaan: p = #{T*_b > T} / B_ok)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.results.boot import BootstrapResult


def symmetric_power(m: np.ndarray, power: float) -> np.ndarray:
    """M^power of a symmetric positive definite matrix (eigen-decomposition)."""
    vals, vecs = np.linalg.eigh(m)
    return (vecs * vals**power) @ vecs.T


BOLLEN_STINE_MISSING = (
    "lavaan 0.6.14 refuses the Bollen-Stine bootstrap with missing data too ('bollen.stine/yuan bootstrap "
    "not available for missing data': the transform needs a complete-data S); use missing='listwise'"
)


def refuse_bollen_stine_missing() -> None:
    """lavaan 0.6.14's refusal of ``type = "bollen.stine"`` with ``missing != "listwise"``
    (lav_bootstrap_internal; single or multi-group, ``sem(test = "bollen.stine")``,
    ``bootstrapLavaan``), with its reason."""
    raise SurveyInputError(BOLLEN_STINE_MISSING, field="bollen_stine")


def check_replicates(n: Any) -> int:
    """The number of replicates (at least 2)."""
    if n is None or int(n) < 2:
        raise SurveyInputError("the bootstrap needs at least 2 replicates", value=n, field="bootstrap")
    return int(n)


def assemble(
    result: Any,
    values: np.ndarray,
    chisq: np.ndarray,
    columns: list[str],
    full: np.ndarray,
    labels: list[str],
    std_rows: np.ndarray,
    *,
    seed: int | None,
    level: float,
    bollen_stine: bool,
    jackknife: pd.DataFrame | None = None,
) -> BootstrapResult:
    """The :class:`BootstrapResult` of the replicate ``values`` (B x columns, NaN rows = failed), the
    full-sample values ``full``, the parameter-table rows of every column (``labels``: free and
    defined parameters, in the order of ``std_rows``) and, for Bollen-Stine, the replicate
    chi-squares."""
    pt = result.partable
    n = values.shape[0]
    reps = pd.DataFrame(values, columns=columns)
    reps.index.name = "replicate"
    failed = int(np.isnan(values).any(axis=1).sum())
    warnings = []
    if failed:
        warnings.append(
            SurveyWarning(
                "bootstrap_failed",
                f"{failed} of {n} bootstrap replicates did not converge; "
                "statistics use the other replicates.",
                "sem",
            )
        )
    free = pt["free"].to_numpy()
    rows = {
        c: [int(r) for r in np.flatnonzero(free == free[r0])] if free[r0] > 0 else [int(r0)]
        for c, r0 in zip(labels, std_rows, strict=True)
    }
    rows.update({f"std.all:{c}": [int(r0)] for c, r0 in zip(labels, std_rows, strict=True)})
    out = BootstrapResult(
        replicates=reps,
        estimates=pd.Series(full, index=columns),
        n_requested=n,
        n_failed=failed,
        seed=seed,
        level=level,
        jackknife=jackknife,
        rows=rows,
        warnings=warnings,
        partable=pt,
    )
    if bollen_stine:
        t0 = float(result.fit_measures()["chisq"])
        ok = chisq[np.isfinite(chisq)]
        out.chisq = chisq
        # lavaan (lav_model_test): sum(boot.T > T) / length(boot.T), strict >
        out.bollen_stine_pvalue = float((ok > t0).mean()) if ok.size else float("nan")
    return out
