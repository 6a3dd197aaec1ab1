"""Browne's model-based residual tests with missing = "ml" (FIML): lavaan's missing="ml" sample statistics
(available-case means, pairwise covariances times (N - 1) / N) against the FIML estimates, the ADF Gamma
summed over the available cases (survey.sem.inference.adjusted.fiml_moments), against lavaan 0.6.14
(tests/fixtures/browne_fiml/make_browne_fiml.R -> browne_fiml.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "browne_fiml"
REF = json.loads((HERE / "browne_fiml.json").read_text())
DATA = pd.read_csv(HERE / "hs_miss.csv")


@pytest.fixture(scope="module", params=sorted(REF["cases"]))
def case(request):
    c = REF["cases"][request.param]
    kw = {"estimator": c["estimator"], "test": c["test"], "missing": "ml"}
    if c["group"]:
        kw.update(group=c["group"], group_equal=[c["equal"]] if c["equal"] else [])
    return c, cfa(REF["model"], DATA, **kw)


def test_fiml_browne_model_based_equals_lavaan(case):
    ref, res = case
    got = res.tests()[ref["test"]]
    assert got["stat"] == pytest.approx(ref["stat"], abs=1e-3, rel=1e-6)
    assert got["df"] == ref["df"]
    assert got["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-4)
    expected = ref["stat_group"] if isinstance(ref["stat_group"], list) else [ref["stat_group"]]
    assert list(got["stat.group"]) == pytest.approx(expected, abs=1e-3, rel=1e-6)
    assert res.fit_measures()["chisq"] == pytest.approx(ref["chisq"], abs=1e-3, rel=1e-6)


@pytest.mark.parametrize("test", sorted(REF["refused"]))
def test_fiml_sample_based_browne_refused_with_lavaans_reason(test):
    reason = REF["refused"][test].replace("lavaan ERROR: ", "")
    with pytest.raises(SurveyInputError, match=reason):
        cfa(REF["model"], DATA, test=test, missing="ml")


def test_fiml_browne_with_covariates_refused_in_one_line():
    model = "vis =~ x1 + x2 + x3\n vis ~ ageyr"
    with pytest.raises(SurveyInputError, match="not available yet") as err:
        cfa(model, DATA, test="browne.residual.nt.model", missing="ml").tests()
    assert "\n" not in str(err.value)


def test_summary_names_the_model_based_test_as_lavaan(case):
    """lavaan 0.6.14's summary titles: "Browne's residual (ADF model-based) test" / "(NT model-based)"."""
    ref, res = case
    kind = "ADF" if ".adf" in ref["test"] else "NT"
    assert f"Browne's residual ({kind} model-based) test" in str(res.summary())
