"""Which fit measures a paper reports for an estimator, and how it names them.

Under ML the paper reports lavaan's ``chisq``, ``cfi``, ``tli`` and ``rmsea``. Under a robust estimator it
reports the scaled test statistic with its scaling factor and the robust indices, as lavaan's
``fitMeasures()`` names them and as the literature recommends:

* MLR: the Yuan-Bentler scaled chi-square (Yuan & Bentler, 2000; lavaan ``test = "yuan.bentler.mplus"``),
  MLM: the Satorra-Bentler scaled chi-square (Satorra & Bentler, 1994); ``chisq.scaled`` = ``chisq`` /
  ``chisq.scaling.factor``.
* the robust CFI and TLI (Brosseau-Liard & Savalei, 2014) and the robust RMSEA with its 90% CI
  (Brosseau-Liard, Savalei & Li, 2012; Savalei, 2018): lavaan's ``cfi.robust``, ``tli.robust``,
  ``rmsea.robust``, ``rmsea.ci.lower.robust``, ``rmsea.ci.upper.robust``. The Hu and Bentler (1999)
  cutoffs are applied to these.
* SRMR does not depend on the test statistic and is reported as is.

Only the results' public ``fit_measures()`` is read.
"""

from __future__ import annotations

import math
from typing import Any

# generic key -> lavaan fitMeasures() name
STANDARD = {"chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
            "rmsea.ci.lower": "rmsea.ci.lower", "rmsea.ci.upper": "rmsea.ci.upper", "srmr": "srmr"}
ROBUST = {"chisq": "chisq.scaled", "df": "df.scaled", "pvalue": "pvalue.scaled",
          "scaling": "chisq.scaling.factor", "cfi": "cfi.robust", "tli": "tli.robust",
          "rmsea": "rmsea.robust", "rmsea.ci.lower": "rmsea.ci.lower.robust",
          "rmsea.ci.upper": "rmsea.ci.upper.robust", "srmr": "srmr"}

# the correction each robust estimator applies to the test statistic
CORRECTIONS = {"MLR": "Yuan-Bentler", "MLM": "Satorra-Bentler",
               "WLSMV": "mean- and variance-adjusted (scaled-shifted)"}
CITATIONS = {"MLR": "Yuan & Bentler, 2000", "MLM": "Satorra & Bentler, 1994",
             "WLSMV": "Asparouhov & Muth\u00e9n, 2010"}


def is_robust(estimator: str) -> bool:
    """True when the paper reports scaled and robust measures for ``estimator``."""
    return str(estimator).upper() in CORRECTIONS


def names(estimator: str) -> dict[str, str]:
    """``{generic key: lavaan name}`` of the measures reported under ``estimator``."""
    return dict(ROBUST if is_robust(estimator) else STANDARD)


def correction(estimator: str) -> str | None:
    """The name of the test-statistic correction (``"Yuan-Bentler"`` under MLR), or ``None`` under ML."""
    return CORRECTIONS.get(str(estimator).upper())


def reported(measures: dict[str, Any], estimator: str) -> dict[str, float]:
    """The reported measures by generic key (``chisq``, ``df``, ``pvalue``, ``scaling``, ``cfi`` ...).

    A robust name that a result does not provide is NaN (not the unscaled value), so a table never shows
    an unscaled statistic under a robust estimator's heading; ``df.scaled`` falls back to ``df`` (they are
    equal for MLR and MLM).
    """
    out: dict[str, float] = {}
    for key, name in names(estimator).items():
        value = measures.get(name)
        if value is None and key == "df":
            value = measures.get("df")
        out[key] = float("nan") if value is None else float(value)
    return out


def chisq_symbol(estimator: str) -> str:
    """The chi-square heading: plain, or tagged with the correction's initials (``YB``, ``SB``)."""
    tag = {"MLR": "YB", "MLM": "SB", "WLSMV": "MV"}.get(str(estimator).upper())
    return "\u03c7\u00b2" if tag is None else f"\u03c7\u00b2 {tag}"


def missing(value: Any) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True
