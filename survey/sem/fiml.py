"""Full-information ML with missing data (lavaan ``missing="ml"``): helpers of the casewise likelihood.

The FIML fit itself runs through the one pipeline (:func:`survey.sem.fit` with ``missing="fiml"``;
block statistics :class:`survey.sem.data.blocks.MissingBlock`, patterns and EM in
:mod:`survey.sem.data.missing`). Kept here: the single-model likelihood, its observed information and the
scoring optimiser used by the FIML bootstrap replicates (:mod:`survey.sem.bootstrap`).
"""

from __future__ import annotations

import pandas as pd

from survey.sem.data.missing import (  # noqa: F401 - re-exported
    LOG2PI,
    MissingData,
    em_saturated,
    loglik,
    missing_patterns,
)
from survey.sem.data.missing_info import (  # noqa: F401 - re-exported
    case_scores_moments,
    h1_case_scores,
    h1_observed_information,
)
from survey.sem.estimate.fiml import (  # noqa: F401 - re-exported
    estimate_fiml,
    model_loglik,
    observed_information,
)
from survey.sem.model.chain import contract  # noqa: F401 - re-exported


def fit_fiml(model: str, data: pd.DataFrame, *, estimator: str = "ML"):
    """``survey.sem.fit(model, data, missing="fiml", estimator=estimator)``."""
    from survey.sem.api import fit

    return fit(model, data, missing="fiml", estimator=estimator)








