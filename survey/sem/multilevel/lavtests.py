"""lavaan's ``lavTestScore()`` and the pieces of ``lavTestWald()`` for two-level fits (lavaan 0.6.14 on a
``level:`` model; fixtures tests/fixtures/multilevel/make_multilevel_results.R). ``lavTestLRT()`` of
two-level fits is :func:`survey.sem.results.lrt.lav_test_lrt` on their fit measures (chi-square
differences; MLR: the Satorra-Bentler 2001 scaled difference with the Yuan-Bentler-Mplus scaling factors).

Score test of the equality constraints of shared labels (lavaan's ``.pX. == .pY.`` rows; Satorra 1989,
Psychometrika 54): the model with every free row its own parameter, at the constrained estimates; s the
score d logl / d theta of the two-level likelihood (:mod:`.loglik`) and I the expected information
(:func:`survey.sem.multilevel.information.expected_information`, lavaan's default ``information =
"expected"``; with missing = "ml" the FIML score and, as lavaan, the complete-data expected information
over the clusters' sizes, :func:`survey.sem.multilevel.modindices.cluster_layout`), both per cluster
(lavaan's unit over J clusters); with R the constraint rows (+1 / -1),
:func:`survey.sem.results.lrt.score_test`: total J s' P s on rank(R) df, P the top-left block of
[[I, R'], [R, 0]]^+, the univariate test of each constraint released alone and the expected parameter
changes -P s. lavaan computes the ordinary score test for MLR fits too (it warns "se is not
`standard'; not implemented yet; falling back to ordinary score test"), and so do we.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.multilevel.estimate import build_model
from survey.sem.multilevel.information import expected_information
from survey.sem.multilevel.modindices import cluster_layout

_MODEL_OPS = ("=~", "~", "~~", "~1")


def twolevel_score_test(res, theta: np.ndarray | None = None):
    """``lavTestScore(fit)`` of a :class:`survey.sem.multilevel.result.TwoLevelFit` (module notes):
    a :class:`survey.sem.results.lrt.ScoreTest` (``uni`` with lhs op rhs as lavaan's plabels); at
    ``theta`` (default the estimates; e.g. lavaan's, to check the formulas apart from the optimiser)."""
    from survey.sem.results.lrt import score_test

    pt = res.partable
    model = pt[(pt["block"] > 0) & pt["op"].isin(_MODEL_OPS)].reset_index(drop=True).copy()
    free = model["free"].to_numpy().copy()
    rows = np.flatnonzero(free > 0)
    if len(set(free[rows])) == len(rows):
        raise SurveyInputError("lavTestScore: no equality constraints found in model (lavaan: no equality "
                               "constraints found in model)", field="model")
    model.loc[model.index[rows], "free"] = np.arange(1, len(rows) + 1)
    model["ustart"] = model["est"].astype(float)
    theta = (res.theta if theta is None else np.asarray(theta, dtype=float))[free[rows] - 1]
    cons, first = [], {}
    for j, k in enumerate(rows):
        if free[k] in first:
            cons.append((first[free[k]], j))
        else:
            first[free[k]] = j
    r = np.zeros((len(cons), len(rows)))
    for c, (a, b) in enumerate(cons):
        r[c, a], r[c, b] = 1.0, -1.0
    st = res.tl.st
    tl = build_model(model, st)
    j = st.nclusters
    score = -0.5 * tl.gradient(theta) / j
    info = expected_information(lambda t: tl.moments(t)[0], cluster_layout(st), theta) / j
    out = score_test(score, info, r, j)
    plabel = list(model["plabel"])
    out.uni.insert(0, "lhs", [plabel[rows[a]] for a, _ in cons])
    out.uni.insert(1, "op", "==")
    out.uni.insert(2, "rhs", [plabel[rows[b]] for _, b in cons])
    cols = ["lhs", "op", "rhs", "block", "plabel"]
    out.epc_rows = model.loc[model.index[rows], cols].reset_index(drop=True)  # the rows of ``epc``
    return out


def score_frame(test) -> pd.DataFrame:
    """The ``epc`` rows of a two-level score test (lhs op rhs block plabel epc)."""
    return test.epc_rows.assign(epc=test.epc)
