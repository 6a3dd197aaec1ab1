"""Issue 16 (brief ord4): ordered items with observed covariates (lavaan conditional.x) and two groups,
configural and with group.equal (thresholds, loadings, regressions), with sampling weights, against
lavaan 0.6.14 (tests/fixtures/ordinal_more/groups_cx.json; make_groups_cx.R beside it)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "ordinal_more"
CX = json.loads((HERE / "groups_cx.json").read_text())
DATA = pd.read_csv(Path(__file__).parent / "fixtures" / "ordinal_options" / "bfi_weighted.csv")


@cache
def fitted(case: str):
    ref = CX["cases"][case]
    names = {"sampling.weights": "sampling_weights", "parameterization": "parameterization",
             "sampling.weights.normalization": "sampling_weights_normalization"}
    extra = {names[k]: v for k, v in ref["options"].items()}
    return fit(ref["model"], DATA, ordered=True, group="gender", estimator="WLSMV",
               group_equal=ref["group_equal"], **extra)


@pytest.mark.parametrize("case", sorted(CX["cases"]))
def test_covariates_with_groups_equal_lavaan(case):
    ref_case = CX["cases"][case]
    res = fitted(case)
    ref = pd.DataFrame(ref_case["estimates"])
    ours = res.estimates()
    merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="left", suffixes=("_r", ""))
    assert len(merged) == len(ref) and merged["est"].notna().all()
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], atol=1e-3, err_msg=col)
    assert [t.name for t in res.test_list] == [t["test"] for t in ref_case["tests"]]
    for mine, theirs in zip(res.test_list, ref_case["tests"], strict=True):
        assert mine.df == pytest.approx(theirs["df"], abs=1e-6), mine.name
        assert mine.stat == pytest.approx(theirs["stat"], abs=1e-3), mine.name
        assert mine.pvalue == pytest.approx(theirs["pvalue"], abs=1e-6), mine.name
        if "scaling.factor" in theirs:
            assert mine.scaling_factor == pytest.approx(theirs["scaling.factor"], rel=1e-5), mine.name
    fm = res.fit_measures()
    compared = [k for k in ref_case["fit_measures"] if k in fm]
    assert {"chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr", "wrmr"} <= set(compared)
    for key in compared:
        assert fm[key] == pytest.approx(ref_case["fit_measures"][key], abs=1e-3), key


def test_scaled_residuals_of_covariate_group_fits_are_a_one_line_refusal():
    # raw residuals: tests/test_ordinal_residuals_more.py; lavaan 0.6.14 stops with "not ready yet!"
    with pytest.raises(SurveyInputError, match="not ready yet"):
        fitted("mimic").residuals("standardized")
