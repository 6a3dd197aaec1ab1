"""lavaan's product terms ``y ~ x1:x2`` (survey.sem.data.products): the column is the raw product, an
existing column of that name is kept (as lavaan), ``:=`` definitions are not products; a product of a
variable the data lack is a one-line input error naming it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.data.products import add_products


def _data(n=200, seed=3):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(1, 1, n), rng.normal(-1, 2, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": 0.5 * x1 - 0.3 * x2 + 0.4 * x1 * x2 + rng.normal(0, 1, n)})


def test_product_column_added_and_existing_kept():
    d = _data()
    out = add_products("y ~ a*x1 + x2 + b*x1:x2\nab := a*b", d)
    assert list(out.columns) == ["x1", "x2", "y", "x1:x2"]
    np.testing.assert_array_equal(out["x1:x2"], d["x1"] * d["x2"])
    own = d.assign(**{"x1:x2": 7.0})
    assert add_products("y ~ x1 + x1:x2", own)["x1:x2"].eq(7.0).all()
    assert add_products("y ~ a*x1\nab:=a*2", d) is d


def test_product_recovers_the_interaction():
    res = survey.sem("y ~ x1 + x2 + x1:x2", _data(20000, seed=5))
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    assert est[("y", "~", "x1:x2")] == pytest.approx(0.4, abs=0.02)
    assert est[("y", "~", "x1")] == pytest.approx(0.5, abs=0.03)


def test_product_of_a_missing_variable_is_an_input_error():
    with pytest.raises(SurveyInputError) as info:
        survey.sem("y ~ x1 + x1:z", _data())
    assert "x1:z" in str(info.value) and "\n" not in str(info.value)
