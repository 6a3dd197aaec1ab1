"""The result views (``repr``, notebook HTML) report the scaled chi-square with its scaling factor, named by
its correction, and the robust CFI / TLI / RMSEA under MLR / MLM / WLSMV (issue 17, point 1), with the
numbers of lavaan 0.6.14 (fixtures: tests/fixtures/robust/make_reference.R,
tests/fixtures/ordinal_mixed/make_reference.R)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.results import fit_line

HERE = Path(__file__).parent / "fixtures"
ROBUST = json.loads((HERE / "robust" / "reference.json").read_text())
ORD = json.loads((HERE / "ordinal_mixed" / "reference.json").read_text())
HS = pd.read_csv(HERE / "robust" / "hs.csv")


def _value(text: str, label: str) -> float:
    """The number after ``label = `` (``label`` may hold HTML tags)."""
    match = re.search(re.escape(label) + r"(?:</i>)?(?:\(\d+\))? = (-?[0-9.]+)", text)
    assert match, (label, text)
    return float(match.group(1))


@pytest.mark.parametrize(("case", "estimator", "name"), [
    ("hs_mlr", "MLR", "Yuan-Bentler (Mplus variant) scaled"),
    ("hs_mlm", "MLM", "Satorra-Bentler scaled"),
])
def test_robust_fit_line_in_html_and_repr_equals_lavaan(case, estimator, name):
    ref = ROBUST["cases"][case]["fit_measures"]
    res = fit(ROBUST["models"]["hs"], HS, estimator=estimator)
    page = res._repr_html_()
    head = page.split("</p>")[0]
    assert f"{name} <i>\u03c7\u00b2</i>(24) = " in head
    scaled = head.split("; standard")[0]
    assert _value(scaled, "<i>\u03c7\u00b2") == pytest.approx(ref["chisq.scaled"], abs=1e-3)
    assert _value(scaled, "<i>c") == pytest.approx(ref["chisq.scaling.factor"], abs=1e-3)
    standard = head.split("; standard")[1]
    assert _value(standard, "<i>\u03c7\u00b2") == pytest.approx(ref["chisq"], abs=1e-3)
    for key in ("cfi", "tli", "rmsea"):
        assert _value(head, f"robust {key.upper()}") == pytest.approx(ref[f"{key}.robust"], abs=1e-3)
    lo, hi = re.search(r"robust RMSEA = [0-9.]+ \[([0-9.]+), ([0-9.]+)\]", head).groups()
    assert float(lo) == pytest.approx(ref["rmsea.ci.lower.robust"], abs=1e-3)
    assert float(hi) == pytest.approx(ref["rmsea.ci.upper.robust"], abs=1e-3)
    text = repr(res)
    assert f"chisq.scaled={ref['chisq.scaled']:.3f}" in text and f"cfi.robust={ref['cfi.robust']:.3f}" in text


def test_ml_fit_line_is_the_standard_test():
    ref = ROBUST["cases"]["hs_mlr"]["fit_measures"]  # chisq, cfi, rmsea do not depend on the SEs
    head = fit(ROBUST["models"]["hs"], HS)._repr_html_().split("</p>")[0]
    assert "scaled" not in head and "robust" not in head
    assert _value(head, "CFI") == pytest.approx(ref["cfi"], abs=1e-3)
    assert _value(head, "<i>\u03c7\u00b2") == pytest.approx(ref["chisq"], abs=1e-3)


def test_wlsmv_fit_line_names_scaled_shifted_and_falls_back_to_scaled_indices():
    """lavaan 0.6.14 leaves cfi.robust / rmsea.robust NA here: the line reports the scaled ones, labelled
    so."""
    bfi = pd.read_csv(HERE / "ordinal" / "bfi.csv").assign(age10=lambda d: d["age"] / 10)
    ref = ORD["cases"]["sem_wlsmv"]["fit_measures"]
    res = fit(ORD["models"]["sem"], bfi, ordered=ORD["ordered"])
    head = res._repr_html_().split("</p>")[0]
    assert "scaled-shifted <i>\u03c7\u00b2</i>(42)" in head
    scaled = head.split("; standard")[0]
    assert _value(scaled, "<i>\u03c7\u00b2") == pytest.approx(ref["chisq.scaled"], abs=1e-3)
    assert _value(head, "scaled CFI") == pytest.approx(ref["cfi.scaled"], abs=1e-3)
    assert _value(head, "scaled RMSEA") == pytest.approx(ref["rmsea.scaled"], abs=1e-3)


def test_fit_text_plain():
    f = {"chisq": 10.0, "df": 5.0, "pvalue": 0.075, "chisq.scaled": 9.0, "df.scaled": 5.0,
         "pvalue.scaled": 0.11,
         "chisq.scaling.factor": 1.111, "cfi.robust": 0.99, "tli.robust": 0.98, "rmsea.robust": 0.04,
         "rmsea.ci.lower.robust": 0.0, "rmsea.ci.upper.robust": 0.08, "srmr": 0.03}
    assert fit_line.fit_text(f, "satorra.bentler") == (
        "Satorra-Bentler scaled chi2(5) = 9.000, p = 0.110 (scaling factor c = 1.111; standard chi2(5) = "
        "10.000, p = 0.075); robust CFI = 0.990, robust TLI = 0.980, robust RMSEA = 0.040 [0.000, 0.080], "
        "SRMR = 0.030")
