"""lavaanify() of the fixtures helper's syntax cases (tests/fixtures/language/lavaanify.json from
make_lavaanify.R: lavaanify()'s all-FALSE defaults, sem()-like and growth()-like flags, groups, vectors,
constraints): our table equals lavaan's row by row, or the option is refused naming what is available."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from survey.errors import SurveyInputError
from survey.sem.syntax import lavaanify

REF = json.loads((Path(__file__).parent / "fixtures" / "language" / "lavaanify.json").read_text())
COLUMNS = ["id", "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "plabel"]
# lavaanify()'s defaults: everything off (our lavaanify defaults to sem()'s)
BARE = dict(meanstructure=False, int_ov_free=False, int_lv_free=False, std_lv=False, orthogonal=False,
            fixed_x=False, auto_fix_first=False, auto_fix_single=False, auto_var=False, auto_cov_lv_x=False,
            auto_cov_y=False, ceq_simple=False)
SEM = dict(int_ov_free=True, auto_fix_first=True, auto_fix_single=True, auto_var=True, auto_cov_lv_x=True,
           auto_cov_y=True)


def _options(args) -> dict:
    opts = dict(BARE)
    for key, value in (args or {}).items():
        if key == "auto":
            opts.update(SEM, fixed_x=False)
            continue
        key = key.replace(".", "_")
        if key in ("group_equal", "group_partial"):
            value = [value] if isinstance(value, str) else list(value)
        opts[key] = value
    return opts


def _value(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


@pytest.mark.parametrize("name", list(REF["cases"]))
def test_lavaanify_equals_lavaan(name):
    case = REF["cases"][name]
    model = REF["models"][case["model"]]
    opts = _options(case["args"])
    if "error" in case or set(opts) - set(BARE) - {"ngroups", "group_equal", "group_partial"}:
        with pytest.raises(SurveyInputError) as info:
            lavaanify(model, **opts)
        assert "available" in str(info.value) or "group" in str(info.value)
        return
    ours = lavaanify(model, **opts).to_dict("records")
    want = case["table"]
    assert [tuple(_value(r[c]) for c in COLUMNS) for r in ours] == [
        tuple(_value(r[c]) for c in COLUMNS) for r in want]
