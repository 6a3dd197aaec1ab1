"""lavaan syntax -> parameter table: rows, order, free/fixed and labels as lavaan's parTable()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from survey.errors import SurveyInputError
from survey.sem.syntax import lavaanify, parse_syntax

FIXTURES = Path(__file__).parent / "fixtures" / "sem"
MODELS = json.loads((FIXTURES / "models.json").read_text())
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


@pytest.mark.parametrize("case", list(MODELS))
def test_partable_matches_lavaan(case):
    ours = lavaanify(MODELS[case]["model"])
    ref = [r for r in REFERENCE["cases"][case]["partable"] if r["op"] != "=="]
    assert list(zip(ours.lhs, ours.op, ours.rhs, strict=True)) == [(r["lhs"], r["op"], r["rhs"]) for r in ref]
    assert [bool(f) for f in ours.free] == [r["free"] > 0 for r in ref]
    assert list(ours.user) == [r["user"] for r in ref]
    assert list(ours.exo) == [r["exo"] for r in ref]
    assert list(ours.label) == [r["label"] for r in ref]


def test_modifiers_and_continuation_lines():
    pt = lavaanify("f =~ NA*x1 + a*x2 +\n  0.5*x3\nf ~~ 1*f\nx1 ~~ x2  # comment\n")
    rows = {(r.lhs, r.op, r.rhs): r for r in pt.itertuples()}
    assert rows[("f", "=~", "x1")].free > 0
    assert rows[("f", "=~", "x2")].label == "a"
    assert rows[("f", "=~", "x3")].free == 0 and rows[("f", "=~", "x3")].ustart == 0.5
    assert rows[("f", "~~", "f")].free == 0 and rows[("f", "~~", "f")].ustart == 1.0
    assert ("x1", "~~", "x2") in rows


def test_equality_constraint_between_labels():
    pt = lavaanify("f =~ x1 + a*x2 + b*x3\na == b")
    assert pt.loc[pt.rhs == "x2", "free"].iloc[0] == pt.loc[pt.rhs == "x3", "free"].iloc[0]


def test_intercepts_switch_on_the_mean_structure():
    pt = lavaanify("f =~ x1 + x2 + x3\nx1 ~ 1")
    means = pt[pt.op == "~1"]
    assert set(means.lhs) == {"x1", "x2", "x3", "f"}
    assert means.loc[means.lhs == "f", "free"].iloc[0] == 0


@pytest.mark.parametrize("text", ["", "f =~", "f =~ x1 + foo(1)*x2", "a < b", "f =~ x1 + 2x"])
def test_bad_syntax(text):
    with pytest.raises(SurveyInputError):
        parse_syntax(text) if text else lavaanify(text)
        lavaanify(text)
