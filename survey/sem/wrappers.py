"""``cfa()``, ``sem()`` and ``growth()``: :func:`survey.sem.fit` with the defaults of lavaan's functions.

lavaan 0.6 (``cfa.R``/``sem.R``/``growth.R``; Rosseel 2012, J Stat Softw 48(2)): ``cfa()`` and ``sem()``
share ``int.ov.free=TRUE, int.lv.free=FALSE, auto.fix.first=!std.lv, auto.fix.single=TRUE,
auto.var=TRUE, auto.cov.lv.x=TRUE, auto.cov.y=TRUE`` (the defaults of
:func:`survey.sem.syntax.lavaanify`); ``growth()`` sets ``int.ov.free=FALSE, int.lv.free=TRUE`` and a
mean structure. Every other keyword (estimator, missing, group, se, std_lv, orthogonal, ...) is passed on.
"""

from __future__ import annotations

import pandas as pd


def _fit(model: str, data: pd.DataFrame, **options):
    from survey.sem.api import fit

    return fit(model, data, **options)


def cfa(model: str, data: pd.DataFrame, **options):
    """Confirmatory factor analysis with lavaan ``cfa()`` defaults (see :func:`survey.sem.fit`)."""
    return _fit(model, data, **options)


def sem(model: str, data: pd.DataFrame, **options):
    """Structural equation model with lavaan ``sem()`` defaults (see :func:`survey.sem.fit`)."""
    return _fit(model, data, **options)


def growth(model: str, data: pd.DataFrame, **options):
    """Latent growth model with lavaan ``growth()`` defaults: fixed observed intercepts, free latent means.

    >>> growth("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4", data)  # doctest: +SKIP
    """
    return _fit(model, data, model_type="growth", **options)
