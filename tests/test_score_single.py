"""lavTestScore() of label equality constraints in one group against lavaan 0.6.14 (tests/fixtures/language/
make_score_single.R -> score_single.json): ML, MLR (lavaan's ordinary score test) and the least-squares
estimators GLS, ULS, WLS, DWLS; two models (three labels; one label on three rows). X2 and p-values
within 1e-3. (The single-group ML score tests were NaN before: the engine's single block shares a label's
rows in one parameter, so the released direction was empty.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "score_single.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_single_group_score_tests_equal_lavaan(name):
    case = REF["cases"][name]
    ours = survey.cfa(REF["models"][case["model"]], HS, estimator=case["estimator"]).score_tests()
    want = pd.DataFrame(case["uni"])
    assert len(ours) == len(want) > 1 and (ours["source"] == "label").all()
    np.testing.assert_allclose(ours["X2"].to_numpy(float), want["X2"].to_numpy(float), atol=1e-3)
    np.testing.assert_allclose(ours["p.value"].to_numpy(float), want["p.value"].to_numpy(float), atol=1e-3)
    assert np.isfinite(ours["X2"]).all()


def test_releasing_a_label_of_three_rows_pairs_the_first_row_with_each_other():
    res = survey.cfa(REF["models"]["three"], HS)
    tests = res.score_tests()
    assert list(zip(tests["lhs"], tests["rhs"], strict=True)) == [("textual", "x5"), ("textual", "x5")]
    assert tests["X2"].iloc[0] > 10 > tests["X2"].iloc[1]  # x5 = x6 is rejected, x5 = x8 is not
