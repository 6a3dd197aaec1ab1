"""Explicit constraints (==, <, >) with the continuous least-squares estimators (survey.sem.ls_constrained)
against lavaan 0.6.14 (tests/fixtures/lang3/lang3.json, make_lang3.R): `a == b` with an active `c > 1.2`
under GLS / ULS / DWLS / WLS, with ULS also se="robust.sem" + test="satorra.bentler", and an inactive
`a < 0.5` under DWLS; est / se / std.all (the constraint rows' slack too), npar, df and every fitMeasures()
entry we report, and lavInspect(fit, "test"), within 1e-3."""

from __future__ import annotations

import pandas as pd
import pytest

from survey.sem import fit
from tests.test_ls_robust_groups import DATA, REF, compare, compare_tests

CASES = {
    **{f"ls_con_{e.lower()}": ("hs_con", {"estimator": e}) for e in ("GLS", "ULS", "DWLS", "WLS")},
    "ls_con_robust_uls": ("hs_con", {"estimator": "ULS", "se": "robust.sem", "test": "satorra.bentler"}),
    "ls_ineq_dwls": ("hs_ineq", {"estimator": "DWLS"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_constrained_least_squares_equal_lavaan(name):
    model, kwargs = CASES[name]
    res = fit(REF["models"][model], DATA["complete"], **kwargs)
    ref = REF["cases"][name]
    assert res.converged
    compare(res, ref)
    compare_tests(res, ref)
    est = res.estimates().set_index(["lhs", "op", "rhs"])["est"]
    if model == "hs_con":  # the equality holds and the inequality is active, as in lavaan
        assert est[("visual", "=~", "x2")] == pytest.approx(est[("visual", "=~", "x3")], abs=1e-7)
        assert est[("textual", "=~", "x5")] == pytest.approx(1.2, abs=1e-6)
        assert res.fit_measures()["df"] == ref["fit_measures"]["df"] == 25
    theirs = pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"])["est"]
    for key in [k for k in theirs.index if k[1] in ("<", ">")]:  # lavaan reports the slack
        assert est[key] == pytest.approx(theirs[key], abs=1e-5)


def test_constraints_beside_observed_information_fitted():
    """Was refused; against lavaan: tests/test_ls_options.py (c_obs_gls)."""
    res = fit(REF["models"]["hs_con"], DATA["complete"], estimator="GLS", information="observed")
    assert res.converged and res.se_options == ("standard", "observed")
