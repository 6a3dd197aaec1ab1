"""Bootstrap combinations against lavaan 0.6.14 on lavaan's OWN resamples
(tests/fixtures/engine/boot_combos.json, make_boot_combos.R: the indices lavaan drew, recovered from
lav_bootstrap_internal with keep.idx and checked to reproduce lavaan's reported SEs / replicate statistics
exactly; boot_combos_<case>_g<g>.csv.gz).

* estimator MLR with test = "bollen.stine": lavaan keeps MLR's Yuan-Bentler-Mplus test, now with
  observed.information "h1" (two tests), and adds the Bollen-Stine p of the standard statistic; the
  replicates are ML refits.
* se = "bootstrap" with test = "bollen.stine": the SEs come from the same Bollen-Stine resamples as the p
  (lav_model_nvcov_bootstrap), divisor B.
* explicit constraints (linear equalities, inequalities; one or two groups; FIML): every replicate is
  refitted under them (the nonlinear case con_nl_single of the script was not run: lavaan's nlminb.constr
  took too long on the loaded machine; a nonlinear constraint's replicates are checked to hold it below).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.sem import fit
from survey.sem.bootstrap import bootstrap

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "boot_combos.json").read_text())
MODELS = REF["models"]
DATA = {"hs": pd.read_csv(HERE / "hs39.csv"), "mar": pd.read_csv(HERE / "hs39_mar.csv")}


def _indices(case: str, groups: int) -> np.ndarray | list[np.ndarray]:
    """lavaan's resamples: one B x N matrix (one group), or one B x N_g matrix per group."""
    out = [pd.read_csv(HERE / f"boot_combos_{case}_g{g}.csv.gz", header=None).to_numpy(np.int64)
           for g in range(1, groups + 1)]
    return out[0] if groups == 1 else out


def _columns(res, rows: dict) -> list[str]:
    """Our parameter name of each lavaan free parameter (lhs, op, rhs, group)."""
    pt, names = res.partable, res._names()
    out = []
    for lhs, op, rhs, g in zip(rows["lhs"], rows["op"], rows["rhs"], rows["group"], strict=True):
        sel = (pt["lhs"] == lhs) & (pt["op"] == op) & (pt["rhs"] == rhs) & (pt["group"] == g)
        out.append(names[int(pt[sel].iloc[0]["free"]) - 1])
    return out


def _block(lines: list[str]) -> list[str]:
    """summary() lines from "Model Test User Model:" to the blank line before "Parameter Estimates:"."""
    start = lines.index("Model Test User Model:")
    stop = lines.index("Parameter Estimates:")
    return [ln.rstrip() for ln in lines[start:stop] if ln.strip()]


@pytest.mark.parametrize("case", ["mlr_bs_single", "mlr_bs_mg"])
def test_mlr_with_bollen_stine_test_equals_lavaan(case):
    ref = REF["cases"][case]
    group = "school" if case.endswith("mg") else None
    res = fit(MODELS["hs"], DATA["hs"], estimator="MLR", group=group)
    boot = bootstrap(res, indices=_indices(case, 2 if group else 1), bollen_stine=True, workers=1,
                     progress=False)
    bs = ref["bollen_stine"]
    np.testing.assert_allclose(boot.chisq, bs["boot_T"], atol=1e-3)  # every replicate's ML statistic
    assert boot.bollen_stine_pvalue == pytest.approx(bs["pvalue"], abs=1e-12)
    assert bs["boot_length"] == len(boot.chisq)
    full = survey.cfa(MODELS["hs"], DATA["hs"], estimator="MLR", group=group, test="bollen.stine",
                      bootstrap=bs["boot_length"], seed=5)
    fm, want = full.fit_measures(), ref["fit_measures"]
    for key in ("chisq", "df", "pvalue", "chisq.scaled", "pvalue.scaled", "chisq.scaling.factor", "cfi",
                "cfi.scaled", "cfi.robust", "tli.robust", "rmsea.scaled", "rmsea.robust", "srmr"):
        assert fm[key] == pytest.approx(want[key], abs=1e-3), key
    for key in ("aic", "bic", "logl"):
        assert fm[key] == pytest.approx(want[key], rel=1e-5), key
    got = full.tests()["bollen.stine"]
    assert got["stat"] == pytest.approx(bs["stat"], abs=1e-3) and got["df"] == bs["df"]
    est = pd.DataFrame(ref["estimates"])
    free = est[pd.DataFrame(ref["partable"])["free"].to_numpy() > 0]
    mine = full.estimates()
    mine = mine[full.partable["free"].to_numpy() > 0]
    np.testing.assert_allclose(mine["est"].to_numpy(float), free["est"].to_numpy(float), atol=1e-3)
    np.testing.assert_allclose(mine["se"].to_numpy(float), free["se"].to_numpy(float), atol=1e-3)
    # lavaan's test block, the Bollen-Stine p-value line aside (our resamples there are our own seed's)
    theirs = [ln for ln in _block(ref["summary"]) if "Bollen-Stine" not in ln]
    ours = [ln for ln in _block(full.summary(fit_measures=False).splitlines()) if "Bollen-Stine" not in ln]
    assert ours == theirs


def test_bootstrap_se_with_bollen_stine_test_uses_the_transformed_resamples_as_lavaan():
    ref = REF["cases"]["bs_se_single"]
    res = fit(MODELS["hs"], DATA["hs"])
    boot = bootstrap(res, indices=_indices("bs_se_single", 1), bollen_stine=True, workers=1, progress=False)
    cols = _columns(res, ref["boot_se"])
    se = boot.se()[cols].to_numpy()  # divisor B, as lavaan
    np.testing.assert_allclose(se, ref["boot_se"]["se"], atol=1e-3)
    assert np.abs(se - np.asarray(ref["boot_se"]["se"])).max() < 1e-5
    lav = np.asarray(ref["boot_coef"], dtype=float)
    np.testing.assert_allclose(boot.replicates[cols].to_numpy(), lav, atol=1e-3)
    bs = ref["bollen_stine"]
    np.testing.assert_allclose(boot.chisq, bs["boot_T"], atol=1e-3)
    assert boot.bollen_stine_pvalue == pytest.approx(bs["pvalue"], abs=1e-12)
    est = pd.DataFrame(ref["estimates"])  # lavaan's parameterEstimates: these SEs in its se column
    reported = est.loc[est["se"] > 0, "se"].to_numpy(float)
    np.testing.assert_allclose(np.sort(reported), np.sort(np.asarray(ref["boot_se"]["se"])), atol=1e-12)


CONSTRAINED = {
    "con_single": ("con", "hs", {}),
    "con_mg": ("mg", "hs", {"group": "school"}),
    "con_fiml": ("fiml", "mar", {"missing": "fiml"}),
}


FLAT = {"con_mg": [34]}


def _objectives(res, idx, b: int, theta_ours: np.ndarray, lav_row: np.ndarray, cols: list[str]):
    """Our ML objective on replicate b at our estimates and at lavaan's."""
    import copy

    from survey.sem import bootstrap_blocks as bb
    from survey.sem.estimate.objective import total_f

    names = res._names()
    parts = [np.asarray(g.raw, dtype=float) for g in res.stats.groups]
    spec = bb.BlockSpec(copy.deepcopy(res.mg), parts, False, [], list(res.mg.ov), res.theta.copy(),
                        np.array([], int), np.array([], int), list(res.stats.groups))
    rows = idx if isinstance(idx, list) else [idx]
    blocks = [bb._block(spec, g, parts[g][rows[g][b]], False) for g in range(len(parts))]
    theta_lav = np.zeros(len(names))
    theta_lav[[names.index(c) for c in cols]] = lav_row
    return total_f(spec.mg, blocks, theta_ours), total_f(spec.mg, blocks, theta_lav)


@pytest.mark.parametrize("case", list(CONSTRAINED))
def test_constrained_bootstrap_replicates_equal_lavaan(case):
    model, data, options = CONSTRAINED[case]
    ref = REF["cases"][case]
    res = fit(MODELS[model], DATA[data], **options)
    idx = _indices(case, 2 if "group" in options else 1)
    boot = bootstrap(res, indices=idx, workers=1, progress=False)
    cols = _columns(res, ref["boot_se"])
    lav = np.array([[np.nan if v is None else v for v in row] for row in ref["boot_coef"]], dtype=float)
    ours = boot.replicates[cols].to_numpy()
    failed = list(np.flatnonzero(np.isnan(ours).any(axis=1)) + 1)
    assert failed == list(np.atleast_1d(ref["failed"]))
    ok = ~np.isnan(ours).any(axis=1)
    # con_mg replicate 34: a flat ridge where lavaan's nlminb.constr stops early (its F exceeds ours by 4e-8,
    # estimates 0.018 apart; the inequality inactive in both): excluded, ours the better point
    differ = np.flatnonzero(np.abs(ours - lav).max(axis=1) > 1e-3)
    assert list(differ + 1) == FLAT.get(case, [])
    for b in differ:
        theta = boot.replicates.loc[b, res._names()].to_numpy()
        f_ours, f_lav = _objectives(res, idx, b, theta, lav[b], cols)
        assert f_ours <= f_lav
    keep = ok.copy()
    keep[differ] = False
    np.testing.assert_allclose(ours[keep], lav[keep], atol=1e-3)
    np.testing.assert_allclose(ours[keep].std(axis=0), lav[keep].std(axis=0), atol=1e-3)
    se = boot.se()[cols].to_numpy()  # all replicates: lavaan's reported bootstrap SEs
    np.testing.assert_allclose(se, ref["boot_se"]["se"], atol=2e-3 if differ.size else 1e-3)
    # the constraints hold in every replicate (not the free model's estimates)
    reps = boot.ok
    if case == "con_single":
        assert np.abs(reps["a"] - 0.8 * reps["b"]).max() < 1e-6 and reps["d"].min() >= 0.95 - 1e-6
        assert (reps["d"] < 0.95 + 1e-6).mean() > 0.2  # the bound is active in many replicates
    elif case == "con_mg":
        assert (reps["a1"] - reps["a2"]).min() >= 0.1 - 1e-6
    else:
        assert np.abs(reps["a"] - 0.8 * reps["b"]).max() < 1e-6


def test_nonlinear_constraint_holds_in_every_bootstrap_replicate():
    res = fit(MODELS["nl"], DATA["hs"], se="bootstrap", bootstrap=6, seed=4)
    reps = res.bootstrap.ok
    assert len(reps) == 6 and np.abs(reps["c"] * reps["d"] - 1.05).max() < 1e-6
    free = fit(MODELS["nl"].rsplit("\n", 1)[0], DATA["hs"])  # the model without the constraint
    est = free.estimates()
    row = est[est["label"] == "c"].iloc[0]
    assert abs(float(row["est"]) * float(est[est["label"] == "d"].iloc[0]["est"]) - 1.05) > 1e-3


def test_constrained_bootstrap_through_fit_gives_lavaans_divisor_b_standard_errors():
    res = fit(MODELS["con"], DATA["hs"], se="bootstrap", bootstrap=8, seed=3)
    names = list(res.vcov().index)
    want = res.bootstrap.ok[names].std(ddof=0).to_numpy()
    assert np.abs(np.sqrt(np.diag(res.vcov())) - want).max() < 1e-12
    est = res.estimates()
    row = est[(est["label"] == "a")].iloc[0]
    assert row["se"] == pytest.approx(res.bootstrap.se()["a"], rel=1e-12)
