"""residuals(fit, type) of ordinal fits against lavaan 0.6.14 beyond tests/test_ordinal_residuals_std.py
(tests/fixtures/ordinal_resid/make_residuals_more.R, bfi): type "standardized.mplus" (ACOV_obs - Delta V
Delta'), the theta parameterization, continuous items among the ordered ones and observed covariates, one
and two groups; the SE types with mixed items or covariates are refused as lavaan refuses them."""

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
RES = json.loads((HERE / "ordinal_resid" / "residuals_more.json").read_text())
BFI = pd.read_csv(HERE / "ordinal" / "bfi.csv")
SCALED = ("standardized", "normalized", "standardized.mplus")
CASES = [(case, kind) for case, ref in sorted(RES["cases"].items()) for kind in ref
         if kind not in ("model", "options", "refused")]


@cache
def fitted(case: str):
    opts = dict(RES["cases"][case]["options"])
    group, equal = opts.pop("group", None), opts.pop("group.equal", ())
    ordered = opts.pop("ordered", True)
    return fit(RES["cases"][case]["model"], BFI, ordered=ordered, group=group, group_equal=equal, **opts)


def _num(x) -> np.ndarray:
    return np.array([[np.nan if v in ("NA", None) else v for v in row] for row in x], dtype=float) \
        if x and isinstance(x[0], list) else np.array([np.nan if v in ("NA", None) else v for v in x], float)


def _close(mine: np.ndarray, want: np.ndarray, raw: np.ndarray | None = None) -> None:
    """Equal within 1e-3 (NaN where lavaan has NA). A residual over its SE (``raw`` given): its SE
    raw / z equal within 5e-4 (SEs 0.001 - 0.05), and z within 1e-3 relative where |z| < 50. Beyond, z is
    a residual over a tiny SE (standardized.mplus: ACOV_obs - Delta V Delta', a difference of near-equal
    terms) that lavaan's own convergence moves by more (its estimates of the two-group theta fit are within
    7e-5 of ours: the (A4, C5) correlation's z is -89.47 here, -90.08 in lavaan, its SE 0.00119 in both)."""
    assert mine.shape == want.shape
    assert np.array_equal(np.isnan(mine), np.isnan(want))  # lavaan's NA: a negative ACOV diagonal
    ok = ~np.isnan(want)
    if raw is None:
        assert np.abs(mine[ok] - want[ok]).max(initial=0) < 1e-3
        return
    scaled = ok & (np.abs(raw) >= 1e-5)  # smaller residuals are kept as they are (lavaan)
    assert np.abs(mine[ok & ~scaled] - want[ok & ~scaled]).max(initial=0) < 1e-3
    se_mine, se_want = raw[scaled] / mine[scaled], raw[scaled] / want[scaled]
    assert np.abs(se_mine - se_want).max(initial=0) < 5e-4
    z, z_ref = mine[scaled], want[scaled]
    near = np.abs(z_ref) < 50
    assert (np.abs(z[near] - z_ref[near]) < 1e-3 * np.maximum(1.0, np.abs(z_ref[near]))).all()


@pytest.mark.parametrize(("case", "kind"), CASES)
def test_residuals_equal_lavaan(case, kind):
    ref = RES["cases"][case][kind]
    mine = fitted(case).residuals(kind)
    raws = fitted(case).residuals("raw") if kind in SCALED else [None] * len(mine)
    assert len(mine) == len(ref)
    for res, want, raw in zip(mine, ref, raws, strict=True):
        conditional = "res.cov" in want
        cov = want["res.cov" if conditional else "cov"]
        assert list(res.cov.index) == cov["rows"]
        _close(res.cov.to_numpy(), _num(cov["value"]), None if raw is None else raw.cov.to_numpy())
        th = want["res.th" if conditional else "th"]
        assert list(res.th.index) == th["names"]
        _close(res.th.to_numpy(), _num(th["value"]), None if raw is None else raw.th.to_numpy())
        if conditional:
            slopes = want["res.slopes"]
            assert list(res.slopes.index) == slopes["rows"] and list(res.slopes.columns) == [slopes["cols"]]
            _close(res.slopes.to_numpy(), _num(slopes["value"]))
            _close(res.mean.to_numpy(), _num(want["res.int"]["value"]))
        else:  # lavaan's mean residuals (SE types: one per threshold, the first p are the items')
            _close(res.mean.to_numpy(), _num(want["mean"]["value"])[: res.mean.size])


def test_standardized_mplus_differs_from_standardized():
    one = fitted("theta")
    mplus, std = one.residuals("standardized.mplus")[0].cov.to_numpy(), one.residuals("standardized")[0].cov
    ok = np.isfinite(mplus) & (np.abs(mplus) > 0)
    assert ok.sum() > 30 and np.abs(mplus[ok] - std.to_numpy()[ok]).max() > 0.01


@pytest.mark.parametrize("case", [c for c, ref in sorted(RES["cases"].items()) if "refused" in ref])
@pytest.mark.parametrize("kind", ["standardized", "normalized", "standardized.mplus"])
def test_se_types_of_mixed_or_covariate_fits_are_refused_as_lavaan(case, kind):
    assert RES["cases"][case]["refused"] == "not ready yet!"
    with pytest.raises(SurveyInputError, match="not ready yet"):
        fitted(case).residuals(kind)


def test_unknown_type_is_a_one_line_error():
    with pytest.raises(SurveyInputError, match="not one of lavaan's"):
        fitted("wlsmv").residuals("rstandard")


def test_cli_residuals_of_ordered_items_with_a_covariate(tmp_path, capsys):
    from survey.cli import main

    model = tmp_path / "m.lav"
    model.write_text(RES["cases"]["covariates"]["model"])
    with pytest.raises(SystemExit) as done:
        main(["fit", str(model), str(HERE / "ordinal" / "bfi.csv"), "--ordered", "A1,A2,A3,A4,A5",
              "--residuals", "raw", "--json"])
    assert done.value.code == 0
    out = json.loads(capsys.readouterr().out)
    slopes = out["residuals"]["groups"][0]["slopes"]
    want = RES["cases"]["covariates"]["raw"][0]["res.slopes"]
    mine = np.array([slopes[r]["age"] for r in want["rows"]])
    assert np.abs(mine - _num(want["value"]).ravel()).max() < 1e-3
