"""A second held-out set of lavaan models (tests/fixtures/heldout2/make_heldout2.R, lavaan 0.6.14), none of
them in tests/fixtures/heldout/: PoliticalDemocracy with labels, correlated residuals, equality over time,
``:=`` ratios and constraints, FIML on holes in indicators; MIMIC with a direct (DIF) effect; parallel and
serial mediation; second-order MIMIC; multi-group with group.equal / group.partial under MLR / MLM / FIML;
ordered items (WLSMV, ULSMV, theta, mixed, multi-group); efa() blocks; missing = "ml.x"; sampling weights;
growth models with time-varying covariates, equal TVC effects, free time scores, fixed slope variance;
two-level (``level:``) and single-level ``cluster=`` fits. Each model is fitted through survey.cfa / sem /
growth with the options lavaan got and must equal lavaan: est, se, std.all within 1e-3 (relative beyond 1),
the fit measures within 1e-3 (logl, AIC, BIC 1e-5; every other fitMeasures() entry we report as well)."""

from __future__ import annotations

from pathlib import Path

import pytest
from heldout_harness import HeldoutSet

HERE = Path(__file__).parent / "fixtures" / "heldout2"
XFAIL: dict[str, str] = {}  # open deviations from lavaan, each with its cause (none left)
SAME_BASELINE: dict[str, str] = {}  # no unit-dependent baseline cases in this set (see tests/test_heldout.py)
# secondary measures left open, per case (the main measures of these fits equal lavaan):
KNOWN = {
    # two-level MLR: lavaan's baseline (independence) fit stops ~1e-6 short of its optimum (baseline.chisq
    # 537.895091 vs ours 537.895089 at the same unrestricted logl to 1e-11), so its baseline scaling factor
    # differs in the 6th digit (1.146630 vs 1.146626) and baseline.chisq.scaled by 2e-3 (469.1094 vs 469.1112,
    # 4e-6 relative); cfi/tli.scaled, built on it, are equal
    "tl_path_mlr": {"baseline.chisq.scaled"},
    # (hs_fiml_mlr_fx's robust RMSEA CI / p-values: equal since the FIML correction's Wc zeroes the ov.x
    # rows as lavaan's fit.tilde does, survey.sem.measures.fiml)
}

SET = HeldoutSet(HERE, "heldout2.json", SAME_BASELINE, KNOWN)
REF = SET.ref


@pytest.mark.parametrize("name", SET.params(XFAIL))
def test_heldout_model_equals_lavaan(name):
    SET.check_model(name)


CLI_CASES = ["pd_time_eq", "hs_mg_partial_load", "gr_tvc_eq", "pd_miss_fiml_mlr", "hs_ord_mimic", "hs_mlx",
             "hs_parallel_med", "hs_weights", "cl_cfa"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_heldout_cli_json(name, tmp_path, capsys):
    """``survey fit model.lav data.csv --json`` exits 0 with lavaan's chi-square and estimates."""
    SET.check_cli(name, tmp_path, capsys)
