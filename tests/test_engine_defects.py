"""Defects of issue 14, point 4, each on data built like the case described (they fail before the fix):

- standard errors thrown away as "not identified" when the observed variables are on very different scales
  (years of schooling next to a test score in the hundreds and an income): the rank test of the
  information must not depend on the units. lavaan 0.6.14 fails the same way on the raw units, so the
  reference is lavaan on rescaled data, mapped back (ML is scale equivariant);
- tli / nnfi of a saturated model (df = 0) are 1, as lavaan gives;
- multi-group MLR reports rmsea.ci.lower/upper.scaled and .robust, equal to lavaan.
(auto.fix.single, the fourth defect, belongs to the lavaan-language branch.)
Reference: tests/fixtures/sem_engine/make_defects.R (defects.json), data make_scales.py (scales.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "sem_engine"
REF = json.loads((HERE / "defects.json").read_text())
SCALES = pd.read_csv(HERE / "scales.csv")


def _raw_units(row: pd.Series, c: dict[str, float]) -> float:
    if row["op"] == "~":
        return c[row["lhs"]] / c[row["rhs"]]
    return c[row["lhs"]] * c[row["rhs"]]  # (co)variances


def test_standard_errors_do_not_depend_on_units():
    res = fit(REF["path_model"], SCALES)
    assert not any(w.code == "not_identified" for w in res.warnings)
    est = res.estimates()
    ref = pd.DataFrame(REF["cases"]["scales"]["estimates"])
    c = REF["scales_factors"]
    merged = est.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ref)
    factor = merged.apply(lambda r: _raw_units(r, c), axis=1).to_numpy()
    free = merged["se_r"].to_numpy() > 0
    np.testing.assert_allclose(merged["est"], merged["est_r"] * factor, rtol=1e-4)
    np.testing.assert_allclose(merged["se"][free], (merged["se_r"] * factor)[free], rtol=1e-3)
    np.testing.assert_allclose(merged["std.all"], merged["std.all_r"], atol=1e-4)
    # the same numbers whatever the units of the data
    scaled = fit(REF["path_model"], SCALES.assign(score=SCALES["score"] / 100, income=SCALES["income"] / 1e4))
    np.testing.assert_allclose(scaled.fit_measures()["chisq"], res.fit_measures()["chisq"], rtol=1e-6)


@pytest.mark.parametrize("case,estimator", [("saturated", "ML"), ("saturated_mlr", "MLR")])
def test_tli_of_a_saturated_model_is_one(case, estimator):
    fm = fit(REF["saturated_model"], SCALES, estimator=estimator).fit_measures()
    ref = REF["cases"][case]["fit_measures"]
    assert fm["df"] == ref["df"] == 0
    assert fm["tli"] == ref["tli"] == 1.0 and fm["nnfi"] == ref["nnfi"] == 1.0
    for key in ("cfi", "rmsea", "srmr", "logl", "aic"):
        assert fm[key] == pytest.approx(ref[key], abs=1e-3 if key in ("cfi", "rmsea", "srmr") else 1e-5)


def test_multigroup_mlr_reports_scaled_and_robust_rmsea_intervals():
    data = pd.read_csv(HERE / "hs_full.csv")
    fm = fit(REF["hs_model"], data, group="school", estimator="MLR").fit_measures()
    ref = REF["cases"]["mg_mlr"]["fit_measures"]
    keys = [f"rmsea.{b}.{k}" for k in ("scaled", "robust") for b in ("ci.lower", "ci.upper")]
    keys += ["rmsea.scaled", "rmsea.robust", "rmsea.pvalue.scaled", "rmsea.pvalue.robust"]
    assert ref["rmsea.ci.lower.scaled"] > 0 and ref["rmsea.ci.lower.robust"] > 0
    for key in keys:
        assert fm[key] == pytest.approx(ref[key], abs=1e-3), key
