"""Bootstrap replicates compared one by one with lavaan 0.6.14 (issue 14, the bootstrap combinations).

* The Bollen-Stine bootstrap with missing data: lavaan 0.6.14 refuses it (lav_bootstrap_internal:
  "bollen.stine/yuan bootstrap not available for missing data", tests/fixtures/engine/refusals.json); so do
  we, with its reason, single and multi-group, through ``fit(test="bollen.stine")`` and ``bootstrap()``.
* The two 60-replicate multi-group cases whose SEs could not be compared over all replicates
  (tests/fixtures/sem_engine/boot_replicates.json, make_boot_replicates.R: lavaan's converged flag, and its
  estimates where it stopped, per replicate, on the same resamples): both programs fail on the same 19
  replicates of the complete-data configural model (empirically unidentified resamples: a latent variance
  runs off to 10^4); elsewhere the likelihood has more than one local optimum on a few resamples, and
  from the same start each optimiser may end in a different one. Each test states which replicates are
  excluded from the SE comparison and why, and checks both solutions there are stationary points of the
  same likelihood.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import bootstrap_blocks as bb
from survey.sem import fit
from survey.sem.bootstrap import bootstrap
from survey.sem.estimate.objective import total_f, total_gradient
from survey.sem.estimate.optimizer import estimate

ENGINE = Path(__file__).parent / "fixtures" / "engine"
SEM = Path(__file__).parent / "fixtures" / "sem_engine"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


# ------------------------------------------------------------------------------ Bollen-Stine, missing data
@pytest.mark.parametrize("options", [{}, {"group": "school"}, {"estimator": "MLR"}, {"se": "bootstrap"}])
def test_bollen_stine_with_missing_data_is_refused_with_lavaans_reason(options):
    refusal = json.loads((ENGINE / "refusals.json").read_text())["cases"]["bollen_stine_fiml"]
    reason = refusal["error"].removeprefix("lavaan ERROR: ")
    assert reason == "bollen.stine/yuan bootstrap not available for missing data"
    mar = pd.read_csv(ENGINE / "hs39_mar.csv")
    with pytest.raises(SurveyInputError) as info:
        fit(HS_MODEL, mar, missing="fiml", test="bollen.stine", bootstrap=5, seed=1, **options)
    assert reason in str(info.value) and "lavaan 0.6.14" in str(info.value)
    assert info.value.field == "bollen_stine"


@pytest.mark.parametrize("group", [None, "school"])
def test_bollen_stine_bootstrap_of_a_fiml_fit_is_refused_with_lavaans_reason(group):
    res = fit(HS_MODEL, pd.read_csv(ENGINE / "hs39_mar.csv"), missing="fiml", group=group)
    with pytest.raises(SurveyInputError, match="bollen.stine/yuan bootstrap not available for missing data"):
        bootstrap(res, 5, seed=1, bollen_stine=True, workers=1, progress=False)


# ------------------------------------------------------------------------ the two 60-replicate cases
REPS = json.loads((SEM / "boot_replicates.json").read_text())


def _case(key: str, name: str, missing: str, equal: list[str], rows: np.ndarray | None = None):
    """Our fit, our replicates and lavaan's (as our parameter vector), and both objectives per replicate;
    ``rows``: only these replicates (0-based) of lavaan's resamples, in this order."""
    ref = dict(REPS["cases"][key])
    if rows is not None:
        ref["coef"] = [ref["coef"][r] for r in rows]
        ref["converged"] = [ref["converged"][r] for r in rows]
        ref["B"] = len(rows)
    res = fit(REPS["model"], pd.read_csv(SEM / f"{name}.csv"), group="school", missing=missing,
              group_equal=equal)
    idx = [pd.read_csv(SEM / f"boot_{name}_g{g}.csv.gz", header=None).to_numpy(np.int64) for g in (1, 2)]
    if rows is not None:
        idx = [i[rows] for i in idx]
    boot = bootstrap(res, indices=idx, workers=1, progress=False)
    pt, names = res.partable, res._names()
    cols = [int(pt[(pt["lhs"] == lhs) & (pt["op"] == op) & (pt["rhs"] == rhs) & (pt["group"] == g)]
                .iloc[0]["free"]) - 1
            for lhs, op, rhs, g in zip(ref["lhs"], ref["op"], ref["rhs"], ref["group"], strict=True)]
    lav = np.full((ref["B"], len(names)), np.nan)
    lav[:, cols] = np.asarray(ref["coef"], dtype=float)  # equality-constrained copies land on one column
    ours = boot.replicates[names].to_numpy()
    parts = [np.asarray(b.raw, dtype=float) for b in res.stats.groups]
    spec = bb.BlockSpec(copy.deepcopy(res.mg), parts, missing != "listwise", [], list(res.mg.ov),
                        res.theta.copy(), np.array([], int), np.array([], int), list(res.stats.groups))
    blocks = [[bb._block(spec, g, parts[g][idx[g][b]], False) for g in range(2)] for b in range(ref["B"])]
    f_ours = np.array([total_f(spec.mg, bl, t) if np.isfinite(t).all() else np.nan
                       for bl, t in zip(blocks, ours, strict=True)])
    f_lav = np.array([total_f(spec.mg, bl, t) for bl, t in zip(blocks, lav, strict=True)])
    return ref, spec.mg, blocks, ours, lav, f_ours, f_lav, np.asarray(ref["converged"], dtype=bool)


def _stationary_and_reproducible(mg, blocks, theta_lav, f_lav, theta_ours) -> None:
    """Both solutions are stationary points of the same likelihood, and ours, started at lavaan's, stays
    at lavaan's optimum: a different local optimum, not a failure of either optimiser."""
    assert np.abs(total_gradient(mg, blocks, theta_ours)).max() < 1e-6
    assert np.abs(total_gradient(mg, blocks, theta_lav)).max() < 1e-3  # lavaan stops at rel. change 1e-10
    again = estimate(mg, blocks, theta_lav)
    assert again.converged and abs(again.fml - f_lav) < 1e-8


def test_complete_configural_replicates_equal_lavaan_where_both_reach_one_optimum():
    """hs_complete, configural, B = 60. Excluded from the SE comparison: the 19 replicates neither program
    fits (lavaan: not converged; ours: failed, the same ones) and replicates 27 and
    42, where the two optimisers end in different local optima from the same start (27: ours is the
    higher likelihood, F .9292 vs lavaan's .9648; 42: lavaan's, .9511 vs ours .9540). On the other 39
    the objective agrees to 1e-8 and the estimates within 1e-3 (replicate 2 is a Heywood ridge, x3~~x3 =
    -6.4, visual=~x3 = 14.1: within 1e-3 relative there), and so do the bootstrap SEs."""
    converged = np.asarray(REPS["cases"]["hs_complete_configural"]["converged"], dtype=bool)
    assert int((~converged).sum()) == 19
    # every failing replicate costs each fallback optimiser its full iteration budget: the 41 replicates
    # lavaan fits are refitted here (that ours fail on exactly lavaan's 19: test_engine_bootstrap.py's
    # test_replicates_equal_lavaan_refits_on_identical_resamples)
    rows = np.flatnonzero(converged)
    ref, mg, blocks, ours, lav, f_ours, f_lav, lav_ok = _case("hs_complete_configural", "hs_complete",
                                                             "listwise", [], rows=rows)
    ours_ok = np.isfinite(ours).all(axis=1)
    assert lav_ok.all() and ours_ok.all()
    both = ours_ok & lav_ok
    same = both & (np.abs(f_ours - f_lav) < 1e-8)
    differ = [int(np.flatnonzero(rows == r - 1)[0]) for r in (27, 42)]
    assert list(rows[both & ~same] + 1) == [27, 42]
    assert int(same.sum()) == 39
    np.testing.assert_allclose(ours[same], lav[same], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(ours[same].std(axis=0, ddof=1), lav[same].std(axis=0, ddof=1), atol=1e-3)
    assert f_ours[differ[0]] < f_lav[differ[0]] - 0.03 and f_ours[differ[1]] > f_lav[differ[1]] + 0.002
    for b in differ:
        _stationary_and_reproducible(mg, blocks[b], lav[b], f_lav[b], ours[b])


def test_fiml_scalar_replicates_equal_lavaan_and_ours_is_the_better_optimum_where_they_differ():
    """hs_mar, FIML, loadings + intercepts equal, B = 60: every replicate converges in both programs. In
    replicate 26 lavaan ends at a lower likelihood (our objective at its estimates exceeds ours by 0.0095)
    and is excluded; on the other 59 the estimates agree within 1e-3 and so do the bootstrap SEs."""
    ref, mg, blocks, ours, lav, f_ours, f_lav, lav_ok = _case("hs_mar_scalar", "hs_mar", "fiml",
                                                             ["loadings", "intercepts"])
    assert lav_ok.all() and np.isfinite(ours).all()
    differ = np.flatnonzero(np.abs(ours - lav).max(axis=1) > 1e-3)
    assert list(differ + 1) == [26]
    assert f_ours[25] < f_lav[25] - 0.005  # ours: the higher log-likelihood
    keep = np.ones(ref["B"], dtype=bool)
    keep[25] = False
    assert np.abs(f_ours[keep] - f_lav[keep]).max() < 1e-7
    np.testing.assert_allclose(ours[keep], lav[keep], atol=1e-3)
    np.testing.assert_allclose(ours[keep].std(axis=0, ddof=1), lav[keep].std(axis=0, ddof=1), atol=1e-3)
    _stationary_and_reproducible(mg, blocks[25], lav[25], f_lav[25], ours[25])
