"""lavaan's ``mimic = "Mplus"`` with the continuous least-squares estimators GLS, ULS, DWLS and WLS.

lavaan 0.6.14 (lav_options_set, lav_samplestats_from_data, lav_samplestats_Gamma) under mimic="Mplus":
- ``meanstructure`` defaults to TRUE; ``missing`` stays "listwise" (FIML is the default for ML / MLR only);
- with groups and no ``group.equal``: loadings + intercepts (loadings only without a mean structure);
- GLS with a mean structure: the covariance block of the weight matrix WLS.V (the normal-theory
  inverse, S^-1 (x) S^-1 / 2 in vech form) times N_g / (N_g - 1);
- WLS / DWLS (and their robust pieces, NACOV): the ADF Gamma with ``Mplus.WLS``: its covariance block minus
  w w' - w_b w_b', w = vech(S) with divisor N_g - 1 and w_b = (N_g - 1) / N_g w;
- the SRMR is Mplus' (means included) as under ML (survey.sem.mimic).
Both weights are set per block (survey.sem.estimate.wls reads ``block.mplus``), so the estimates, the
standard errors, the tests and everything computed later from the blocks use them.
Checked in tests/fixtures/wishart_options (mplus_gls, mplus_uls, mplus_dwls, mplus_wls, mplus_dwls_groups,
mplus_gls_browne).
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
    if se not in ("default", "standard", "none") or any(
            str(t).lower() not in ("default", "standard", *BROWNE) for t in tests):
        raise SurveyInputError(f"mimic='Mplus' with estimator {estimator} and robust se / tests is not "
                               "available yet (available: se='standard', test='standard' or "
                               "'browne.residual.nt' / 'browne.residual.adf')", field="mimic", value="Mplus")
    equal = [group_equal] if isinstance(group_equal, str) and group_equal else list(group_equal or ())
    if group is not None and not equal:
        equal = ["loadings", "intercepts"] if meanstructure else ["loadings"]
    token = MPLUS.set(True)
    try:
        res = fit(model, data, estimator=estimator, missing=missing, group=group, group_equal=equal,
                  meanstructure=meanstructure, **options)
    finally:
        MPLUS.reset(token)
    res.mimic = "Mplus"
    return res
