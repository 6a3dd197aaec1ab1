"""Bootstrap standard errors over ALL shared replicates against lavaan 0.6.14 refits on the same resamples
(tests/fixtures/engine/bootstrap.json, make_bootstrap.R; indices from make_indices.py): FIML (single group,
hs39_mar.csv, B = 100) and multi-group (by school, within-group resampling, B = 100). The replicates that
fail are lavaan's (replicate 65 of the multi-group case), and the SE of every free parameter (lavaan's
divisor B) equals lavaan's within 1e-3 (measured: 1.7e-7 FIML, 2.7e-5 multi-group)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.bootstrap import bootstrap

HERE = Path(__file__).parent / "fixtures" / "engine"
REF = json.loads((HERE / "bootstrap.json").read_text())


def _within_groups(data: pd.DataFrame, indices: np.ndarray, group: str) -> list[np.ndarray]:
    """The 0-based rows of each replicate split by group, as positions within the group (data order)."""
    labels = list(pd.unique(data[group]))
    code = pd.Categorical(data[group], categories=labels).codes
    position = np.zeros(len(data), dtype=np.int64)
    for g in range(len(labels)):
        position[code == g] = np.arange(int((code == g).sum()))
    return [np.vstack([position[row[code[row] == g]] for row in indices]) for g in range(len(labels))]


def _replicate_ses(res, boot, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pt, names = res.partable, res._names()
    ok = boot.replicates.loc[~boot.replicates.isna().any(axis=1)]
    out = []
    for r in rows.itertuples(index=False):
        sel = (pt["lhs"] == r.lhs) & (pt["op"] == r.op) & (pt["rhs"] == r.rhs)
        if "group" in rows:
            sel &= pt["group"] == r.group
        out.append(ok[names[int(pt[sel].iloc[0]["free"]) - 1]].std(ddof=0))  # lavaan: divisor B
    return np.asarray(out), boot.replicates.isna().any(axis=1).to_numpy()


@pytest.mark.parametrize("case", ["fiml_single", "mg_ordinary"])
def test_bootstrap_se_over_all_replicates_equals_lavaan(case):
    ref = REF["cases"][case]
    if case == "fiml_single":
        data = pd.read_csv(HERE / "hs39_mar.csv")
        res = fit(REF["model"], data, missing="fiml")
        indices = pd.read_csv(HERE / REF["index_files"]["single"], header=None).to_numpy(np.int64)
    else:
        data = pd.read_csv(HERE / "hs39.csv")
        res = fit(REF["model"], data, group="school")
        flat = pd.read_csv(HERE / REF["index_files"]["mg"], header=None).to_numpy(np.int64)
        indices = _within_groups(data, flat, "school")
    boot = bootstrap(res, indices=indices, workers=1, progress=False)
    assert boot.n_requested == ref["B"] == 100
    ses, failed = _replicate_ses(res, boot, pd.DataFrame(ref["rows"]))
    assert list(np.flatnonzero(failed) + 1) == list(np.atleast_1d(ref["failed"]))  # 1-based, as lavaan
    assert int((~failed).sum()) == ref["est"]["n_ok"]
    np.testing.assert_allclose(ses, ref["est"]["se"], atol=1e-3)


SEM = Path(__file__).parent / "fixtures" / "sem_engine"
SIXTY = json.loads((SEM / "boot_reference.json").read_text())


@pytest.mark.parametrize("case", ["hs_complete_scalar", "hs_mar_configural"])
def test_bootstrap_se_over_all_60_shared_replicates(case):
    """tests/fixtures/sem_engine/boot_reference.json (make_boot_reference.R): multi-group, complete data with
    loadings + intercepts equal and FIML configural, sd (divisor B - 1) of the converged replicates of all 60
    shared resamples. (In hs_mar_scalar lavaan's replicate 26 stops at a lower likelihood, F 0.6864 against
    ours 0.6769, and hs_complete_configural has 19 non-converged replicates; not asserted here.)"""
    kind = case.rsplit("_", 1)[1]
    name = "hs_" + case.split("_")[1]
    missing = "fiml" if name == "hs_mar" else "listwise"
    equal = ["loadings", "intercepts"] if kind == "scalar" else []
    ref = SIXTY["cases"][case]
    res = fit(SIXTY["model"], pd.read_csv(SEM / f"{name}.csv"), group="school", missing=missing,
              group_equal=equal)
    indices = [pd.read_csv(SEM / f"boot_{name}_g{g}.csv.gz", header=None).to_numpy(np.int64) for g in (1, 2)]
    boot = bootstrap(res, indices=indices, workers=1, progress=False)
    ok = boot.replicates.loc[~boot.replicates.isna().any(axis=1)]
    assert len(ok) == ref["n_ok"]
    pt, names = res.partable, res._names()
    ses = []
    for lhs, op, rhs, g in zip(ref["lhs"], ref["op"], ref["rhs"], ref["group"], strict=True):
        row = pt[(pt["lhs"] == lhs) & (pt["op"] == op) & (pt["rhs"] == rhs) & (pt["group"] == g)].iloc[0]
        ses.append(ok[names[int(row["free"]) - 1]].std(ddof=1))
    np.testing.assert_allclose(ses, ref["se"], atol=1e-3)
