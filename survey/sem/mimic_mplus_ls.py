"""lavaan's ``mimic = "Mplus"`` with the continuous least-squares estimators GLS, ULS, DWLS and WLS.

lavaan 0.6.14 (lav_options_set, lav_samplestats_from_data, lav_samplestats_Gamma) under mimic="Mplus":
- ``meanstructure`` defaults to TRUE; ``missing`` stays "listwise" (FIML is the default for ML / MLR only);
- with groups and no ``group.equal``: loadings + intercepts (loadings only without a mean structure);
- GLS with a mean structure: the mean block (the first p rows and columns) of the weight matrix WLS.V
  times N_g / (N_g - 1); lavaan reads WLS.V for the information only (its GLS objective uses S^-1), so
  the standard errors change and the estimates and the statistic do not;
- WLS / DWLS (and their robust pieces, NACOV): the ADF Gamma with ``Mplus.WLS``: its covariance block minus
  w w' - w_b w_b', w = vech(S) with divisor N_g - 1 and w_b = (N_g - 1) / N_g w;
- robust.sem (ULS / DWLS / WLS and WLSM / WLSMV / ULSM / ULSMV on continuous data): each group's meat
  weighted f_g^2 / f1_g, f1_g = (N_g - 1) / N, i.e. times N_g / (N_g - 1) (lav_model_nvcov_robust_sem);
  the scaled tests of continuous data are lavaan's usual ones (lav_test_satorra_bentler changes Gamma for
  ordered items only: :func:`fit_mplus_ordinal`); GLS with robust options is refused (not checked).
The blocks carry the flag (``block.mplus``, read by survey.sem.estimate.wls), so the estimates, the
standard errors, the tests and what is computed later from the blocks use the Mplus weights.
Checked in tests/fixtures/wishart_options (mplus_gls, mplus_uls, mplus_dwls, mplus_wls, mplus_dwls_groups,
mplus_gls_browne, mplus_wlsmv_cont, mplus_ulsm_cont_groups, mplus_dwls_robust_sem, mplus_wlsmv_ord,
mplus_ulsmv_ord, mplus_wlsmv_ord_groups).
"""

from __future__ import annotations

from survey.errors import SurveyInputError

BROWNE = ("browne.residual.nt", "browne.residual.adf")


def fit_mplus_ls(fit, model: str, data, *, estimator: str, missing: str, group, group_equal, ordered,
                 meanstructure: bool, **options):
    """``fit(model, data, mimic="Mplus", estimator=GLS|ULS|DWLS|WLS, ...)`` (module notes)."""
    from survey.sem.data.blocks import MPLUS

    if ordered:
        raise SurveyInputError(f"mimic='Mplus' with estimator {estimator} and ordered items is not available "
                               "yet (available: continuous items)", field="mimic", value="Mplus")
    se, test = str(options.get("se", "default")).lower(), options.get("test", "default")
    tests = [test] if isinstance(test, str) else list(test)
    robust = estimator in ("WLSM", "WLSMV", "ULSM", "ULSMV") or se.startswith("robust") or any(
        str(t).lower() not in ("default", "standard", *BROWNE) for t in tests)
    if robust and (estimator == "GLS" or se not in ("default", "robust.sem", "robust") or any(
            str(t).lower() not in ("default", "satorra.bentler", "scaled.shifted", "mean.var.adjusted")
            for t in tests)):
        raise SurveyInputError(f"mimic='Mplus' with estimator {estimator} and these se / tests is not "
                               "available yet (available: se='standard' with test='standard' or Browne's "
                               "tests; ULS / DWLS / WLS with se='robust.sem' and the Satorra-Bentler, "
                               "scaled-shifted or mean-and-variance adjusted test)", field="mimic",
                               value="Mplus")
    if estimator == "WLS" and group is not None:  # tests/fixtures/wishart_options: mplus_wls_groups
        raise SurveyInputError("mimic='Mplus' with estimator WLS and groups is not available yet (lavaan's "
                               "estimates differ from ours by 1e-2 there; available: one group, or "
                               "estimators GLS, ULS, DWLS)", field="mimic", value="Mplus")
    default = ["loadings", "intercepts"] if meanstructure else ["loadings"]
    return _fit_flagged(MPLUS, fit, model, data, group, group_equal, default, estimator=estimator,
                        missing=missing, meanstructure=meanstructure, **options)


def fit_mplus_ordinal(fit, model: str, data, *, estimator: str, missing: str, group, group_equal, ordered,
                      meanstructure: bool, **options):
    """mimic="Mplus" with WLSMV / ULSMV and ordered items (lavaan 0.6.14): with groups and no group.equal,
    loadings + thresholds; robust.sem's meat weighted f_g^2 / f1_g (f1_g = (N_g - 1) / N, i.e. Gamma times
    N_g / (N_g - 1)) and the scaled tests' Gamma times (N_g - 1) / N_g (lav_model_nvcov_robust_sem,
    lav_test_satorra_bentler; survey.sem.ordinal.test.MPLUS)."""
    from survey.sem.ordinal.test import MPLUS as ORDINAL_MPLUS

    se, test = str(options.get("se", "default")).lower(), str(options.get("test", "default")).lower()
    if se not in ("default", "robust.sem") or test not in ("default", "scaled.shifted"):
        raise SurveyInputError(f"mimic='Mplus' with estimator {estimator} and ordered items takes its own se "
                               "and test only yet (available: se='robust.sem', test='scaled.shifted')",
                               field="mimic", value="Mplus")
    return _fit_flagged(ORDINAL_MPLUS, fit, model, data, group, group_equal, ["loadings", "thresholds"],
                        estimator=estimator, missing=missing, ordered=ordered, **options)


def _fit_flagged(flag, fit, model: str, data, group, group_equal, default_equal: list[str], **options):
    """``fit`` with the Mplus context flag set, and lavaan's mimic="Mplus" group.equal default
    (``default_equal``) where groups are given without one."""
    equal = [group_equal] if isinstance(group_equal, str) and group_equal else list(group_equal or ())
    if group is not None and not equal:
        equal = default_equal
    token = flag.set(True)
    try:
        res = fit(model, data, group=group, group_equal=equal, **options)
    finally:
        flag.reset(token)
    res.mimic = "Mplus"
    return res
