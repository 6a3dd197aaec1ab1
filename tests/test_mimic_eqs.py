"""mimic="EQS" with estimator ML (lavaan 0.6.14: the Wishart likelihood) and the Wishart fit's MFI (N - 1)
against lavaan (tests/fixtures/lang3/lang3.json, make_lang3.R: eqs_ml); est / se / std.all and every
fitMeasures() entry within 1e-3 (logl / AIC / BIC 1e-5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "lang3"
REF = json.loads((HERE / "lang3.json").read_text())
HS = pd.read_csv(HERE / REF["data"]["complete"])


@pytest.mark.parametrize("options", [{"mimic": "EQS"}, {"likelihood": "wishart"}])
def test_eqs_is_lavaans_wishart_fit(options):
    res = fit(REF["models"]["hs"], HS, **options)
    case = REF["cases"]["eqs_ml"]
    fm, rf = res.fit_measures(), case["fit_measures"]
    compared = [k for k in rf if rf[k] is not None and k in fm]
    assert len(compared) > 40 and "mfi" in compared
    for key in compared:
        likelihood = key in ("logl", "unrestricted.logl", "aic", "bic", "bic2")
        tol = 1e-5 * max(1.0, abs(rf[key])) if likelihood else 1e-3
        assert abs(fm[key] - rf[key]) < tol, (key, fm[key], rf[key])
    theirs = pd.DataFrame(case["estimates"])
    both = theirs.merge(res.estimates(), on=["lhs", "op", "rhs"], suffixes=("_r", ""))
    assert len(both) == len(theirs)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_r"].to_numpy(float)
        ok = np.isfinite(want)
        assert np.abs(both[col].to_numpy(float)[ok] - want[ok]).max() < 1e-3, col


def test_eqs_mfi_uses_n_minus_one():
    fm = fit(REF["models"]["hs"], HS, mimic="EQS").fit_measures()
    assert fm["mfi"] == pytest.approx(np.exp(-0.5 * (fm["chisq"] - fm["df"]) / (len(HS) - 1)), rel=1e-12)
