"""Starting values (survey.sem.start, lavaan's FABIN 3 rule) and the fits they lead to.

Reference: lavaan 0.6.14 ``parTable(fit)$start`` and ML estimates (tests/fixtures/start/make_reference.R) on
tests/fixtures/measure/items.csv: a trait + method-factor model with every factor identified by its
variance (used to stop at a Heywood case after 5,500 iterations with loadings all starting at
sqrt(s_ii / 2)), the same with marker traits, and small factors (2-3 indicators).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.start import fabin3, start_values

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "start" / "reference.json").read_text())["cases"]


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    x = pd.read_csv(FIX / "measure" / "items.csv")
    for v in ("A4", "B4", "C4", "D4"):
        x[v] = 8 - x[v]
    return x[[c for c in x.columns if c[0] in "ABCD" and c[1:].isdigit()]]


@pytest.fixture(scope="module")
def fits(items):
    return {case: fit(REF[case]["model"], items) for case in REF}


def _merged(res, case: str) -> pd.DataFrame:
    ref = pd.DataFrame(REF[case]["partable"])
    pt = res.ram.partable
    ours = pt[pt["free"] > 0].assign(start=lambda d: res.start[d["free"].to_numpy(dtype=int) - 1])
    merged = ours.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ref)
    return merged


@pytest.mark.parametrize("case", list(REF))
def test_start_values_equal_lavaan(fits, case):
    merged = _merged(fits[case], case)
    assert np.abs(merged["start"] - merged["start_r"]).max() < 1e-10


@pytest.mark.parametrize("case", list(REF))
def test_fit_equals_lavaan(fits, case):
    res = fits[case]
    assert res.converged and not [w for w in res.warnings if "converge" in w.message.lower()]
    ref = pd.DataFrame(REF[case]["partable"])
    merged = res.estimates().merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(ref)
    assert np.abs(merged["est"] - merged["est_r"]).max() < 1e-3
    fm = res.fit_measures()
    for name, value in REF[case]["fit"].items():
        assert fm[name] == pytest.approx(value, abs=1e-3), name


def test_fabin3_reference_indicator_and_variance_scaling():
    lam = np.array([1.0, 0.8, 1.2, 0.6, 0.9])
    s = np.outer(lam, lam) * 2.0 + np.diag([0.5, 0.4, 0.6, 0.3, 0.5])  # exact one-factor covariance, psi 2
    marker, _ = fabin3(s)
    assert np.allclose(marker, lam)
    scaled, _ = fabin3(s, std_lv=True)  # loadings in the metric of a unit-variance factor
    assert np.allclose(scaled, lam * np.sqrt(2.0))
    three, neg = fabin3(s[:3, :3], std_lv=True)
    assert not neg and np.allclose(three, lam[:3] * np.sqrt(2.0))


def test_start_values_returns_one_value_per_parameter(fits):
    res = fits["method_std_lv"]
    theta = start_values(res.ram, res.group_stats)
    assert theta.shape == (res.ram.npar,) and np.isfinite(theta).all()
