"""Partial invariance of ordered items (``survey invariance --ordered``, survey/sem/ordinal/partial.py):
on bfi with non-invariance planted in group 2 (every other A1 = 2 recoded 5, every other C5 = 5 recoded 2)
the thresholds step fails, the constraints with the largest expected chi-square decrease are released one
at a time until Chen's rule passes, and the released models and their difference tests equal lavaan 0.6.14
with the same ``group.partial`` (tests/fixtures/ordinal_missing/make_reference.R, ``partial``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem.ordinal.invariance import ordinal_invariance
from survey.sem.ordinal.multigroup import fit_ordinal_groups
from survey.sem.ordinal.partial import release_candidates

FIXTURES = Path(__file__).parent / "fixtures"
REF = json.loads((FIXTURES / "ordinal_missing" / "reference.json").read_text())["partial"]
MODEL = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\n"


def planted() -> pd.DataFrame:
    data = pd.read_csv(FIXTURES / "ordinal" / "bfi.csv")
    g2 = data["gender"] == 2
    for item, old, new in (("A1", 2, 5), ("C5", 5, 2)):
        rows = np.flatnonzero(g2 & (data[item] == old))
        data.loc[data.index[rows[::2]], item] = new
    return data


DATA = planted()


@cache
def sequence():
    return ordinal_invariance(MODEL, DATA, "gender")


def test_failed_thresholds_step_is_released_until_it_passes():
    seq = sequence()
    models = [s["model"] for s in seq.steps]
    assert models == ["configural", "thresholds", "thresholds (partial 1)", "thresholds (partial 2)",
                      "thresholds (partial 3)", "loadings"]
    decisions = [s["decision"] for s in seq.steps]
    assert decisions == ["reference"] + ["not invariant"] * 3 + ["invariant", "invariant"]
    assert seq.freed == {"configural": [], "thresholds": REF["released"], "loadings": REF["released"]}
    assert seq.steps[-1]["freed"] == REF["released"]  # released constraints stay released
    assert "Released (thresholds): A1|t5, C5|t4, A4|t5" in seq.summary()


def test_released_models_and_difference_tests_equal_lavaan():
    seq = {s["model"]: s for s in sequence().steps}
    for ours, theirs, lrt in (("thresholds (partial 3)", "thresholds", "lrt_thresholds"),
                              ("loadings", "loadings", "lrt_loadings")):
        row, ref = seq[ours], REF[theirs]["fit_measures"]
        assert row["chisq"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)
        assert row["df"] == ref["df"]
        for mine, name in (("cfi", "cfi.scaled"), ("rmsea", "rmsea.scaled"), ("srmr", "srmr")):
            assert row[mine] == pytest.approx(ref[name], abs=1e-6), (ours, mine)
        assert row["lrt.chisq"] == pytest.approx(REF[lrt]["chisq"], rel=1e-6)
        assert row["lrt.df"] == REF[lrt]["df"]
        assert row["lrt.pvalue"] == pytest.approx(REF[lrt]["pvalue"], rel=1e-5)
    est = sequence().fits["thresholds (partial 3)"].estimates().set_index(["lhs", "op", "rhs", "group"])
    want = pd.DataFrame(REF["thresholds"]["estimates"]).set_index(["lhs", "op", "rhs", "group"])
    m = est.join(want.add_suffix("_r"), how="inner")
    assert len(m) == len(want)
    assert np.abs(m["est"] - m["est_r"]).max() < 1e-4 and np.abs(m["se"] - m["se_r"]).max() < 1e-4


def test_expected_decrease_ranks_the_releases_and_matches_the_refit():
    fit = fit_ordinal_groups(MODEL, DATA, "gender", group_equal=("thresholds",))
    cand = release_candidates(fit, "thresholds")
    assert list(cand["name"][:3]) == REF["released"]  # here the refits keep the first ranking's order
    assert (cand["df"] == 1).all() and cand["mi"].is_monotonic_decreasing
    assert len(cand) == 50  # every threshold of the 10 six-category items
    # an item keeps one threshold equal across groups: with four of A1's released, A1|t5 is no candidate
    four = tuple(f"A1|t{k}" for k in range(1, 5))
    rest = release_candidates(fit_ordinal_groups(MODEL, DATA, "gender", group_equal=("thresholds",),
                                                 group_partial=four), "thresholds")
    assert "A1" not in set(rest["lhs"]) and len(rest) == 45
    top = cand.iloc[0]
    refit = fit_ordinal_groups(MODEL, DATA, "gender", group_equal=("thresholds",),
                               group_partial=(top["name"],))
    drop = fit.fit_measures()["chisq"] - refit.fit_measures()["chisq"]
    assert top["mi"] == pytest.approx(drop, rel=0.05)  # the quadratic model of the DWLS statistic
    metric = fit_ordinal_groups(MODEL, DATA, "gender", group_equal=("thresholds", "loadings"))
    loads = release_candidates(metric, "loadings")
    assert set(loads["op"]) == {"=~"} and len(loads) == 8  # the free loadings, first ones fixed at 1


def test_without_partial_the_sequence_stops_at_the_failed_step():
    seq = ordinal_invariance(MODEL, DATA, "gender", partial=False)
    assert [s["model"] for s in seq.steps] == ["configural", "thresholds"]
    assert seq.steps[-1]["decision"] == "not invariant" and "not tenable" in seq.warnings[-1]
