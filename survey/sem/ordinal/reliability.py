"""``survey reliability --ordered``: reliability of ordered items from their ordinal CFA.

The measurement part of the model (its ``=~`` lines) is fitted with the items ordered (lavaan
``cfa(..., ordered = items)``, WLSMV, delta parameterization), and
:func:`survey.measure.ordinal.ordinal_reliability` gives per factor ordinal alpha (psych ``alpha()`` on the
polychoric matrix; Zumbo, Gadermann & Zeisser 2007), categorical omega (semTools ``compRelSEM`` with
ordered items, ``obs.var = TRUE``; Green & Yang 2009), AVE as semTools ``AVE()`` and Fornell-Larcker's mean
squared standardized loading (tests/fixtures/ordinal/make_reference.R).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

COLUMNS = ("n_items", "alpha_ordinal", "omega_categorical", "ave_semtools", "ave_fornell_larcker")


@dataclass
class OrdinalReliability:
    """Per factor the ordinal coefficients (:data:`COLUMNS`), and the CFA's warnings."""

    table: pd.DataFrame
    nobs: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        factors = {str(f): {c: (int(r[c]) if c == "n_items" else float(r[c])) for c in COLUMNS}
                   for f, r in self.table.iterrows()}
        return {"ordered": True, "estimator": "WLSMV", "nobs": self.nobs, "factors": factors,
                "warnings": list(self.warnings)}

    def summary(self) -> str:
        head = (f"Reliability of ordered items (ordinal CFA, WLSMV, N = {self.nobs}); alpha_ordinal: psych "
                "alpha() of the polychorics; omega_categorical: semTools compRelSEM (ordered); ave_semtools: "
                "semTools AVE(); ave_fornell_larcker: mean squared std. loading")
        shown = self.table.loc[:, list(COLUMNS)].astype(float).astype({"n_items": int})
        body = shown.to_string(float_format=lambda v: f"{v:.3f}")
        return "\n".join([head, "", body, *[f"warning: {w}" for w in self.warnings]])


def measurement_syntax(model: str) -> str:
    """The model's ``=~`` lines (the measurement part), or a one-line error when it has none."""
    lines = [ln for ln in model.replace(";", "\n").splitlines() if "=~" in ln.split("#", 1)[0]]
    if not lines:
        raise SurveyInputError("the model has no factors (=~ lines) to compute reliability for",
                               field="model")
    return "\n".join(lines)


def ordinal_reliability_report(model: str, data: pd.DataFrame, ordered, fit) -> OrdinalReliability:
    """Fit the measurement part of ``model`` with ``ordered`` items ("all" or a list) through ``fit``
    (:func:`survey.sem.fit`) and compute :func:`survey.measure.ordinal.ordinal_reliability`."""
    from survey.measure.ordinal import ordinal_reliability

    res = fit(measurement_syntax(model), data, ordered=True if ordered in ("all", True) else list(ordered))
    if not getattr(res, "single", True) or not hasattr(res, "sample"):
        raise SurveyInputError("ordinal reliability of a multi-group model is not available yet",
                               field="model")
    names = list(res.sample.names)
    poly = pd.DataFrame(res.sample.correlations, index=names, columns=names)
    numeric = [v for v, t in zip(names, res.sample.thresholds, strict=True) if np.size(t) == 0]
    if numeric:
        raise SurveyInputError("ordinal reliability needs every item of the factors ordered (--ordered all)",
                               value=numeric[0], field="ordered")
    thresholds = dict(zip(names, res.sample.thresholds, strict=True))
    table = ordinal_reliability(res.estimates(), poly, thresholds)
    return OrdinalReliability(table, int(np.sum(res.nobs)), [str(w) for w in res.warnings or []])
