"""residuals() of the continuous least-squares estimators with several groups, a mean structure, group
equalities, fixed.x covariates, pairwise moments, sampling weights and an explicit equality (standardized:
the augmented inverse) against lavaan 0.6.14
(tests/fixtures/ls_groups/make_ls_groups.R -> ls_groups.json, cases res_*): types raw, cor, cor.bentler,
normalized, standardized, per group with the mean residuals. lavaan refuses normalized / standardized
under ULS and DWLS ("could not invert h1 information matrix in group 1"): so do we, with its reason.

At lavaan's own estimates (our fit moved there) every residual equals lavaan's to 1e-4 (the formulas;
1e-5 but for GLS with groups and fixed.x, whose mean residuals, raw ~1e-6, normalize to 2e-5 vs 2e-6);
at our estimates within 1e-3, except where lavaan's optimum is 6e-5 (GLS, equal loadings) / 4e-4 (WLS,
equal loadings and intercepts) from ours: standardized residuals of ~5 then move by up to 1.8e-3 (1e-3
relative there)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_ls_groups_modindices import REF, close, fit_case

from survey.errors import SurveyInputError
from survey.sem.fit_report import extra_tables
from survey.sem.results.ls_residuals import ls_residuals

RES_CASES = [(k, t) for k, c in sorted(REF["cases"].items()) if "residuals" in c for t in c["residuals"]]
IMPRECISE = ("res_grp_load_gls", "res_grp_scalar_wls")  # lavaan's optimum (module notes)


def _at_lavaan(res, name: str):
    """``res`` moved to lavaan's estimates of ``name`` (its free parameters)."""
    est = pd.DataFrame(REF["cases"][name]["estimates"]).fillna({"rhs": ""})
    if "group" not in est:
        est["group"] = 1
    est = est.set_index(["lhs", "op", "rhs", "group"])["est"]
    pt = res.mg.partable
    theta = np.full(res.mg.npar, np.nan)
    for r in pt[(pt["free"] > 0) & (pt["op"] != ":=")].itertuples():
        theta[int(r.free) - 1] = est[(r.lhs, r.op, r.rhs, int(getattr(r, "group", 1) or 1))]
    assert np.max(np.abs(theta - res.theta)) < 1e-3  # the same optimum, to lavaan's precision
    res.theta, res.theta_full = theta, res.mg.k @ theta
    return res


def _check(res, want, tol: float, rel: float = 0.0) -> None:
    got = ls_residuals(res, want["type"])
    assert len(got) == len(want["groups"])
    for ours, ref in zip(got, want["groups"], strict=True):
        close(ours.cov.to_numpy(), np.array(ref["cov"]), atol=tol, rel=rel)
        if ref.get("mean"):
            close(ours.mean.to_numpy(), np.array(ref["mean"]), atol=tol, rel=rel)
        else:
            assert ours.mean is None


@pytest.fixture(scope="module")
def fits():
    return {k: fit_case(k) for k, c in REF["cases"].items() if "residuals" in c}


@pytest.mark.parametrize("name, kind", RES_CASES)
def test_ls_residuals_of_groups_equal_lavaan(fits, name, kind):
    case = REF["cases"][name]
    res = fits[name]
    assert list(res.mg.models[0].ov) == case["ov"]
    want = case["residuals"][kind]
    if isinstance(want, dict):  # lavaan refuses: so do we, with its reason
        assert "could not invert h1 information" in want["error"]
        with pytest.raises(SurveyInputError, match="could not invert h1 information") as err:
            ls_residuals(res, kind)
        assert "\n" not in str(err.value)
        return
    want = {"type": kind, "groups": want}
    if name in IMPRECISE:
        _check(res, want, tol=1e-3, rel=1e-3)
    else:
        _check(res, want, tol=1e-3)


@pytest.fixture(scope="module")
def at_lavaan():
    """Fits moved to lavaan's estimates, one per case (fitted on first use, before any residual is taken)."""
    moved: dict = {}

    def get(name: str):
        if name not in moved:
            moved[name] = _at_lavaan(fit_case(name), name)
        return moved[name]
    return get


@pytest.mark.parametrize("name, kind", [(k, t) for k, t in RES_CASES if "error" not in
                                        REF["cases"][k]["residuals"][t]])
def test_ls_residuals_at_lavaans_estimates_equal_lavaan_exactly(at_lavaan, name, kind):
    res = at_lavaan(name)
    _check(res, {"type": kind, "groups": REF["cases"][name]["residuals"][kind]}, tol=1e-4)


def test_residuals_of_groups_reach_the_cli_table(fits):
    res = fits["res_grp_wls"]
    table = extra_tables(res, residuals="standardized")["residuals"]
    groups = table["json"]["groups"]
    assert len(groups) == 2 and groups[0]["mean"] is not None
    want = REF["cases"]["res_grp_wls"]["residuals"]["standardized"]
    assert groups[1]["cov"]["x2"]["x1"] == pytest.approx(want[1]["cov"][1][0], abs=1e-3)
    assert groups[1]["mean"]["x1"] == pytest.approx(want[1]["mean"][0], abs=1e-3)
    assert "Group" in table["text"] and "Means:" in table["text"]


def test_cli_fit_residuals_and_modindices_of_groups(tmp_path, capsys):
    import json

    from test_ls_groups_modindices import DATA

    from survey.cli import main

    (tmp_path / "m.lav").write_text(REF["models"]["hs"])
    DATA["hs"].to_csv(tmp_path / "d.csv", index=False)
    try:
        main(["fit", str(tmp_path / "m.lav"), str(tmp_path / "d.csv"), "--estimator", "WLS", "--group",
              "school", "--residuals", "standardized", "--modindices", "--json"])
    except SystemExit as exc:
        assert int(exc.code or 0) == 0
    out = json.loads(capsys.readouterr().out)
    want = REF["cases"]["res_grp_wls"]["residuals"]["standardized"]
    groups = out["residuals"]["groups"]
    assert out["residuals"]["type"] == "standardized" and len(groups) == 2
    assert groups[1]["cov"]["x2"]["x1"] == pytest.approx(want[1]["cov"][1][0], abs=1e-3)
    assert groups[0]["mean"]["x3"] == pytest.approx(want[0]["mean"][2], abs=1e-3)
    top = pd.DataFrame(REF["cases"]["mi_grp_wls"]["modindices"]).sort_values("mi", ascending=False).iloc[0]
    first = out["modindices"][0]
    assert (first["lhs"], first["op"], first["rhs"], first["group"]) == (top["lhs"], top["op"], top["rhs"],
                                                                         top["group"])
    assert first["mi"] == pytest.approx(top["mi"], abs=1e-3)
