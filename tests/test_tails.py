"""survey.tails (the normal, chi-square and noncentral chi-square tails of the fit path, in ``math``)
against 40-digit mpmath values (tests/fixtures/tails/make_tails.py -> tails.json), far tails included;
scipy.special agreement is held in tests/test_distributions.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey import tails

REF = json.loads((Path(__file__).parent / "fixtures" / "tails" / "tails.json").read_text())


def _rel(ours: float, ref: str, quantile: bool = False) -> float:
    """Relative error of a probability; below 1e-290 (subnormal doubles, which carry fewer digits) the
    absolute error scaled by 1e290. A normal quantile: the error relative to max(|z|, 1) (z = 0 at 1/2)."""
    value = float(ref)
    if quantile:
        return abs(ours - value) / max(abs(value), 1.0)
    if abs(value) < 1e-290:
        return abs(ours - value) * 1e290
    return abs(ours - value) / abs(value)


@pytest.mark.parametrize("name, tol", [("ndtr", 1e-12), ("ndtri", 1e-14), ("chi2_cdf", 1e-12),
                                       ("chi2_sf", 1e-12), ("chi2_ppf", 1e-12), ("ncx2_cdf", 1e-11),
                                       ("ncx2_sf", 1e-11)])
def test_equals_40_digit_references(name: str, tol: float) -> None:
    f = getattr(tails, name)
    errors = [(_rel(f(*row[:-1]), row[-1], name == "ndtri"), row) for row in REF[name]]
    worst = max(errors, key=lambda t: t[0])
    assert worst[0] < tol, worst
    assert len(REF[name]) >= 10


def test_ppf_inverts_cdf_and_the_tails_add_to_one() -> None:
    for p in (1e-12, 0.01, 0.5, 0.95, 1 - 1e-9):
        assert tails.ndtr(tails.ndtri(p)) == pytest.approx(p, rel=1e-13)
        for df in (0.7, 4.0, 90.0):
            assert tails.chi2_cdf(tails.chi2_ppf(p, df), df) == pytest.approx(p, rel=1e-11)
    for x, df, nc in ((3.0, 2.0, 1.5), (400.8, 356.0, 60.0), (18.0, 24.0, 0.01)):
        assert tails.ncx2_cdf(x, df, nc) + tails.ncx2_sf(x, df, nc) == pytest.approx(1.0, abs=1e-13)
        p, q = tails.gamma_pq(df / 2, x / 2)
        assert p + q == pytest.approx(1.0, abs=1e-15)
