"""Every syntax feature and partable option against lavaan 0.6.14's own tables (lavaanify, as lavaan()
builds them for sem()/cfa()/growth()); fixtures: tests/fixtures/language_syntax/make_partables.R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from survey.errors import SurveyInputError
from survey.sem.syntax import lavaanify

FIXTURES = Path(__file__).parent / "fixtures" / "language_syntax"
CASES = json.loads((FIXTURES / "cases.json").read_text())
REFERENCE = json.loads((FIXTURES / "partables.json").read_text())["cases"]
COLUMNS = ["id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "plabel"]


def _options(case: dict) -> dict:
    opts = {k.replace(".", "_"): v for k, v in case.get("options", {}).items()}
    if case.get("growth"):
        opts["model_type"] = "growth"
    if case.get("ngroups"):
        opts["ngroups"] = case["ngroups"]
    return opts


def _value(v):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None  # jsonlite writes NA and +-Inf as null
    return v


def _rows(table, columns) -> list[tuple]:
    return [tuple(_value(r[c]) for c in columns) for r in table]


@pytest.mark.parametrize("ceq_simple", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_partable_equals_lavaan(name, ceq_simple):
    ref = REFERENCE[name]["ceq_simple" if ceq_simple else "lavaan"]
    if ceq_simple and any(r["op"] in ("==", "<", ">") and r["user"] == 1 for r in ref):
        pytest.skip("lavaan turns ceq.simple off when the model has explicit constraints")
    ours = lavaanify(CASES[name]["model"], ceq_simple=ceq_simple, **_options(CASES[name]))
    columns = COLUMNS + [c for c in ("lower", "upper") if c in ref[0]]
    assert list(ours.columns) == columns
    got = _rows(ours.to_dict("records"), columns)
    want = _rows(ref, columns)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == w


def test_default_table_shares_labels_and_merges_simple_equalities():
    pt = lavaanify("f =~ x1 + a*x2 + b*x3 + c*x4\nb == c\nd := a*b")
    loadings = pt[pt.op == "=~"]
    free = dict(zip(loadings.rhs, loadings.free, strict=True))
    assert free["x3"] == free["x4"] != free["x2"]
    assert not (pt.op == "==").any()  # merged, not kept as a row
    assert list(loadings.label) == ["", "a", "b", "c"]


def test_nonlinear_constraint_is_kept_as_a_row():
    pt = lavaanify("f =~ x1 + a*x2 + b*x3\na == b^2\na + b < 1")
    rows = pt[pt.op.isin(["==", "<"])]
    assert list(zip(rows.lhs, rows.op, rows.rhs, strict=True)) == [("a", "==", "b^2"), ("a+b", "<", "1")]
    assert (rows.block == 0).all() and (rows.free == 0).all()


@pytest.mark.parametrize(
    "text, where",
    [
        ("f =~ x1 + x2\nf =~ x3 + bad(1)*x4", "line 2"),
        ("f =~ x1 + x2\n\nf ~~ c(a, b)*f", "line 3"),
        ("f =~ x1 + a*x2\nz := a*q", "line 2"),
        ("f =~ x1 + a*x2\nq > 0", "line 2"),
        ("f =~ x1 +\n  x2 + 2x", "line 1"),
        ("f =~ f + x1", "line 1"),
        ("x1 + x2", "line 1"),
    ],
)
def test_syntax_errors_name_the_line(text, where):
    with pytest.raises(SurveyInputError, match=where):
        lavaanify(text)


def test_refusal_lists_the_available_modifiers():
    with pytest.raises(SurveyInputError, match=r"available: c\(\), start\(\), label\(\)"):
        lavaanify("f =~ x1 + foo(1)*x2")


def test_rv_modifier_lavaan_has_is_refused_by_name():
    with pytest.raises(SurveyInputError, match=r"rv\(\) .* not available yet \(available"):
        lavaanify('f =~ x1 + rv("r")*x2 + x3')


def test_efa_modifier_belongs_on_the_factor():
    """efa("b") blocks are parsed (tests/test_efa_blocks.py); on an indicator it is an error, as in lavaan."""
    pt = lavaanify('efa("b1")*f1 + efa("b1")*f2 =~ x1 + x2 + x3 + x4')
    assert set(pt.loc[pt["op"] == "=~", "efa"]) == {"b1"}
    with pytest.raises(SurveyInputError, match="left-hand side of =~"):
        lavaanify('f =~ x1 + efa("b")*x2 + x3')


def test_prior_is_kept_and_ignored_as_lavaan_does():
    """lavaan 0.6.14 stores prior() for blavaan; its ML fit is the fit without it."""
    pt = lavaanify('f =~ x1 + prior("normal(0,1)")*x2 + x3')
    assert list(pt.loc[pt["op"] == "=~", "rhs"]) == ["x1", "x2", "x3"]
    assert pt.equals(lavaanify("f =~ x1 + x2 + x3"))


def test_vector_modifier_needs_one_value_per_group():
    with pytest.raises(SurveyInputError, match="2 given, 3 group"):
        lavaanify("f =~ x1 + c(a, b)*x2 + x3", ngroups=3)


def test_chained_modifiers_keep_label_and_start():
    # lavaan 0.6.14 drops the start value of 'start(0.5)*a*x2' (it keeps the label); the start only
    # changes where the optimiser begins, so we keep both
    pt = lavaanify("f =~ x1 + start(0.5)*a*x2 + x3")
    row = pt[pt.rhs == "x2"].iloc[0]
    assert row.label == "a" and row.ustart == 0.5 and row.free > 0


def test_group_blocks_parse_and_other_blocks_are_refused_with_the_alternative():
    pt = lavaanify("group: 1\nf =~ x1 + x2 + x3\ngroup: 2\nf =~ x1 + x2 + x3")
    assert list(pt["group"].unique()) == [1, 2] and len(pt) == 14
    with pytest.raises(SurveyInputError, match=r"line 1: block syntax .* c\(\.\.\.\)"):
        lavaanify("class: 1\nf =~ x1 + x2 + x3\nclass: 2\nf =~ x1 + x2 + x3")
    two_level = r"line 1: level: blocks are fitted by survey.fit\(model, data, cluster=\.\.\.\)"
    with pytest.raises(SurveyInputError, match=two_level):  # two-level models: survey.sem.multilevel
        lavaanify("level: 1\nf =~ x1 + x2 + x3\nlevel: 2\nf =~ x1 + x2 + x3")
