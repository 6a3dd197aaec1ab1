"""residuals(fit, type = "standardized" | "normalized") of ordinal fits against lavaan 0.6.14
(tests/fixtures/ordinal_more/make_residuals_std.R: bfi, one group with WLSMV / DWLS / ULSMV / WLS, two
groups with equal thresholds and loadings): the residual thresholds and polychorics over their SEs from
Gamma / N (normalized) or Q Gamma Q' / N (standardized; lavaan lav_residuals_acov)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit

HERE = Path(__file__).parent / "fixtures"
RES = json.loads((HERE / "ordinal_more" / "residuals_std.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")


@cache
def fitted(case: str):
    opts = dict(RES["cases"][case]["options"])
    group, equal = opts.pop("group", None), opts.pop("group.equal", ())
    return fit(RES["model"], BFI, ordered=True, group=group, group_equal=equal, **opts)


@pytest.mark.parametrize("kind", ["standardized", "normalized"])
@pytest.mark.parametrize("case", sorted(RES["cases"]))
def test_scaled_residuals_equal_lavaan(case, kind):
    ref = RES["cases"][case][kind]
    ref = ref if isinstance(ref, list) else list(ref.values())
    mine = fitted(case).residuals(kind)
    assert len(mine) == len(ref)
    raw = fitted(case).residuals("raw")
    for res, want, plain in zip(mine, ref, raw, strict=True):
        cov = np.array(want["cov"], dtype=float)
        assert list(res.cov.index) == list(plain.cov.index)
        assert np.abs(res.cov.to_numpy() - cov).max() < 1e-3
        th = np.array([want["th"][k] for k in res.th.index], dtype=float)
        assert np.abs(res.th.to_numpy() - th).max() < 1e-3
        # a residual over its SE: the same sign, larger than the raw one, zero where the raw one is
        big = np.abs(plain.cov.to_numpy()) > 1e-5
        assert np.all(np.sign(res.cov.to_numpy()[big]) == np.sign(plain.cov.to_numpy()[big]))
        assert np.all(np.abs(res.cov.to_numpy()[big]) > np.abs(plain.cov.to_numpy()[big]))
        assert np.all(np.diag(res.cov.to_numpy()) == 0)
        assert ((res.mean == 0) | res.mean.isna()).all()  # lavaan: NA where a mean residual is not 0
