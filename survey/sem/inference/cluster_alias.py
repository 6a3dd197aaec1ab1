"""Estimators MLMV / MLMVS with ``cluster=`` (lavaan 0.6.14 ``lav_options_set``, clustered branch).

lavaan runs them as ML with

- se ``robust.cluster`` on the *expected* information (``information = c("expected", "observed")``): the
  standard errors of clustered MLF (:func:`survey.sem.inference.cluster.resolve`, alias branch);
- ``test = c(<alias test>, "yuan.bentler.mplus")`` with ``observed.information = "h1"`` for all tests
  (its warning "observed.information for ALL test statistics is set to h1"): the alias' scaled.shifted
  (MLMV) or mean.var.adjusted (MLMVS) test, model and baseline, from the Satorra-Bentler traces
  tr(U Gamma), tr((U Gamma)^2) with U on the observed information and the observed h1 weight, Gamma the
  cluster-summed one (the pieces of clustered ML with ``test = "satorra.bentler"``,
  :func:`survey.sem.inference.cluster.cluster_ml_test`); then the Yuan-Bentler-Mplus test of clustered
  MLF (h1 information, cluster-summed first-order B0; Yuan & Bentler 2000), or with ``test =
  "satorra.bentler"`` the Satorra-Bentler test on the same traces.

Asparouhov & Muthen (2010) for the scaled-and-shifted statistic, Satterthwaite (1941) / Satorra & Bentler
(1994) for the mean-and-variance adjusted one (formulas: :mod:`survey.sem.inference.adjusted`).
"""

from __future__ import annotations

from survey.errors import SurveyInputError, SurveyWarning

ALIAS_TESTS = {"MLMV": "scaled.shifted", "MLMVS": "mean.var.adjusted"}


def fit_clustered_alias(fit_blocks, model, data, estimator: str, test: str = "standard", se: str = "default",
                        information: str = "default", **options):
    """The clustered MLMV / MLMVS fit (module notes): ``fit_blocks`` (:func:`survey.sem.engine.fit_blocks`)
    with estimator MLF and the same data, clusters and options, its test table rebuilt as lavaan's.
    ``test``: lavaan's further test(s) beside the alias' one, in the order given (yuan.bentler.mplus by
    default; satorra.bentler, or yuan.bentler: without weights the same statistic, with weights on its own
    Omega); the others refused with lavaan's message."""
    from survey.sem.inference.adjusted import as_dict, normalize_test

    est = str(estimator).upper()
    own = ALIAS_TESTS[est]
    asked = [normalize_test(t) for t in test] if isinstance(test, (list, tuple)) else [normalize_test(test)]
    # lavaan: the alias' test, then the further ones in the order given (fixtures/engine/test_lists.json)
    seconds = [t for t in dict.fromkeys(asked) if t != "standard"] or ["yuan.bentler.mplus"]
    for second in seconds:
        if second not in ("yuan.bentler.mplus", "satorra.bentler", "yuan.bentler"):
            raise SurveyInputError('test must be one of "none", "yuan.bentler", "yuan.bentler.mplus" or '
                                   '"satorra.bentler" in the clustered case (lavaan)', field="test",
                                   value=second)
    if str(se).lower() not in ("default", "robust.cluster", "robust.huber.white", "robust"):
        raise SurveyInputError("with cluster= the standard errors are cluster-robust: se must be default or "
                               "robust.cluster (lavaan)", field="se", value=str(se))
    if information not in ("default", None):
        raise SurveyInputError(f"information= is set by estimator {est} with cluster= (lavaan: expected for "
                               "the standard errors, observed h1 for the tests)", field="information",
                               value=str(information))
    result = fit_blocks(model, data, estimator="MLF", **options)
    blocks = result.stats.groups
    extras = {}
    for second in seconds:
        if second == "yuan.bentler.mplus":
            extra = h1_yuan_bentler_mplus(result.pieces, blocks)
        elif second == "yuan.bentler" and options.get("sampling_weights"):  # its own Omega (Yuan-Bentler)
            extra = alias_test("yuan.bentler", result.pieces, blocks)
        else:  # lavaan's clustered yuan.bentler without weights is the Satorra-Bentler statistic
            extra = alias_test("satorra.bentler", result.pieces, blocks)
            if extra is not None:
                extra.method = second
        if extra is not None:
            extras[second] = as_dict(extra)
    for pieces in (result.pieces, result.baseline):
        pieces.scaled = alias_test(own, pieces, blocks)
    result.scaled_test = result.pieces.scaled
    result.estimator = "ML"  # lavaan reports the alias as ML (the MLF route runs as MLR)
    if extras:
        result.pieces.extra_tests = extras
    result.warnings = [w for w in result.warnings if w.code != "weights_robust"] + [SurveyWarning(
        "h1_information", f"estimator {est} with cluster=: cluster-robust standard errors on the expected "
        f"information, the {own} and {', '.join(seconds)} tests on observed.information = \"h1\" (as lavaan)",
        "sem")]
    return result


def h1_yuan_bentler_mplus(pieces, blocks):
    """The Yuan-Bentler-Mplus test of ``pieces`` on lavaan's observed.information = "h1"
    (:func:`survey.sem.inference.cluster.h1_test_information`, with or without sampling weights) and the
    cluster-summed first-order information B0."""
    import numpy as np

    from survey.sem.inference import information as infmod
    from survey.sem.inference.adjusted import requested_test
    from survey.sem.inference.cluster import h1_test_information
    from survey.sem.inference.vcov import symmetric_inverse

    if not np.isfinite(pieces.stat) or pieces.df <= 0:
        return None
    mg, theta = pieces.mg, pieces.theta
    a_inv = symmetric_inverse(h1_test_information(mg, blocks, theta))
    return requested_test("yuan.bentler.mplus", pieces.stat, pieces.df, mg, blocks, theta,
                          infmod.deltas(mg, theta), a_inv, infmod.first_order(mg, blocks, theta))


def alias_test(name: str, pieces, blocks):
    """The ``name`` test of ``pieces`` (model or baseline) on E_h1 and the observed h1 weight, Gamma of the
    clustered blocks (module notes)."""
    import numpy as np

    from survey.sem.inference import information as infmod
    from survey.sem.inference.adjusted import requested_test
    from survey.sem.inference.observed_sem import h1_structured_information, observed_h1_weight
    from survey.sem.inference.vcov import symmetric_inverse

    if not np.isfinite(pieces.stat) or pieces.df <= 0:
        return None
    a_inv = symmetric_inverse(h1_structured_information(pieces.mg, blocks, pieces.theta))
    return requested_test(name, pieces.stat, pieces.df, pieces.mg, blocks, pieces.theta,
                          infmod.deltas(pieces.mg, pieces.theta), a_inv, weight=observed_h1_weight)
