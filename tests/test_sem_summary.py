"""summary() of fits with scaled / robust statistics, laid out as lavaan 0.6.14's ``summary(fit,
fit.measures = TRUE)``: a Standard and a Scaled column, scaling correction factors, the robust CFI / TLI /
RMSEA lines. Printed values are checked against lavaan's fitMeasures() (tests/fixtures/robust/reference.json,
tests/fixtures/robust/make_reference.R), rounded to 3 decimals as lavaan prints them.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "robust"
REF = json.loads((HERE / "reference.json").read_text())["cases"]
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
NUM = r"(-?\d+\.\d{3})"


def _values(text: str, label: str, section: str) -> list[str]:
    block = text.split(section, 1)[1]
    for line in block.splitlines():
        if line.strip().startswith(label):
            return re.findall(NUM, line[len(label) + 2:])
    raise AssertionError(f"{label!r} not found after {section!r}")


@pytest.fixture(scope="module")
def hs():
    return pd.read_csv(HERE / "hs.csv")


@pytest.mark.parametrize("estimator", ["MLR", "MLM"])
def test_scaled_columns_equal_lavaan(hs, estimator):
    text = fit(HS_MODEL, hs, estimator=estimator).summary()
    ref = REF[f"hs_{estimator.lower()}"]["fit_measures"]
    assert re.search(r"Standard\s+Scaled", text)
    user, base = "Model Test User Model:", "Model Test Baseline Model:"
    rmsea = "Root Mean Square Error of Approximation:"
    checks = [
        ("Test Statistic", user, ["chisq", "chisq.scaled"]),
        ("P-value (Chi-square)", user, ["pvalue", "pvalue.scaled"]),
        ("Scaling correction factor", user, ["chisq.scaling.factor"]),
        ("Test statistic", base, ["baseline.chisq", "baseline.chisq.scaled"]),
        ("Scaling correction factor", base, ["baseline.chisq.scaling.factor"]),
        ("Comparative Fit Index (CFI)", base, ["cfi", "cfi.scaled"]),
        ("Tucker-Lewis Index (TLI)", base, ["tli", "tli.scaled"]),
        ("Robust Comparative Fit Index (CFI)", base, ["cfi.robust"]),
        ("Robust Tucker-Lewis Index (TLI)", base, ["tli.robust"]),
        ("RMSEA", rmsea, ["rmsea", "rmsea.scaled"]),
        ("90 Percent confidence interval - lower", rmsea, ["rmsea.ci.lower", "rmsea.ci.lower.scaled"]),
        ("Robust RMSEA", rmsea, ["rmsea.robust"]),
        ("P-value H_0: Robust RMSEA <= 0.050", rmsea, ["rmsea.pvalue.robust"]),
        ("SRMR", "Standardized Root", ["srmr", "srmr"]),
    ]
    for label, section, keys in checks:
        assert _values(text, label, section) == [f"{ref[k]:.3f}" for k in keys], label
    assert ("Satorra-Bentler" in text) == (estimator == "MLM")
    assert ("Yuan-Bentler correction (Mplus variant)" in text) == (estimator == "MLR")
    if estimator == "MLR":  # loglikelihood scaling factors, sandwich standard errors
        assert _values(text, "Scaling correction factor", "Loglikelihood user model") == [
            f"{ref['scaling.factor.h0']:.3f}"
        ]
        assert _values(text, "Scaling correction factor", "Loglikelihood unrestricted model") == [
            f"{ref['scaling.factor.h1']:.3f}"
        ]
        assert "Sandwich" in text and "Information bread" in text
    else:
        assert "Robust.sem" in text


@pytest.fixture(scope="module")
def study_model():
    spec = importlib.util.spec_from_file_location("robust_make_data", HERE / "make_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.STUDY_MODEL


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_fiml_summary(study_model, estimator):
    res = fit(study_model, pd.read_csv(HERE / "study_mcar.csv"), missing="fiml", estimator=estimator)
    text = res.summary()
    ref = REF[f"study_fiml_{estimator.lower()}"]["fit_measures"]
    base, rmsea = "Model Test Baseline Model:", "Root Mean Square Error of Approximation:"
    assert "Number of missing patterns" in text
    if estimator == "ML":  # one column; lavaan still prints the robust (Savalei 2018) measures
        assert "Scaled" not in text and "Standard errors                             Standard" in text
        assert _values(text, "Robust Comparative Fit Index (CFI)", base) == [f"{ref['cfi.robust']:.3f}"]
        assert _values(text, "Robust RMSEA", rmsea) == [f"{ref['rmsea.robust']:.3f}"]
        assert _values(text, "Test statistic", "Model Test User Model:") == [f"{ref['chisq']:.3f}"]
    else:
        assert _values(text, "Test Statistic", "Model Test User Model:") == [
            f"{ref['chisq']:.3f}", f"{ref['chisq.scaled']:.3f}"
        ]
        assert _values(text, "Robust RMSEA", rmsea) == [f"{ref['rmsea.robust']:.3f}"]
        assert _values(text, "Robust Tucker-Lewis Index (TLI)", base) == [f"{ref['tli.robust']:.3f}"]


def test_plain_ml_summary_keeps_one_column(hs):
    text = fit(HS_MODEL, hs).summary()
    assert "Scaled" not in text and "Robust" not in text and "Scaling correction" not in text
    assert _values(text, "Test statistic", "Model Test User Model:") == ["85.306"]
