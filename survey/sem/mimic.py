"""lavaan's ``mimic = "Mplus"`` for the continuous ML estimators (ML, MLR); ``mimic = "EQS"`` with ML /
MLM / MLMV / MLR (the Wishart likelihood and the baseline without the covariates' covariances, as lavaan
0.6.14) and with the least-squares estimators (the plain fit: the likelihood is an ML option).

lavaan 0.6.14 (lav_options.R, lav_fit_srmr.R) with ``mimic = "Mplus"`` changes, for continuous data and
estimator ML or MLR:
- ``meanstructure`` defaults to TRUE;
- ``missing`` defaults to "ml" (FIML; with complete data the same estimates as listwise, but lavaan's
  default information becomes "observed", as for every FIML fit);
- with groups and no ``group.equal``, ``group.equal`` defaults to loadings + intercepts (loadings only
  under ``meanstructure = FALSE``);
- ``srmr`` is Mplus' SRMR (``srmr_mplus``, means included) unless the information is "expected".
Its other changes concern the MLM sandwich and Gamma (lav_model_vcov.R, lav_test_satorra_bentler.R) and
start values (which do not move the ML optimum); MLM's and MLMV's are :mod:`survey.sem.inference.mplus_mlm`
(missing stays listwise there, as lavaan); the least-squares estimators (GLS, ULS, DWLS, WLS) and WLSMV /
ULSMV with ordered items are :mod:`survey.sem.mimic_mplus_ls`. ``survey.fit``'s ``missing="listwise"`` is
its default, so under ``mimic="Mplus"`` it is read as lavaan's "default" (FIML); complete data give the
same estimates.
"""

from __future__ import annotations

from survey.errors import SurveyInputError


def fit_mimic(fit, mimic: str, model: str, data, *, estimator: str | None = None, missing: str = "listwise",
              group: str | None = None, group_equal=(), ordered=None, **options):
    """``fit(model, data, mimic=..., ...)`` (``fit`` is :func:`survey.sem.api.fit`)."""
    name = str(mimic).lower()
    if name in ("lavaan", "default"):
        return fit(model, data, estimator=estimator, missing=missing, group=group, group_equal=group_equal,
                   ordered=ordered, **options)
    if name == "eqs":  # lavaan 0.6.14 (lav_options): likelihood "wishart" under estimator ML
        return _fit_eqs(fit, model, data, estimator=estimator, missing=missing, group=group,
                        group_equal=group_equal, ordered=ordered, **options)
    if name != "mplus":
        raise SurveyInputError(f"mimic={mimic!r} is not available yet (available: lavaan, Mplus, EQS)",
                               field="mimic", value=str(mimic))
    est = str(estimator or "ML").upper()
    meanstructure = options.pop("meanstructure", None)
    meanstructure = True if meanstructure is None else bool(meanstructure)
    if est in MPLUS_LEAST_SQUARES and not ordered:  # survey.sem.mimic_mplus_ls
        from survey.sem.mimic_mplus_ls import fit_mplus_ls

        return fit_mplus_ls(fit, model, data, estimator=est, missing=missing, group=group,
                            group_equal=group_equal, ordered=ordered, meanstructure=meanstructure, **options)
    if ordered and est in MPLUS_ORDINAL:  # survey.sem.mimic_mplus_ls
        from survey.sem.mimic_mplus_ls import fit_mplus_ordinal

        return fit_mplus_ordinal(fit, model, data, estimator=est, missing=missing, group=group,
                                 group_equal=group_equal, ordered=ordered, meanstructure=meanstructure,
                                 **options)
    if est not in ("ML", "MLR", "MLM", "MLMV") or ordered:
        raise SurveyInputError(f"mimic='Mplus' with estimator {est}{' and ordered items' if ordered else ''} "
                               "is not available yet (available: estimator ML, MLR, MLM, MLMV, GLS, ULS, "
                               "DWLS, WLS, continuous data)", field="mimic", value=str(mimic))
    if est in ("MLM", "MLMV"):  # lavaan keeps listwise; robust.sem and the tests at S (inference.mplus_mlm)
        _check_mplus_mlm(options, "scaled.shifted" if est == "MLMV" else "satorra.bentler")
    elif str(missing).lower() in ("listwise", "default"):
        missing = "fiml"
    equal = [group_equal] if isinstance(group_equal, str) and group_equal else list(group_equal or ())
    if group is not None and not equal:
        equal = ["loadings", "intercepts"] if meanstructure else ["loadings"]
    res = fit(model, data, estimator=est, missing=missing, group=group, group_equal=equal, ordered=ordered,
              meanstructure=meanstructure, **options)
    if est in ("MLM", "MLMV"):
        from survey.sem.inference.mplus_mlm import apply_mplus_mlm

        apply_mplus_mlm(res)
    information = (getattr(res, "se_options", None) or ("", "observed"))[1]
    fm = dict(res.fit_measures())
    if information != "expected" and "srmr_mplus" in fm:
        for key in ("_fit", "_fit_all"):
            res.__dict__[key] = {**getattr(res, key), "srmr": fm["srmr_mplus"]}
    res.mimic = "Mplus"
    return res


def _check_mplus_mlm(options: dict, own: str = "satorra.bentler") -> None:
    """mimic="Mplus" with MLM / MLMV: its own se and test (``own``) on complete unweighted data only
    (R-checked there)."""
    se = str(options.get("se", "default")).lower()
    test = str(options.get("test", "default")).lower()
    other = [k for k in ("sampling_weights", "cluster", "bootstrap", "information", "likelihood")
             if options.get(k) not in (None, "default", "expected")]
    if se not in ("default", "robust.sem") or test not in ("default", own) or other:
        raise SurveyInputError("mimic='Mplus' with estimator MLM / MLMV takes its own se and test on "
                               "complete, unweighted data only yet (available: se='robust.sem', "
                               f"test='{own}')",
                               field="mimic", value="Mplus")


def _fit_eqs(fit, model: str, data, *, estimator: str, ordered=None, **options):
    """mimic="EQS": lavaan 0.6.14 sets likelihood="wishart" for estimators ML, MLM, MLR (tests/fixtures/
    lang3: eqs_ml, eqs_mlm = the Wishart fits; survey.sem.wishart_robust; tests/fixtures/eqs), fixed.x
    defaults to FALSE (lav_options: fixed.x is TRUE by default only under mimic "lavaan" / "Mplus";
    tests/fixtures/heldout2: hs_mimic_eqs) and the baseline model leaves out the covariates' covariances
    (lav_partable_indep_or_unrestricted: they are added only under mimic "lavaan" / "Mplus";
    :func:`survey.sem.baseline.independent_x_baseline`). MLR there is ML with robust.huber.white SEs and
    the yuan.bentler test (lav_options: mlr.test "yuan.bentler" under EQS, "yuan.bentler.mplus" otherwise;
    tests/fixtures/eqs: eqs_mlr_*). Other estimators and ordered items refused until checked."""
    from survey.sem.baseline import independent_x_baseline

    est = str(estimator or "ML").upper()
    if est in EQS_LEAST_SQUARES:  # likelihood= is only relevant for ML (lav_options): the plain LS fit
        return _eqs_least_squares(fit, model, data, est, ordered, options)
    if est not in ("ML", "MLM", "MLR", "MLMV") or ordered:
        raise SurveyInputError(f"mimic='EQS' with estimator {est}{' and ordered items' if ordered else ''} "
                               "is not available yet (available: estimator ML, MLM, MLMV, MLR, GLS, ULS, "
                               "DWLS, WLS; WLSMV / ULSMV with ordered items)", field="mimic", value="EQS")
    if est == "MLR":
        est = _eqs_mlr(options)
    if str(options.get("likelihood", "wishart")).lower() not in ("wishart", "default"):
        raise SurveyInputError("mimic='EQS' implies likelihood='wishart' (lavaan 0.6.14)", field="likelihood",
                               value=str(options.get("likelihood")))
    options.pop("likelihood", None)
    if options.get("fixed_x") is None:
        options["fixed_x"] = False
    with independent_x_baseline():
        res = fit(model, data, estimator=est, likelihood="wishart", **options)
    res.mimic = "EQS"
    if str(estimator).upper() == "MLR":
        res.estimator = "MLR"
    return res


def _eqs_mlr(options: dict) -> str:
    """MLR under mimic="EQS" as the ML fit lavaan runs (its se and test set in ``options``)."""
    se = str(options.get("se", "default")).lower()
    test = str(options.get("test", "default")).lower()
    if se not in ("default", "robust.huber.white") or test not in ("default", "yuan.bentler"):
        raise SurveyInputError("mimic='EQS' with estimator MLR takes its own se and test only yet "
                               "(available: se='robust.huber.white', test='yuan.bentler')", field="mimic",
                               value="EQS")
    options.update(se="robust.huber.white", test="yuan.bentler")
    return "ML"


MPLUS_LEAST_SQUARES = ("GLS", "ULS", "DWLS", "WLS", "WLSM", "WLSMV", "ULSM", "ULSMV")
MPLUS_ORDINAL = ("WLSMV", "ULSMV")
EQS_LEAST_SQUARES = ("GLS", "ULS", "DWLS", "WLS", "WLSM", "WLSMV", "ULSM", "ULSMV")


def _eqs_least_squares(fit, model: str, data, est: str, ordered, options: dict):
    """mimic="EQS" with a least-squares estimator (lavaan 0.6.14 lav_options_set): likelihood= is refused
    ("only relevant if estimator = ML"), fixed.x defaults to FALSE and the baseline leaves out the
    covariates' covariances as under ML; nothing else changes (tests/fixtures/wishart_options: eqs_gls,
    eqs_uls, eqs_dwls, eqs_wls, eqs_wlsmv_ord)."""
    from survey.sem.baseline import independent_x_baseline

    if str(options.get("likelihood", "default")).lower() != "default":
        raise SurveyInputError("likelihood=: lavaan 0.6.14 refuses it (\"likelihood argument is only "
                               "relevant if estimator = ML\")", field="likelihood",
                               value=str(options["likelihood"]))
    options.pop("likelihood", None)
    if options.get("fixed_x") is None and not ordered:
        options["fixed_x"] = False
    with independent_x_baseline():
        res = fit(model, data, estimator=est, ordered=ordered, **options)
    res.mimic = "EQS"
    return res
