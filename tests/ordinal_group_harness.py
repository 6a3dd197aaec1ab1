"""Shared checks of a two-group ordinal fit against a lavaan 0.6.14 case of
tests/fixtures/ordinal_cov_equal/*.json (written by make_cases.R beside them): every parameterEstimates() row
(est, se, std.all), every test of lavInspect(fit, "test") (stat, df, pvalue, scaling factor, shift) and every
finite fitMeasures() value, within 1e-3 (p-values 1e-6, scaling factors 1e-5 relative), and NA where lavaan's
fitMeasures() is NA."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

FIXTURES = Path(__file__).parent / "fixtures"
DATA = pd.read_csv(FIXTURES / "ordinal_options" / "bfi_weighted.csv")
DATA["g3"] = np.where(DATA["age"] < 22, 1, np.where(DATA["age"] < 32, 2, 3))  # make_cases.R's three groups
CORE_MEASURES = {"chisq", "df", "chisq.scaled", "df.scaled", "chisq.scaling.factor", "cfi.scaled",
                 "tli.scaled", "rmsea.scaled", "srmr", "wrmr"}


def load(name: str) -> dict:
    """The cases of ``tests/fixtures/ordinal_cov_equal/<name>.json``."""
    return json.loads((FIXTURES / "ordinal_cov_equal" / f"{name}.json").read_text())["cases"]


def _as_list(value) -> list:
    return [value] if isinstance(value, str) else list(value or [])


@cache
def _fit(name: str, case: str):
    ref = load(name)[case]
    opts = ref["options"]
    ordered = opts.get("ordered", True)
    return fit(ref["model"], DATA, ordered=_as_list(ordered) if ordered is not True else True,
               group=opts.get("group", "gender"), estimator=opts.get("estimator", "WLSMV"),
               group_equal=ref["group_equal"],
               group_partial=_as_list(opts.get("group.partial")), parameterization=opts["parameterization"],
               std_lv=bool(opts.get("std.lv", False)))


def fitted(name: str, case: str):
    """The fit of one case (once per test session)."""
    return _fit(name, case)


def check_case(name: str, case: str) -> None:
    """Assert the fit of ``case`` equals lavaan's numbers (module docstring)."""
    ref_case = load(name)[case]
    res = fitted(name, case)
    assert res.converged
    assert list(res.nobs) == list(ref_case["nobs"])
    ref = pd.DataFrame(ref_case["estimates"])
    ours = res.estimates()
    merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="left", suffixes=("_r", ""))
    assert len(merged) == len(ref) and merged["est"].notna().all()
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(merged[col].fillna(0.0), merged[f"{col}_r"].fillna(0.0), atol=1e-3,
                                   err_msg=col)
    assert [t.name for t in res.test_list] == [t["test"] for t in ref_case["tests"]]
    for mine, theirs in zip(res.test_list, ref_case["tests"], strict=True):
        assert mine.df == pytest.approx(theirs["df"], abs=1e-6), mine.name
        assert mine.stat == pytest.approx(theirs["stat"], abs=1e-3), mine.name
        if theirs["pvalue"] == "NA":  # lavaan: the ULS statistic has no p-value
            assert np.isnan(mine.pvalue), mine.name
        else:
            assert mine.pvalue == pytest.approx(theirs["pvalue"], abs=1e-6), mine.name
        if "scaling.factor" in theirs:
            assert mine.scaling_factor == pytest.approx(theirs["scaling.factor"], rel=1e-5), mine.name
        if "shift.parameter" in theirs:
            assert mine.shift == pytest.approx(theirs["shift.parameter"], abs=1e-3), mine.name
    fm = res.fit_measures()
    compared = [k for k in ref_case["fit_measures"] if k in fm]
    robust = len(ref_case["tests"]) > 1
    assert (CORE_MEASURES if robust else {"chisq", "df", "srmr"}) <= set(compared)
    for key in compared:
        assert fm[key] == pytest.approx(ref_case["fit_measures"][key], abs=1e-3), key
    # where lavaan 0.6.14 gives NA (robust CFI/RMSEA with equal thresholds, p-values of ULS): so do we
    for key in ref_case["fit_measures_na"]:
        assert key not in fm or not np.isfinite(fm[key]), key
