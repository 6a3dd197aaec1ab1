"""An ordered item with a category that is empty in one group: lavaan 0.6.14 stops
(tests/fixtures/ordinal_empty/make_ordinal_empty.R -> lavaan_error.json); so do we, in one line naming the
item and the group, instead of fitting that group with one threshold fewer (as before: silently)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "ordinal_empty"
DATA = pd.read_csv(HERE / "empty.csv")
LAVAAN = json.loads((HERE / "lavaan_error.json").read_text())
ORDERED = ["o1", "o2", "o3"]
CASES = {"configural": ("f =~ o1 + o2 + o3", {}),
         "thresholds": ("f =~ o1 + o2 + o3", {"group_equal": ["thresholds"]}),
         "mixed": ("f =~ o1 + o2 + o3 + x4", {})}


@pytest.mark.parametrize("name", sorted(CASES))
def test_empty_category_in_a_group_refused_as_lavaan(name):
    model, kw = CASES[name]
    assert "some categories of variable `o1' are empty in group 1" in LAVAAN[name]
    with pytest.raises(SurveyInputError) as err:
        cfa(model, DATA, group="school", ordered=ORDERED, **kw)
    text = str(err.value)
    assert "'o1' are empty in group Pasteur (group 1)" in text and "[0 86 70]" in text
    assert "\n" not in text


def test_one_group_without_the_category_is_fitted():
    assert LAVAAN["one_group"] == ""
    one = DATA[DATA["school"] == "Grant-White"]
    res = cfa("f =~ o1 + o2 + o3", one, ordered=ORDERED)
    assert (res.estimates()["op"] == "|").sum() == 6
