"""The language features through the engine (merge of issue 15 into issue 14): the full fitMeasures() set
from SEMResult.fit_measures() for any estimator and groups, and refusals where the engine does not
impose a feature yet (never silently ignored)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.results.measures import fit_measures as core_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "reference.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")
CFA = REF["models"]["hs"]


@pytest.mark.parametrize("options", [{}, {"estimator": "MLR"}, {"group": "school"}])
def test_fit_measures_are_the_full_set_and_keep_the_core_values(options):
    res = survey.fit(CFA, HS, **options)
    full, core = res.fit_measures(), core_measures(res)
    assert {"gfi", "agfi", "cn_05", "rmr", "crmr", "mfi", "ecvi"} <= set(full) and set(core) < set(full)
    for key, value in core.items():
        assert full[key] == pytest.approx(value, abs=1e-12, nan_ok=True), key


def test_full_set_equals_lavaan_on_the_reference_cfa():
    want = REF["cases"]["info_expected"]["fit_measures"]
    got = survey.cfa(CFA, HS).fit_measures()
    keys = ("gfi", "agfi", "pgfi", "rmr", "crmr", "cn_05", "cn_01", "mfi", "ecvi", "rmsea.notclose.pvalue")
    for key in keys:
        assert got[key] == pytest.approx(want[key], abs=1e-3), key


@pytest.mark.parametrize("options", [{"group": "school"}, {"missing": "fiml"}, {"estimator": "MLM"}])
def test_explicit_constraints_outside_single_group_ml_are_refused(options):
    with pytest.raises(SurveyInputError, match="cannot be imposed") as info:
        survey.fit("visual =~ x1 + a*x2 + x3\na > 0.9", HS, **options)
    assert info.value.field == "model"


def test_per_group_vectors_are_refused_with_groups():
    with pytest.raises(SurveyInputError, match="per-group vectors") as info:
        survey.fit("visual =~ x1 + c(a1, a2)*x2 + x3", HS, group="school")
    assert info.value.field == "model"


def test_observed_information_reaches_the_engine():
    want = REF["cases"]["info_observed"]["estimates"]
    res = survey.cfa(CFA, HS, information="observed")
    ours = res.estimates().merge(pd.DataFrame(want), on=["lhs", "op", "rhs"], suffixes=("", "_ref"))
    assert len(ours) == len(want) and (ours["se"] - ours["se_ref"]).abs().max() < 1e-3
