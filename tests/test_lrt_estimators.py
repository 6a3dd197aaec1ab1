"""lav_test_lrt (lavaan's lavTestLRT) of nested fits with the other estimators, lavaan 0.6.14's default
method: the standard difference with its RMSEA and no AIC / BIC (GLS, ULS, DWLS, WLS), Satorra-Bentler
(2001) (ULSM, WLSM) and Satorra (2000) (MLMV, MLMVS, WLSMV, ULSMV, WLSMVS: survey.sem.results.difference;
ordered items: survey.sem.ordinal.difftest), one and two groups, labels, group.equal, explicit equalities,
fixed.x covariates, three models
(tests/fixtures/lrt_estimators/make_lrt_estimators.R -> lrt_estimators.json); and the LR test of equal
paths (compare_paths) with them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from survey import cfa
from survey.errors import SurveyInputError
from survey.sem.results.lrt import lav_test_lrt

HERE = Path(__file__).parent / "fixtures" / "lrt_estimators"
REF = json.loads((HERE / "lrt_estimators.json").read_text())
DATA = pd.read_csv(HERE / "hs.csv")
ORDERED = pd.read_csv(HERE / "hs_ord.csv")


def _fit(case, fit):
    kw = {"estimator": case["estimator"]}
    data = DATA
    if case.get("ordered"):
        kw["ordered"], data = [f"x{i}" for i in range(1, 10)], ORDERED
    if case["group"]:
        kw.update(group=case["group"], group_equal=[e for e in fit["equal"] if e] if isinstance(
            fit["equal"], list) else [fit["equal"]] if fit["equal"] else [])
    if case["fixed_x"] is True:
        kw["fixed_x"] = True
    return cfa(REF["models"][fit["model"]], data, **kw)


@pytest.fixture(scope="module", params=sorted(REF["cases"]))
def case(request):
    c = REF["cases"][request.param]
    fits = [_fit(c, f) for f in c["fits"]]
    return c, lav_test_lrt(*fits, names=[f"m{i + 1}" for i in range(len(fits))])


def _close(got, want, tol):
    if want is None:
        return isinstance(got, float) and math.isnan(got)
    return got == pytest.approx(want, abs=tol, rel=1e-6)


def test_lrt_table_equals_lavaan(case):
    ref, table = case
    assert list(table.index) == list(ref["table"])  # lavaan's order by df
    scaled = "Scaled" in ref["heading"]
    assert ("RMSEA" in table.columns) == (not scaled)
    for name, row in ref["table"].items():
        got = table.loc[name]
        assert got["Df"] == row["Df"]
        assert _close(got["Chisq"], row["Chisq"], 1e-3), name
        assert _close(got["Chisq diff"], row["Chisq diff"], 1e-3), name
        assert _close(got["Df diff"], row["Df diff"], 1e-9), name
        assert _close(got["Pr(>Chisq)"], row["Pr(>Chisq)"], 1e-4), name
        assert _close(got["AIC"], row["AIC"], 1e-5), name  # NA for the least-squares estimators
        if not scaled:
            assert _close(got["RMSEA"], row["RMSEA"], 1e-4), name
    method = "satorra.2000" if "satorra.2000" in ref["heading"] else "satorra.bentler.2001" if scaled \
        else "standard"
    assert table.attrs["method"] == method


MODEL = "vis =~ x1 + x2 + x3\ntext =~ x4 + x5 + x6\nx9 ~ vis + text"


@pytest.mark.parametrize("estimator", ["GLS", "WLSMV"])
def test_equal_paths_lr_test_is_lav_test_lrt(estimator):
    """compare_paths(data=...) gives the LR test of equal paths, the same numbers as lav_test_lrt of the
    two fits (the standard difference for GLS, satorra.2000 for WLSMV)."""
    res = cfa(MODEL, DATA, estimator=estimator)
    out = res.compare_paths("x9", data=DATA)
    assert out.lrt is not None
    equal = cfa(out.lrt.model_equal, DATA, estimator=estimator)
    row = lav_test_lrt(res, equal).iloc[1]
    assert out.lrt.chisq_diff == pytest.approx(row["Chisq diff"], rel=1e-9)
    assert out.lrt.df_diff == row["Df diff"] == 1
    assert out.lrt.method == lav_test_lrt(res, equal).attrs["method"]


def test_mixed_scaled_and_unscaled_refused_as_lavaan():
    one = cfa(REF["models"]["cfa3"], DATA, estimator="MLMV")
    two = cfa(REF["models"]["label"], DATA, estimator="ML")
    with pytest.raises(SurveyInputError, match="some models \\(but not all\\) have scaled"):
        lav_test_lrt(one, two)


@pytest.mark.parametrize("estimator", ["WLSMV", "GLS"])
def test_cli_compare_paths_lr_test_equals_lavaan(estimator, tmp_path, capsys):
    """survey fit --compare-paths: the LR test of equal paths is lavaan's lavTestLRT of the two fits."""
    from survey.cli import main

    model = tmp_path / "paths.lav"
    model.write_text(REF["models"]["paths"])
    with pytest.raises(SystemExit) as info:
        main(["fit", str(model), str(HERE / "hs.csv"), "--estimator", estimator, "--compare-paths", "x9",
              "--json"])
    assert (info.value.code or 0) == 0
    lrt = json.loads(capsys.readouterr().out)["path_comparison"]["lrt_equal_paths"]
    ref = REF["cases"][f"{estimator.lower()}_paths"]["table"]["m2"]
    assert lrt["chisq.diff"] == pytest.approx(ref["Chisq diff"], abs=1e-3)
    assert lrt["df.diff"] == ref["Df diff"]
    assert lrt["pvalue"] == pytest.approx(ref["Pr(>Chisq)"], abs=1e-5)
    assert lrt["method"] == ("satorra.2000" if estimator == "WLSMV" else "standard")
