"""Robust ML (MLR, MLM): the estimators run through the one pipeline (:func:`survey.sem.fit` with
``estimator="MLR"`` or ``"MLM"``; :mod:`survey.sem.inference`). Kept here: the moment helpers (re-exported
from :mod:`survey.sem.model.moments`), the scaled test record and measures, the independence model, and
the Satorra-Bentler (2001) scaled difference of nested fits.
"""

from __future__ import annotations

import numpy as np

from survey import distributions as sps
from survey.errors import SurveyInputError
from survey.sem.compare import scaled_chisq_difference
from survey.sem.inference.tests import ScaledTest  # noqa: F401 - re-exported
from survey.sem.measures.robust import (  # noqa: F401 - re-exported
    cfi_robust,
    rmsea_ci_scaled,
    rmsea_close_pvalue,
    rmsea_value,
    rni_robust,
    tli_robust,
)
from survey.sem.model.moments import (  # noqa: F401 - re-exported
    duplication_matrix,
    gamma_adf,
    h1_information,
    h1_scores,
    moments_jacobian,
    vech_index,
)
from survey.sem.model.ram import RAMModel
from survey.sem.syntax import lavaanify

ROBUST_ESTIMATORS = ("MLR", "MLM")
TEST_NAMES = {"MLR": "yuan.bentler.mplus", "MLM": "satorra.bentler"}


def fit_robust(model: str, data, *, estimator: str):
    """``survey.sem.fit(model, data, estimator=estimator)`` for MLR or MLM."""
    from survey.sem.api import fit

    est = str(estimator).upper()
    if est not in ROBUST_ESTIMATORS:
        raise SurveyInputError("robust estimator must be MLR or MLM", value=estimator, field="estimator")
    return fit(model, data, estimator=est)


def independence_model(names: list[str], meanstructure: bool) -> RAMModel:
    """The baseline (independence) model: free variances (and intercepts), zero covariances."""
    syntax = "\n".join(f"{v} ~~ {v}" for v in names)
    if meanstructure:
        syntax += "\n" + "\n".join(f"{v} ~ 1" for v in names)
    return RAMModel(lavaanify(syntax, meanstructure=meanstructure))


def independence_theta(model: RAMModel, cov: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Closed-form ML estimates of the independence model: the sample variances (and means)."""
    theta = np.zeros(model.npar)
    idx = {v: i for i, v in enumerate(model.ov)}
    for row in model.partable.itertuples(index=False):
        if row.free > 0:
            j = idx[row.lhs]
            theta[row.free - 1] = cov[j, j] if row.op == "~~" else mean[j]
    return theta


def scaled_difference(fit0, fit1) -> dict[str, float]:
    """Satorra-Bentler (2001) scaled chi-square difference of nested robust fits (``fit0`` restricted).

    Returns ``{"chisq.diff", "df.diff", "pvalue"}`` as lavaan's ``lavTestLRT(method="satorra.bentler.2001")``.
    """
    m0, m1 = fit0.fit_measures(), fit1.fit_measures()
    for m in (m0, m1):
        if "chisq.scaling.factor" not in m:
            raise SurveyInputError("scaled_difference needs two robust (MLR/MLM) fits", field="estimator")
    stat, ddf = scaled_chisq_difference(
        m0["chisq"],
        int(m0["df"]),
        m0["chisq.scaling.factor"],
        m1["chisq"],
        int(m1["df"]),
        m1["chisq.scaling.factor"],
    )
    stat = max(stat, 0.0)
    return {"chisq.diff": float(stat), "df.diff": float(ddf), "pvalue": float(sps.chi2.sf(stat, ddf))}
