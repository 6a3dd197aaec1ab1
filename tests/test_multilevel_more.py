"""Two-level SEM, the remaining model features (issues 14/15) against lavaan 0.6.14 on simulated clustered
data (100 clusters; tests/fixtures/multilevel/make_multilevel_more.R): a fixed.x covariate at both levels,
explicit constraints, se = "none", lavaan() options; estimates, SEs, std.lv/std.all (1e-3), logl /
unrestricted.logl / AIC / BIC (1e-5 relative) and every other fit measure lavaan reports (1e-3); the
combinations lavaan fails on are refused with its reason."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

FIX = Path(__file__).parent / "fixtures" / "multilevel"
REF = json.loads((FIX / "multilevel_more.json").read_text())
DATA = pd.read_csv(FIX / "twolevel_more.csv")
LIKELIHOOD = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
OPTIONS = {"constr_mlr": {"estimator": "MLR"}, "both_mlr": {"estimator": "MLR"}, "two_none": {"se": "none"},
           "two_orthogonal": {"orthogonal": True}, "onex_fixedx": {"fixed_x": False},
           "novar_lavaan": {"auto_var": False}}


@cache
def _fit(case: str):
    return fit(REF[case]["model"], DATA, cluster="cluster", **OPTIONS.get(case, {}))


def _check(res, ref) -> None:
    est, want = res.estimates(), pd.DataFrame(ref["estimates"])
    assert list(est["lhs"] + est["op"] + est["rhs"]) == list(want["lhs"] + want["op"] + want["rhs"])
    assert list(est["level"].astype(str)) == list(want["level"].astype(str))
    for col in ("est", "se", "std.lv", "std.all"):
        w = pd.to_numeric(want[col], errors="coerce").to_numpy(dtype=float)  # lavaan's NA: null
        o = est[col].to_numpy(dtype=float)
        assert (np.isnan(o) == np.isnan(w)).all(), col
        np.testing.assert_allclose(o[~np.isnan(w)], w[~np.isnan(w)], atol=1e-3, err_msg=col)
    fm = res.fit_measures()
    for key, value in ref["fit_measures"].items():
        if value is None:  # NA in lavaan
            assert not np.isfinite(fm[key]), key
        elif key in LIKELIHOOD:
            assert fm[key] == pytest.approx(value, rel=1e-5), key
        else:
            assert fm[key] == pytest.approx(value, abs=1e-3, rel=1e-3), key
    assert res.converged is ref["converged"] is True


@pytest.mark.parametrize("case", ["both_ml", "both_mlr"])
def test_covariate_at_both_levels_equals_lavaan(case):
    """x1 a fixed.x covariate at both levels (x2 within-only, w1 between-only): lavaan 0.6.14 fixes x1's
    level-1 moments at the EM h1 Sigma_W (its level-1 intercept at 0), its level-2 moments at the h1
    Sigma_B / Mu.B; df = lavaan's ndat (x1's level-1 mean not counted) - npar = 16; loglik.x of x2 and w1
    only; MLR: the h1 trace over the h1 moments that are not fixed.x moments."""
    res = _fit(case)
    _check(res, REF[case])
    assert res.fit_measures()["df"] == 16
    est = res.estimates().set_index(["lhs", "op", "rhs", "block"])
    assert est.loc[("x1", "~1", "", 1), "est"] == 0.0
    k = res.tl.st.y.index("x1")
    assert est.loc[("x1", "~~", "x1", 2), "est"] == pytest.approx(res.sat.moments.sb[k, k])
