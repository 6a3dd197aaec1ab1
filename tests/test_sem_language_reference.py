"""The fixtures helper's lavaan 0.6.14 references for issue 15 (tests/fixtures/language/, make_reference.R):
every call is run through survey.fit / cfa / sem / growth with the same options. Each case either equals
lavaan (estimates, SEs, std.all within 1e-3; every fitMeasures() entry within 1e-3, logl/AIC/BIC 1e-5) or
is refused with a one-line SurveyInputError naming what is available -- never silently different."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError
from survey.sem.results.fit_adapter import all_fit_measures

HERE = Path(__file__).parent / "fixtures" / "language"
REF = json.loads((HERE / "reference.json").read_text())
DATA = {"hs": "hs39.csv", "pd": "pd.csv", "dg": "demo_growth.csv"}
LAVAAN_DEFAULTS = dict(int_ov_free=False, int_lv_free=False, auto_fix_first=False, auto_fix_single=False,
                       auto_var=False, auto_cov_lv_x=False, auto_cov_y=False)  # lavaan() without auto
REFUSED: dict[str, str] = {}  # not available in the engine: refused, with the field named
# lavaan warns too; the estimates are arbitrary (the fit measures still equal lavaan's)
NOT_IDENTIFIED = {"lavaan_no_fix_first", "lavaan_single_nofix"}
TIGHT = ("logl", "unrestricted.logl", "aic", "bic", "bic2")
# engine-side deviations left to the engine rewrite (issue 14): none left (the MLR H0 scaling factor of a
# model with equality-constrained labels now divides by lavaan's nx.free)
ENGINE_KNOWN: dict[str, set[str]] = {}


def _call(call: str):
    fun, model, data, rest = re.match(r"(\w+)\(models\$(\w+), (\w+)(.*)\)$", call).groups()
    opts = {}
    for key, value in re.findall(r"([\w.]+) = (\"[^\"]*\"|TRUE|FALSE|[-\d.]+)", rest):
        opts[key.replace(".", "_")] = (value == "TRUE" if value in ("TRUE", "FALSE")
                                       else value.strip('"') if value.startswith('"') else float(value))
    if fun == "lavaan":
        opts = {**LAVAAN_DEFAULTS, **opts}
    runner = {"lavaan": survey.fit, "sem": survey.sem, "cfa": survey.cfa, "growth": survey.growth}[fun]
    return runner, REF["models"][model], pd.read_csv(HERE / DATA[data]), opts


@pytest.mark.parametrize("name", list(REF["cases"]))
def test_reference_case(name):
    case = REF["cases"][name]
    runner, model, data, opts = _call(case["call"])
    if name in REFUSED:
        with pytest.raises(SurveyInputError) as info:
            runner(model, data, **opts)
        assert info.value.field == REFUSED[name] and "available" in str(info.value)
        return
    res = runner(model, data, **opts)
    fm, want = all_fit_measures(res), case["fit_measures"]
    for key, value in want.items():
        if value is None or not isinstance(value, (int, float)) or key not in fm \
                or key in ENGINE_KNOWN.get(name, ()):
            continue
        tol = 1e-5 if key in TIGHT else 1e-3
        assert fm[key] == pytest.approx(value, abs=tol) or (math.isnan(fm[key]) and math.isnan(value)), key
    if name in NOT_IDENTIFIED:
        assert any(w.code == "not_identified" or "identif" in w.message for w in res.warnings)
        return
    ours = res.estimates()
    ref = pd.DataFrame(case["estimates"])
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in ref and "group" in ours else [])
    both = ours.merge(ref, on=keys, suffixes=("", "_ref"))
    assert len(both) == len(ref)
    for col in ("est", "se", "std.all"):
        want_c = both[f"{col}_ref"].to_numpy(dtype=float)
        ok = np.isfinite(want_c)
        np.testing.assert_allclose(both[col].to_numpy(dtype=float)[ok], want_c[ok], atol=1e-3, err_msg=col)
