"""Block syntax ``group: NAME`` / ``group: 1`` against lavaan 0.6.14 (tests/fixtures/language/
make_blocks.R -> blocks.json): each group's own model, labels shared between blocks as one parameter,
ML / MLR / FIML; group_equal with blocks is ignored with a warning (as lavaan 0.6.14 ignores it); blocks out
of the data's group order (paired by position by lavaan) are refused with a one-line error."""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.results.fit_adapter import all_fit_measures
from survey.sem.syntax import lavaanify

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "blocks.json").read_text())
DATA = {name: pd.read_csv(HERE / path) for name, path in REF["data"].items()}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
REFUSED = {"blk_out_of_order": "model"}


@cache  # each case fitted once per module (the tests only read the result)
def _run(name: str):
    call = REF["cases"][name]["call"]
    fun, model, data, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    opts = {key.replace(".", "_"): value for key, value in re.findall(r'([\w.]+) = "([^"]*)"', rest)}
    if opts.get("missing") == "ml":
        opts["missing"] = "fiml"
    return survey.cfa(REF["models"][model], DATA[data], **opts)


def test_group_equal_with_blocks_is_ignored_with_a_warning_as_lavaan():
    """lavaan 0.6.14 ignores group.equal with block syntax (blk_group_equal = blk_names there)."""
    res = _run("blk_group_equal")
    assert [w for w in res.warnings if w.code == "group_equal_ignored" and "block" in w.message]
    plain = _run("blk_names")
    np.testing.assert_allclose(res.estimates()["est"], plain.estimates()["est"], atol=1e-10)


@pytest.mark.parametrize("name", sorted(set(REF["cases"]) - set(REFUSED)))
def test_block_syntax_equals_lavaan(name):
    case = REF["cases"][name]
    res = _run(name)
    fm = all_fit_measures(res)
    for key, value in case["fit_measures"].items():
        if value is None or not isinstance(value, (int, float)) or key not in fm:
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
    ours = res.estimates()
    ref = pd.DataFrame(case["estimates"])
    ref["group"] = ref["group"].map(lambda g: g if isinstance(g, int) else case["group_labels"].index(g) + 1)
    both = ours.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_ref"))
    assert len(both) == len(ref) == len(ours)
    for col in ("est", "se", "std.all"):
        want = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want[ok], atol=1e-3, err_msg=col)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_block_syntax_refusals(name):
    with pytest.raises(SurveyInputError) as info:
        _run(name)
    text = str(info.value)
    assert info.value.field == REFUSED[name] and ("available" in text or "order" in text)
    assert len(str(info.value).splitlines()) == 1


def test_block_table_matches_lavaans_partable():
    """Rows per group in lavaan's order, the shared label one parameter, group 2's extra rows."""
    for name, model in (("blk_names", "names"), ("blk_numbers", "numbers")):
        want = pd.DataFrame(REF["cases"][name]["partable"])
        want = want[want["op"] != "=="].reset_index(drop=True)
        ours = lavaanify(REF["models"][model], int_ov_free=True, auto_fix_first=True, auto_fix_single=True,
                         auto_var=True, auto_cov_lv_x=True, auto_cov_y=True, meanstructure=True)
        assert list(ours["lhs"] + ours["op"] + ours["rhs"]) == list(want["lhs"] + want["op"] + want["rhs"])
        assert list(ours["user"]) == list(want["user"])
        assert list(ours["free"] > 0) == list(want["free"] > 0)
        assert sorted(set(ours["group"])) == [1, 2]


def test_block_errors_name_the_line():
    hs = DATA["hs"]
    with pytest.raises(SurveyInputError, match="line 1: a formula before the first"):
        survey.cfa("visual =~ x1 + x2 + x3\ngroup: 1\nvisual =~ x1 + x2 + x3", hs, group="school")
    with pytest.raises(SurveyInputError, match="defines 2 group block"):
        survey.cfa("group: 1\nvisual =~ x1 + x2 + x3\ngroup: 2\nvisual =~ x1 + x2 + x3", hs)
    with pytest.raises(SurveyInputError, match="names no group of the data") as info:
        survey.cfa("group: Paris\nvisual =~ x1 + x2 + x3\ngroup: 2\nvisual =~ x1 + x2 + x3", hs,
                   group="school")
    assert "Pasteur" in str(info.value)
    with pytest.raises(SurveyInputError, match="level:"):
        survey.cfa("level: 1\nvisual =~ x1 + x2 + x3", hs)
    # ordered items take group: blocks too (tests/test_ordinal_missing.py: = lavaan); here saturated, df 0
    # (three categories, each present in both groups: an empty one in a group is refused, as lavaan does)
    cut = hs.assign(**{c: pd.qcut(hs[c], 3, labels=False) + 1 for c in ("x1", "x2", "x3")})
    res = survey.cfa("group: 1\nvisual =~ x1 + x2 + x3\ngroup: 2\nvisual =~ x1 + x2 + x3", cut,
                     group="school", ordered=["x1", "x2", "x3"])
    assert res.fit_measures()["df"] == 0 and res.fit_measures()["cfi.robust"] == pytest.approx(1.0)
    with pytest.raises(SurveyInputError, match="same variables"):
        survey.cfa("group: 1\nvisual =~ x1 + x2 + x3\ngroup: 2\nvisual =~ x1 + x2 + x4", hs, group="school")
