"""Continuous GLS / ULS / DWLS / WLS (survey.sem.estimate.wls) against lavaan 0.6.14
(tests/fixtures/engine/aliases.json, make_aliases.R: ``sem(model, hs, estimator = ...)``, lavaan's fixed.x =
FALSE): estimates and SEs (1e-3), chisq, df, fmin, baseline chisq / df, CFI, TLI, RMSEA (1e-6), on the HS
CFA and the MIMIC model; recovery of known loadings on simulated data; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit
from survey.sem.estimate.wls import LS_ESTIMATORS, fit_ls, ls_indices

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "aliases.json").read_text())
HS = pd.read_csv(HERE / "hs39.csv")


@pytest.mark.parametrize("estimator", LS_ESTIMATORS)
@pytest.mark.parametrize("model", ["hs", "mimic3"])
def test_least_squares_equals_lavaan(model, estimator):
    ref = REF["cases"][f"{model}_{estimator.lower()}"]
    assert ref["options"]["estimator"] == estimator and ref["options"]["fixed.x"] is False
    ml = fit(REF["models"][model], HS, fixed_x=False)
    res = fit_ls(ml.mg, ml.stats.groups[0], estimator, ml.theta)
    assert res.converged
    free = ml.partable[ml.partable["free"] > 0].sort_values("free")
    ours = free[["lhs", "op", "rhs"]].assign(est=res.theta, se=np.sqrt(np.diag(res.vcov)))
    merged = ours.merge(pd.DataFrame(ref["estimates"]), on=["lhs", "op", "rhs"], suffixes=("", "_r"))
    assert len(merged) == len(free) == ref["npar"]
    assert np.max(np.abs(merged["est"] - merged["est_r"])) < 1e-3
    assert np.max(np.abs(merged["se"] - merged["se_r"])) < 1e-3
    fm = ref["fit_measures"]
    assert res.df == fm["df"] and res.baseline_df == fm["baseline.df"]
    for ours_value, key in ((res.chisq, "chisq"), (res.fmin, "fmin"), (res.baseline_chisq, "baseline.chisq")):
        assert ours_value == pytest.approx(fm[key], abs=1e-6 * max(1.0, fm[key])), key
    for key, value in ls_indices(res, ml.nobs).items():
        assert value == pytest.approx(fm[key], abs=1e-6), key


def test_estimators_differ_as_lavaan():
    ml = fit(REF["models"]["hs"], HS)
    chisq = {e: fit_ls(ml.mg, ml.stats.groups[0], e, ml.theta).chisq for e in LS_ESTIMATORS}
    assert len({round(v, 3) for v in chisq.values()}) == 4
    assert chisq["DWLS"] == pytest.approx(REF["cases"]["hs_dwls"]["fit_measures"]["chisq"], abs=1e-6)


def test_wls_recovers_known_loadings():
    rng = np.random.default_rng(20261201)
    n, lam = 4000, np.array([1.0, 0.8, 0.6, 0.7])
    eta = rng.standard_normal(n)
    data = pd.DataFrame(eta[:, None] * lam + rng.standard_normal((n, 4)) * 0.6, columns=list("abcd"))
    ml = fit("f =~ a + b + c + d", data)
    for est in LS_ESTIMATORS:
        res = fit_ls(ml.mg, ml.stats.groups[0], est, ml.theta)
        loadings = res.theta[:3]  # b, c, d on f (a fixed at 1)
        assert np.max(np.abs(loadings - lam[1:])) < 0.05, est
        assert res.chisq < 20  # df 2, a correct model


def test_bad_input_refused():
    ml = fit(REF["models"]["hs"], HS)
    with pytest.raises(SurveyInputError, match="least-squares"):
        fit_ls(ml.mg, ml.stats.groups[0], "WLSMV", ml.theta)
    mg = fit(REF["models"]["hs"], HS, group="school")
    with pytest.raises(SurveyInputError, match="one complete-data block per group"):
        fit_ls(mg.mg, mg.stats.groups[0], "GLS", mg.theta)  # two groups, one block
