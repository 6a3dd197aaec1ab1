"""lavaan's ``likelihood = "wishart"`` with the unbiased sample covariance matrices held in the blocks
(survey.sem.data.blocks.UNBIASED): estimator MLM / MLR with several groups, MLMV (one or several groups)
and Browne's residual tests.

lavaan 0.6.14 (``sample.cov.rescale = FALSE``) fits S_u = S N_g / (N_g - 1) but computes the ADF Gamma
and the casewise scores from the raw rows (lav_samplestats_from_data: NACOV from ``X``, divisor N_g).
survey.sem.wishart's single-group MLM / MLR spread the rows and undo the spread on Gamma by (N - 1)^2 /
N^2 afterwards; with a mean structure (groups) the spread moves the mean and the covariance blocks of Gamma
by different powers, so here the blocks keep the raw rows and only their covariance matrix becomes S_u.
Every robust piece (robust.sem, the Satorra-Bentler, scaled-shifted and Yuan-Bentler tests, Browne's ADF
test) then reads lavaan's Gamma; the statistic (N_g - 1) F_g, the vcov over N - G and the N - G measures
are survey.sem.wishart's. Checked in tests/fixtures/wishart_options (w_mlm_groups, w_mlr_groups, w_mlmv,
w_mlmv_groups, w_browne_adf, w_browne_nt, eqs_mlmv).
"""

from __future__ import annotations

from survey.errors import SurveyInputError

BROWNE = ("browne.residual.adf", "browne.residual.nt")


def wants_direct(estimator: str, se: str, group, options: dict) -> bool:
    """The combinations of the module notes (the rest stays with survey.sem.wishart)."""
    est, test = str(estimator).upper(), str(options.get("test", "default")).lower()
    if est == "ML" and test in BROWNE and str(se).lower() in ("default", "standard"):
        return True
    if est == "MLMV" and str(se).lower() in ("default", "robust.sem") and test in ("default",
                                                                                   "scaled.shifted"):
        return True
    return group is not None and est in ("MLM", "MLR") and str(se).lower() == "default" and \
        test == "default"


def check_direct(missing: str, options: dict) -> None:
    """One-line refusals of what the module has not checked against lavaan."""
    if str(missing).lower() not in ("listwise", "default"):
        raise SurveyInputError("likelihood='wishart' with this estimator / test is available on complete "
                               "data only yet (available: missing='listwise')", field="missing",
                               value=str(missing))
    for key in ("bootstrap", "sampling_weights", "cluster", "ordered", "information"):
        if options.get(key) not in (None, False, "default"):
            raise SurveyInputError(f"{key}= is not available with likelihood='wishart' yet", field=key)


def fit_direct(fit, model: str, data, *, estimator: str, missing: str, group, se: str, **options):
    """The fit of the module notes; survey.sem.wishart finishes it (statistic, vcov, measures)."""
    from survey.sem.data.blocks import UNBIASED

    check_direct(missing, options)
    token = UNBIASED.set(True)
    try:
        res = fit(model, data, estimator=estimator, missing="listwise", group=group, se=se, **options)
    finally:
        UNBIASED.reset(token)
    _browne_n_minus_one(res)
    return res


def _browne_n_minus_one(res) -> None:
    """Browne's residual tests with N_g - 1 (lav_test_browne: ``n.minus.one`` TRUE unless the likelihood is
    normal): each group's statistic times (N_g - 1) / N_g, the p-value on the new sum."""
    import numpy as np

    from survey import distributions as sps

    extra = getattr(res.pieces, "extra_tests", None) or {}
    f = np.array([(b.n - 1.0) / b.n for b in res.stats.groups])
    for name, test in list(extra.items()):
        if not name.startswith("browne"):
            continue
        test = dict(test)
        group = np.atleast_1d(np.asarray(test.get("stat.group", test["stat"]), dtype=float))
        if group.size != f.size:
            raise SurveyInputError(f"test={name!r} with likelihood='wishart' is not available here yet",
                                   field="test", value=name)
        group = group * f
        test["stat"] = float(group.sum())
        if "stat.group" in test:
            test["stat.group"] = group.tolist() if f.size > 1 else float(group[0])
        test["pvalue"] = float(sps.chi2.sf(test["stat"], test["df"])) if test["df"] > 0 else float("nan")
        extra[name] = test
