"""A held-out set of lavaan models (tests/fixtures/heldout/make_heldout.R, lavaan 0.6.14): CFA, SEM with
equality labels and correlated residuals, mediation with ``:=``, growth models with time-varying covariates,
multi-group invariance with group.equal / group.partial / ``c()`` vectors, MIMIC, formative ``<~``,
second-order factors, single indicators, fixed values, intercepts, ``==`` / ``>`` constraints, std.lv,
orthogonal, FIML, MLR, MLM, ordered items and observed path models on very different scales. Each model is
fitted through survey.cfa / sem / growth with the options lavaan got and must equal lavaan: est, se, std.all
within 1e-3, the fit measures within 1e-3 (logl, AIC, BIC 1e-5; every other fitMeasures() entry that we report
as well). summary() runs on every fit; ``survey fit ... --json`` on a few."""

from __future__ import annotations

from pathlib import Path

import pytest
from heldout_harness import HeldoutSet

HERE = Path(__file__).parent / "fixtures" / "heldout"
XFAIL = {  # lavaan fits these; we do not yet (each raises a one-line SurveyInputError naming the option)
}
# lavaan 0.6.14 depends on the units in two places where we do not (lavaan's own fits in other units agree
# with ours). (1) Its independence (baseline) model takes the fixed.x covariates' variances from
# lav_matrix_symmetric_force_pd(sample.cov) (the starting values of lav_partable_unrestricted), which a
# covariance matrix holding variances 1.2e6 and 0.25 changes (sex 0.25 -> 1.195): hs_scales' baseline is
# compared with the same model with x7 in its own units (hs_scales_unit). (2) With std.ov = TRUE and fixed.x
# covariates, lavaan scales only its eXo copy of the covariates, and that copy enters the x part of the
# likelihood and the baseline's covariances (correlations beside unscaled variances) while the model uses
# the unscaled covariates: the logl/AIC/BIC and baseline measures of those fits are compared with lavaan's
# fit of the by-hand standardized data (scale() on the same rows: hs_mimic_z, hs_fiml_mimic_z).
SAME_BASELINE = {"hs_scales": "hs_scales_unit", "hs_std_ov_mimic": "hs_mimic_z",
                 "hs_std_ov_fiml": "hs_fiml_mimic_z"}
# engine-side deviations in a secondary measure, left open (the main measures of these fits equal lavaan):
# (none: hs_fiml_fixedx_false's robust RMSEA family equals lavaan since survey.sem.measures.fiml's Wc has
# the ov.x rows of lavaan's fit.tilde zeroed)
KNOWN: dict[str, set[str]] = {}

SET = HeldoutSet(HERE, "heldout.json", SAME_BASELINE, KNOWN)
REF = SET.ref


@pytest.mark.parametrize("name", SET.params(XFAIL))
def test_heldout_model_equals_lavaan(name):
    SET.check_model(name)


CLI_CASES = ["pd_mediation", "hs_mg_partial", "gr_tvc", "hs_fiml_mlr", "hs_std_ov_mg", "fb_path",
             "hs_orth_stdlv", "hs_ordered", "hs_se_rhw", "interaction_mimic",
             "hs_wishart_mg", "hs_mplus_mg"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_heldout_cli_json(name, tmp_path, capsys):
    """``survey fit model.lav data.csv --json`` exits 0 with lavaan's chi-square and estimates."""
    SET.check_cli(name, tmp_path, capsys)
