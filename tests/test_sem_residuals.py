"""residuals() (raw, cor, cor.bentler, normalized, standardized) and lavResiduals()' summary against
lavaan 0.6.14 on a CFA, an SEM with :=, a two-group CFA, a fixed.x regression, a CFA with a mean structure.
Fixtures: tests/fixtures/language_fit/make_fit_more.R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.results.residuals import normalized, result_residual_summary, result_residuals

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "language_fit" / "fit_more.json").read_text())["cases"]
CASES = [n for n in REFERENCE if REFERENCE[n].get("estimator", "ML") == "ML"]


def fitted(name: str):
    case = REFERENCE[name]
    data = pd.read_csv(FIXTURES / "sem" / f"{case['data']}.csv")
    options = {}
    if case.get("group"):
        options["group"] = case["group"]
    if case.get("meanstructure"):
        options["meanstructure"] = True
    return fit(case["syntax"], data, **options)


@pytest.fixture(scope="module")
def results():
    return {name: fitted(name) for name in CASES}


def _matrix(block) -> tuple[list[str], np.ndarray]:
    values = np.array([[np.nan if v is None else v for v in row] for row in block["cov"]["values"]])
    return block["cov"]["names"], values


@pytest.mark.parametrize("kind", ["raw", "cor", "cor.bentler", "normalized", "standardized"])
@pytest.mark.parametrize("name", CASES)
def test_residuals_equal_lavaan(results, name, kind):
    ours = result_residuals(results[name], kind)
    refs = REFERENCE[name]["residuals"][kind]
    refs = list(refs.values()) if isinstance(refs, dict) else refs  # multi-group: one entry per group
    assert len(ours) == len(refs)
    for got, ref in zip(ours, refs, strict=True):
        names, want = _matrix(ref)
        cov = got.cov.loc[names, names].to_numpy()
        ok = np.isfinite(want)
        np.testing.assert_allclose(cov[ok], want[ok], atol=1e-3)
        assert np.isnan(cov[~ok]).all()
        if "mean" in ref:
            want_m = np.array([np.nan if v is None else v for v in ref["mean"].values()])
            got_m = got.mean.loc[list(ref["mean"])].to_numpy()
            okm = np.isfinite(want_m)
            np.testing.assert_allclose(got_m[okm], want_m[okm], atol=1e-3)


@pytest.mark.parametrize("name", CASES)
def test_lavresiduals_summary_equals_lavaan(results, name):
    ours = result_residual_summary(results[name])
    refs = REFERENCE[name]["lavresiduals_summary"]
    refs = list(refs.values()) if isinstance(refs, dict) else refs
    for got, ref in zip(ours, refs, strict=True):
        for part in ("cov", "total"):
            if not ref.get(part):
                continue
            table = got[part].to_dict()
            for row, want in zip(ref["rows"], ref[part], strict=True):
                if want is None:
                    continue
                assert table[row] == pytest.approx(want, abs=1e-3), (part, row)


def test_normalized_residual_of_a_perfect_fit_is_zero():
    s = np.array([[1.0, 0.3], [0.3, 2.0]])
    cov, _ = normalized(s, s, 100)
    assert np.all(cov == 0)


def test_unknown_residual_type_lists_the_available_ones(results):
    with pytest.raises(SurveyInputError, match="available: raw, cor"):
        result_residuals(results["cfa"], "pearson")
