"""NA inside a label vector, as lavaan 0.6.14 reads it (tests/fixtures/label_na/make_label_na.R).

lavaan drops the NA entries of ``c(...)`` labels: ``c(b1, NA)*x2`` is the single label ``b1``, one loading
equal in both groups (df 1), not ``b1`` in group 1 and a free loading in group 2 (df 0, what the parser
gave before); ``c(NA, NA)`` is no label; a vector left with neither one nor one-per-group labels is
lavaan's "wrong number of arguments" error.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "label_na" / "label_na.json").read_text())
DATA = pd.read_csv(HERE / "heldout" / "hs.csv")


@pytest.mark.parametrize("vector", sorted(REF))
def test_label_vector_with_na_equals_lavaan(vector: str) -> None:
    ref = REF[vector]
    fit = survey.fit(f"visual =~ x1 + {vector}*x2 + x3", DATA, group="school")
    fm = fit.fit_measures()
    assert fm["df"] == ref["df"] and fm["npar"] == ref["npar"]
    assert fm["chisq"] == pytest.approx(ref["chisq"], abs=1e-5)
    est = fit.estimates()
    rows = est[(est["op"] == "=~") & (est["rhs"] == "x2")]
    np.testing.assert_allclose(rows["est"], ref["loadings"], atol=1e-4)
    np.testing.assert_allclose(rows["se"], ref["se"], atol=1e-4)


def test_label_vector_of_the_wrong_length_after_dropping_na_is_an_error() -> None:
    data = DATA.assign(g3=np.random.default_rng(1).integers(1, 4, len(DATA)))
    with pytest.raises(SurveyInputError, match="wrong number of values in the label modifier"):
        survey.fit("visual =~ x1 + c(b1, NA, b3)*x2 + x3", data, group="g3")


def test_single_label_across_groups_warns_as_lavaan() -> None:
    """lavaan 0.6.14 warns that a single label in a multi-group model is an equality across the groups
    (printed by make_label_na.R's fits, suppressed there); a vector of labels, or one group, does not."""
    warned = {m: [w.code for w in survey.fit(m, DATA, group="school").warnings]
              for m in ("visual =~ x1 + a*x2 + x3", "visual =~ x1 + c(b1, NA)*x2 + x3",
                        "visual =~ x1 + c(a1, a2)*x2 + x3", "visual =~ x1 + x2 + x3")}
    assert [m for m, codes in warned.items() if "single_label_groups" in codes] == [
        "visual =~ x1 + a*x2 + x3", "visual =~ x1 + c(b1, NA)*x2 + x3"]
    one_group = survey.fit("visual =~ x1 + a*x2 + x3", DATA)
    assert "single_label_groups" not in [w.code for w in one_group.warnings]
