"""lower()/upper() bounds inside bootstrap replicates against lavaan 0.6.14 on lavaan's OWN resamples
(tests/fixtures/engine/boot_bounds.json, make_boot_bounds.R: the indices lavaan drew, recovered from
lav_bootstrap_internal with keep.idx and checked to reproduce lavaan's reported SEs / replicate statistics;
boot_bounds_<case>_g<g>.csv.gz). lavaan's replicates refit the same parameter table, lower/upper included,
so each replicate stays inside the box (survey.sem.bootstrap_bounds): one group, a bound on a variance, two
groups, FIML, and the Bollen-Stine test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.bootstrap import bootstrap

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "boot_bounds.json").read_text())
MODELS = REF["models"]
DATA = {"hs": pd.read_csv(HERE / "hs39.csv"), "mar": pd.read_csv(HERE / "hs39_mar.csv")}
CASES = {
    "bnd_single": ("up", "hs", {}, "textual=~x5", 1.0),
    "bnd_lower": ("low", "hs", {}, "x3~~x3", 0.9),
    "bnd_mg": ("up", "hs", {"group": "school"}, "textual=~x5", 1.0),
    "bnd_fiml": ("up", "mar", {"missing": "fiml"}, "textual=~x5", 1.0),
}


def _indices(case: str, groups: int) -> np.ndarray | list[np.ndarray]:
    out = [pd.read_csv(HERE / f"boot_bounds_{case}_g{g}.csv.gz", header=None).to_numpy(np.int64)
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


@pytest.mark.parametrize("case", list(CASES))
def test_bounded_bootstrap_replicates_equal_lavaan(case):
    model, data, options, bounded, bound = CASES[case]
    ref = REF["cases"][case]
    res = fit(MODELS[model], DATA[data], **options)
    boot = bootstrap(res, indices=_indices(case, 2 if "group" in options else 1), workers=1, progress=False)
    cols = _columns(res, ref["boot_se"])
    lav = np.asarray(ref["boot_coef"], dtype=float)
    ours = boot.replicates[cols].to_numpy()
    assert not np.isnan(ours).any() and not ref["failed"]  # every replicate converged, in both
    np.testing.assert_allclose(ours, lav, atol=1e-3)
    np.testing.assert_allclose(boot.se()[cols].to_numpy(), ref["boot_se"]["se"], atol=1e-4)
    # the bound holds in every replicate and is active in most (lavaan's too): not the unbounded refits
    at = [c for c in cols if c.split(".")[0] == bounded]
    vals = boot.replicates[at].to_numpy()
    side = 1.0 if model == "up" else -1.0
    assert (side * (vals - bound)).max() <= 1e-8
    assert (np.abs(vals - bound) < 1e-6).mean() > 0.4
    assert ((np.abs(lav[:, [cols.index(c) for c in at]] - bound) < 1e-6)
            == (np.abs(vals - bound) < 1e-6)).all()


def test_bounded_bollen_stine_replicates_equal_lavaan():
    ref = REF["cases"]["bnd_bs"]
    res = fit(MODELS["up"], DATA["hs"])
    boot = bootstrap(res, indices=_indices("bnd_bs", 1), bollen_stine=True, workers=1, progress=False)
    bs = ref["bollen_stine"]
    np.testing.assert_allclose(boot.chisq, bs["boot_T"], atol=1e-3)
    assert boot.bollen_stine_pvalue == pytest.approx(bs["pvalue"], abs=1e-12)
    assert boot.replicates["textual=~x5"].max() <= 1.0 + 1e-8


def test_bounds_with_the_bootstrap_through_fit_as_lavaan_options():
    """se="bootstrap" and test="bollen.stine" with a bounded model are fitted (lavaan fits them), the full
    sample as the bounded fit (tests/fixtures/engine/boot_bounds.json), the replicates inside the box."""
    ref = REF["cases"]["bnd_single"]
    res = fit(MODELS["up"], DATA["hs"], se="bootstrap", bootstrap=8, seed=2)
    est = res.estimates()
    lav = pd.DataFrame(ref["estimates"])
    np.testing.assert_allclose(est["est"].to_numpy(float), lav["est"].to_numpy(float), atol=1e-3)
    assert len(res.bootstrap.ok) == 8 and res.bootstrap.ok["textual=~x5"].max() <= 1.0 + 1e-8
    names = list(res.vcov().index)
    want = res.bootstrap.ok[names].std(ddof=0).to_numpy()
    assert np.abs(np.sqrt(np.diag(res.vcov())) - want).max() < 1e-12
    bs = fit(MODELS["up"], DATA["hs"], test="bollen.stine", bootstrap=8, seed=2)
    fm = bs.fit_measures()
    assert fm["chisq"] == pytest.approx(REF["cases"]["bnd_bs"]["fit_measures"]["chisq"], abs=1e-3)
    assert 0.0 <= bs.tests()["bollen.stine"]["pvalue"] <= 1.0
