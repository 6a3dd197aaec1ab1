"""``cfa()``, ``sem()`` and ``growth()``: :func:`survey.sem.fit` with the defaults of lavaan's functions.

lavaan 0.6 (``cfa.R``/``sem.R``/``growth.R``; Rosseel 2012, J Stat Softw 48(2)): ``cfa()`` and ``sem()``
share ``int.ov.free=TRUE, int.lv.free=FALSE, auto.fix.first=!std.lv, auto.fix.single=TRUE,
auto.var=TRUE, auto.cov.lv.x=TRUE, auto.cov.y=TRUE`` (the defaults of
:func:`survey.sem.syntax.lavaanify`); ``growth()`` sets ``int.ov.free=FALSE, int.lv.free=TRUE`` and a
mean structure. As in lavaan, these wrappers set the ``int_*`` and ``auto_*`` options themselves (a user's
value is ignored, with a warning; :func:`survey.sem.fit` honours them as ``lavaan()`` does); every other
keyword (estimator, missing, group, se, std_lv, orthogonal, meanstructure, fixed_x, ...) is passed on.
"""

from __future__ import annotations

import pandas as pd

from survey.errors import SurveyWarning

# lavaan's cfa()/sem()/growth() set these themselves: a user's value is ignored (only lavaan() honours them)
FORCED = ("int_ov_free", "int_lv_free", "auto_fix_first", "auto_fix_single", "auto_var", "auto_cov_lv_x",
          "auto_cov_y")


def _fit(model: str, data: pd.DataFrame, name: str = "sem", **options):
    from survey.sem.api import fit

    ignored = sorted(k for k in FORCED if k in options)
    for key in ignored:
        options.pop(key)
    result = fit(model, data, **options)
    if ignored:
        result.warnings.append(SurveyWarning(
            "option_ignored", f"{', '.join(ignored)} ignored: lavaan's {name}() sets these options itself "
            "(as lavaan); use survey.fit(...) (lavaan()) to change them", "sem"))
    return result


def cfa(model: str, data: pd.DataFrame, **options):
    """Confirmatory factor analysis with lavaan ``cfa()`` defaults (see :func:`survey.sem.fit`)."""
    return _fit(model, data, "cfa", **options)


def sem(model: str, data: pd.DataFrame, **options):
    """Structural equation model with lavaan ``sem()`` defaults (see :func:`survey.sem.fit`)."""
    return _fit(model, data, "sem", **options)


def growth(model: str, data: pd.DataFrame, **options):
    """Latent growth model with lavaan ``growth()`` defaults: fixed observed intercepts, free latent means.

    >>> growth("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4", data)  # doctest: +SKIP
    """
    return _fit(model, data, "growth", model_type="growth", **options)
