"""lavTestLRT of equal paths in a multi-group model written with per-group modifiers c(a1, a2)*x
(survey.sem.compare_lrt.equal_paths_model: the paths equal within each group) against lavaan 0.6.14
(tests/fixtures/lang3/lrt_groups.json, make_lrt_groups.R): the rewritten model is lavaan's `equal` model,
and chisq / df of both fits and the (Satorra-Bentler 2001 under MLM) difference within 1e-3."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.compare_lrt import equal_paths_model, lr_equal_paths

HERE = Path(__file__).parent / "fixtures" / "lang3"
REF = json.loads((HERE / "lrt_groups.json").read_text())
HS = pd.read_csv(HERE / "../engine/hs39.csv")


def test_rewrite_is_lavaans_equal_model():
    out = equal_paths_model(REF["models"]["free"], "speed", label="eq")
    assert out.strip().splitlines() == REF["models"]["equal"].strip().splitlines()


@pytest.mark.parametrize("estimator", ["ML", "MLM"])
def test_lrt_with_vectors_equals_lavaan(estimator):
    ref = REF["cases"][estimator]
    res = lr_equal_paths(fit, REF["models"]["free"], HS, "speed", group="school", estimator=estimator)
    assert res.method == ("satorra.bentler.2001" if estimator == "MLM" else "standard")
    for ours, theirs in ((res.chisq_free, "chisq_free"), (res.chisq_equal, "chisq_equal"),
                         (res.chisq_diff, "chisq_diff"), (res.pvalue, "pvalue")):
        assert ours == pytest.approx(ref[theirs], abs=1e-3), theirs
    assert (res.df_free, res.df_equal, res.df_diff) == (ref["df_free"], ref["df_equal"], ref["df_diff"]) \
        == (48, 50, 2)


def test_vector_refusals():
    with pytest.raises(SurveyInputError, match="fixed to a value in a group"):
        equal_paths_model("Y ~ c(0.5, NA)*x1 + x2", "Y")
    with pytest.raises(SurveyInputError, match="different lengths"):
        equal_paths_model("Y ~ c(a, b)*x1 + c(c, d, e)*x2", "Y")
