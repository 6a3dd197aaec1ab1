"""test = "browne.residual.adf.model" with fixed.x covariates (lavaan's model-based fixed.x Gamma,
survey.sem.inference.browne_model.gamma_adf_model_fixed_x), beside MLMV / MLMVS's own test, and beside a
stored sample NACOV (MLM, se = "robust.sem": lavaan takes the sample Gamma, 82.408 where the model-based
one gives 64.696), against lavaan 0.6.14 (tests/fixtures/browne_adf_fixedx/make_browne_adf_fixedx.R ->
browne_adf_fixedx.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "browne_adf_fixedx"
REF = json.loads((HERE / "browne_adf_fixedx.json").read_text())
DATA = pd.read_csv(HERE / "hs.csv")
TEST = "browne.residual.adf.model"


@pytest.fixture(scope="module", params=sorted(REF["cases"]))
def case(request):
    c = REF["cases"][request.param]
    kw = {"estimator": c["estimator"], "test": TEST, "meanstructure": c["meanstructure"], "fixed_x": True}
    if c["se"] != "default":
        kw["se"] = c["se"]
    if c["group"]:
        kw.update(group=c["group"], group_equal=[c["equal"]] if c["equal"] else [])
    return c, cfa(REF["models"][c["model"]], DATA, **kw)


def test_adf_model_equals_lavaan(case):
    ref, res = case
    got = res.tests()[TEST]
    assert got["stat"] == pytest.approx(ref["stat"], abs=1e-3, rel=1e-6)
    assert got["df"] == ref["df"]
    assert got["pvalue"] == pytest.approx(ref["pvalue"], abs=1e-4)
    expected = ref["stat_group"] if isinstance(ref["stat_group"], list) else [ref["stat_group"]]
    assert list(got["stat.group"]) == pytest.approx(expected, abs=1e-3, rel=1e-6)
    assert res.fit_measures()["chisq"] == pytest.approx(ref["chisq"], abs=1e-3, rel=1e-6)


@pytest.mark.parametrize("estimator, group, test", [
    ("ML", None, TEST), ("GLS", None, TEST), ("ML", "school", TEST), ("ML", None, "browne.residual.adf"),
    ("GLS", None, "browne.residual.nt"), ("ULS", None, "browne.residual.adf"),
    ("ULS", None, "browne.residual.nt.model")])
def test_fixed_x_with_means_and_no_equalities_refused(estimator, group, test):
    """lavaan inverts a singular Delta_c' Gamma Delta_c there (rounding noise: for ML's browne.residual.adf
    28.078 with the means, 28.978 without; main gave the latter): one-line refusal."""
    with pytest.raises(SurveyInputError, match="singular matrix") as err:
        cfa(REF["models"]["mimic"], DATA, estimator=estimator, test=test, meanstructure=True, fixed_x=True,
            group=group).tests()
    assert "\n" not in str(err.value)
