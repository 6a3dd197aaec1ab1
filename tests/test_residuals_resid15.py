"""lavResiduals(fit)$summary of ordinal fits against lavaan 0.6.14 (tests/fixtures/resid15/
make_summary_ordinal.R: bfi, one group WLSMV / ULSMV, two groups with equal thresholds and loadings;
srmr and crmr, the cor / thresholds / total columns; :mod:`survey.sem.ordinal.residual_summary`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
RES = json.loads((HERE / "resid15" / "summary_ordinal.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")


@cache
def fitted(case: str):
    opts = dict(RES["cases"][case]["options"])
    group, equal = opts.pop("group", None), opts.pop("group.equal", ())
    return fit(RES["model"], BFI, ordered=True, group=group, group_equal=equal, **opts)


@pytest.mark.parametrize("kind", ["cor.bentler", "cor.bollen"])
@pytest.mark.parametrize("case", sorted(RES["cases"]))
def test_ordinal_residual_summary_equals_lavaan(case, kind):
    ref = RES["cases"][case][kind]
    ref = ref if isinstance(ref, list) else list(ref.values())
    mine = fitted(case).lav_residuals_summary(kind)
    assert len(mine) == len(ref)
    for got, want in zip(mine, ref, strict=True):
        assert sorted(got) == sorted(want) == ["cor", "thresholds", "total"]
        for col, values in want.items():
            for key, value in values.items():
                ours = got[col][key.replace("cilupper", "ci.upper")]  # lavaan's crmr typo
                if value is None:  # lavaan NA (no SE for the saturated thresholds of one group)
                    assert np.isnan(ours), (case, kind, col, key, ours)
                else:
                    assert abs(ours - value) < 1e-3 * max(1.0, abs(value)), (case, kind, col, key, ours)


def test_ordinal_residual_summary_matches_fit_measures_srmr():
    summ = fitted("wlsmv").lav_residuals_summary()[0]
    assert abs(summ["total"]["srmr"] - RES["cases"]["wlsmv"]["cor.bentler"][0]["total"]["srmr"]) < 1e-6
    assert summ["thresholds"]["srmr"] < 1e-6  # one group: the thresholds are saturated
    assert summ["cor"]["srmr"] > summ["total"]["srmr"] > 0


def test_ordinal_residual_summary_unknown_type_refused():
    with pytest.raises(SurveyInputError, match="not available"):
        fitted("wlsmv").lav_residuals_summary("normalized")


# ------------------------------------------------ explicit constraints with robust SEs / observed information
CON = json.loads((HERE / "resid15" / "constrained.json").read_text())
HS = pd.read_csv(HERE / "robust" / "hs.csv")


@cache
def constrained(case: str):
    spec = CON["cases"][case]
    return fit(CON["models"][spec["model"]], HS, **spec["options"])


@pytest.mark.parametrize("case", sorted(CON["cases"]))
def test_constrained_standardized_residuals_equal_lavaan(case):
    """tests/fixtures/resid15/make_constrained.R: A0^-1 from the augmented information (equality and
    active inequality rows), the information and not the robust sandwich."""
    spec, res = CON["cases"][case], constrained(case)
    loadings = res.estimates().query("op == '=~'")["est"].to_numpy()
    assert np.abs(loadings - np.array(spec["est"])).max() < 1e-3
    ours = res.residuals("standardized")[0].cov.to_numpy()
    want = np.array(spec["standardized"], dtype=float)
    real = ours != 0  # 0: a structurally zero residual (lavaan prints its roundoff over a roundoff SE)
    assert real.sum() >= 36
    assert np.abs(ours[real] - want[real]).max() < 1e-3


@pytest.mark.parametrize("case", sorted(CON["cases"]))
def test_constrained_residual_summary_equals_lavaan(case):
    ours = constrained(case).lav_residuals_summary()[0]["cov"]
    want = CON["cases"][case]["summary"]["cov"]
    assert set(want) == set(ours)
    for key, value in want.items():
        assert abs(ours[key] - value) < 1e-3, (case, key, ours[key], value)


def test_ordinal_residual_summary_with_continuous_items_refused():
    """lavaan 0.6.14 computes no summary with continuous items among ordered ones (lav_residuals)."""
    items = [f"A{i}" for i in range(1, 6)] + [f"C{i}" for i in range(1, 6)]
    mixed = fit(RES["model"], BFI[items], ordered=items[:5])
    with pytest.raises(SurveyInputError, match="continuous items"):
        mixed.lav_residuals_summary()
