"""Issue 15 point by point, as a new user (tests/fixtures/audit15/make_audit15.R, lavaan 0.6.14): new
lavaan models on simulated follow-driver data (fd.csv) exercising lavaan's options (std.lv, orthogonal,
meanstructure, int.ov.free, int.lv.free, fixed.x, auto.*, information, test, se) and syntax (``a < b``,
``a + b < 1.9``, ``a > 0.95``, ``a == b^2``, ``a == 2*b - 0.5``, ``c()`` label / value vectors,
``start()``, ``label()``, ``equal()``, ``<~`` composites, ``:=`` of ``:=``), each fitted once and compared
with lavaan: est / se / std.lv / std.all / std.nox and every fitMeasures() entry; ``residuals()``
(cor.bentler, normalized, standardized, also under MLR / robust.huber.white and fixed.x = FALSE) and
``lavResiduals()``' summary; modindices() with all of lavaan's columns; lavTestScore (labels, explicit and
nonlinear constraints, groups), lavTestWald (groups, := of labels), lavTestLRT (ML, MLR in groups);
summary() line by line against lavaan's print from "Parameter Estimates:" on; and ``survey fit
--residuals standardized --estimator MLR --json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from heldout_harness import LAVAAN, RUNNER, close, py_options

from survey.sem.results import lrt

HERE = Path(__file__).parent / "fixtures" / "audit15"
REF = json.loads((HERE / "audit15.json").read_text())
CASES = REF["cases"]
FD = pd.read_csv(HERE / "fd.csv")
_FITS: dict[str, object] = {}
# modindices lavaan and we do not share yet (open, each with its cause)
MI_OPEN = {
    "mg_vec": "one candidate off by 1.4e-3 (e1 ~~ e3: 0.8162, lavaan 0.8150) under the nonlinear == across "
              "groups: not traced yet",
    "comp": "<~ composites: lavaan's candidates are the fixed weights (AUTc ~ a1), ours AUTc =~ f*",
    "comp2": "<~ composites (as comp)",
}


def fitted(name: str):
    """The case's fit, made once per test module."""
    if name not in _FITS:
        case = CASES[name]
        opts = py_options(case["opts"] or {})
        if case["fun"] == "lavaan":
            opts = {**LAVAAN, **opts}
        _FITS[name] = RUNNER[case["fun"]](REF["models"][case["model"]], FD, **opts)
    return _FITS[name]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame if "group" in frame else frame.assign(group=1)


def _assert_cols(both: pd.DataFrame, cols, keys) -> None:
    for col in cols:
        want = pd.to_numeric(both[f"{col}_ref"], errors="coerce").to_numpy(dtype=float)
        got = pd.to_numeric(both[col], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(want)
        bad = ok & ~(np.abs(got - want) <= 1e-3 * np.maximum(1.0, np.abs(want)))
        assert not bad.any(), f"{col}:\n{both.loc[bad, keys + [f'{col}_ref', col]]}"


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_fit_measures_equal_lavaan(name):
    """Every fitMeasures() entry (logl / AIC / BIC 1e-5) and est, se, std.lv, std.all, std.nox (1e-3)."""
    case, res = CASES[name], fitted(name)
    fm = res.fit_measures()
    for key, want in case["fit_measures"].items():
        if want is None:
            continue
        assert key in fm, f"{key} missing"
        assert close(key, float(fm[key]), float(want)), f"{key}: ours {fm[key]} lavaan {want}"
    keys = ["lhs", "op", "rhs", "group"]
    both = _rows(pd.DataFrame(case["estimates"])).merge(_rows(res.estimates()), on=keys, how="left",
                                                        suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all(), both.loc[both["_merge"] != "both", keys]
    _assert_cols(both, [c for c in ("est", "se", "std.lv", "std.all", "std.nox") if f"{c}_ref" in both], keys)


def _group_refs(res, ref: dict) -> list[dict]:
    return [ref] if "cov" in ref else [ref[g] for g in res.group_labels]


def _matrix(values) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)


@pytest.mark.parametrize("kind", ["cor.bentler", "normalized", "standardized"])
@pytest.mark.parametrize("name", list(CASES))
def test_residuals_equal_lavaan(name, kind):
    """``residuals(fit, type)``: every element within 1e-3 (relative beyond 1); lavaan's values of moments
    fitted exactly (|z| > 1e6: 0 over a rounding-level SD) are its noise and not compared."""
    res = fitted(name)
    ref = CASES[name]["residuals"][kind]
    for ours, want in zip(res.residuals(kind), _group_refs(res, ref), strict=True):
        w, g = _matrix(want["cov"]), ours.cov.to_numpy(dtype=float)
        ok = np.isfinite(w) & (np.abs(w) < 1e6)
        assert np.all(np.abs(g - w)[ok] <= 1e-3 * np.maximum(1.0, np.abs(w[ok]))), kind
        if "mean" in want:
            wm = np.array([np.nan if v is None else v for v in want["mean"]], dtype=float)
            okm = np.isfinite(wm) & (np.abs(wm) < 1e6)
            assert np.all(np.abs(ours.mean.to_numpy(dtype=float) - wm)[okm] <= 1e-3), f"{kind} means"


SUMMARY_CASES = [n for n in CASES if isinstance(CASES[n].get("lavresiduals_summary"), list)]


@pytest.mark.parametrize("name", SUMMARY_CASES)
def test_lav_residuals_summary_equals_lavaan(name):
    """``lavResiduals(fit)$summary``: srmr, its SE, exact-fit z, usrmr, SE, CI, close-fit z (cov, and the
    mean / total parts we report)."""
    ours = fitted(name).lav_residuals_summary()[0]
    for row in CASES[name]["lavresiduals_summary"]:
        for part in ("cov", "mean", "total"):
            want = row.get(part)
            if want is None or ours.get(part) is None:
                continue
            got = ours[part][row["_row"]]
            assert abs(got - want) <= 1e-3, f"{part} {row['_row']}: ours {got} lavaan {want}"
    assert ours["cov"] is not None


MI_CASES = [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=MI_OPEN[n])) if n in MI_OPEN else n
            for n in CASES if "modindices" in CASES[n]]


@pytest.mark.parametrize("name", MI_CASES)
def test_modindices_columns_equal_lavaan(name):
    """modindices(): lavaan's candidates, mi / epc / sepc.lv / sepc.all / sepc.nox within 1e-3."""
    keys = ["lhs", "op", "rhs", "group"]
    ref = _rows(pd.DataFrame(CASES[name]["modindices"]))
    ours = fitted(name).modindices()
    if not pd.api.types.is_numeric_dtype(ref["group"]):
        ref["group"] = ref["group"].map({g: i + 1 for i, g in enumerate(fitted(name).group_labels)})
    both = ref.merge(_rows(ours), on=keys, how="outer", suffixes=("_ref", ""), indicator=True)
    both = both[~((both["_merge"] == "left_only") & (both["mi_ref"].abs() < 1e-10))]  # fixed.x moments
    assert (both["_merge"] == "both").all(), both.loc[both["_merge"] != "both", keys + ["_merge"]]
    _assert_cols(both, ["mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"], keys)


@pytest.mark.parametrize("name", [n for n in CASES if "score" in CASES[n]])
def test_lav_test_score_equals_lavaan(name):
    """lavTestScore: the total test and each constraint's univariate test, also with explicit nonlinear
    (``l3 == l2^2``) and constant (``m3 == 2*m2 - 0.5``) constraints and in groups (lavaan's rows and
    names, ``.pX. == .pY.`` for shared labels)."""
    res, ref = fitted(name), CASES[name]["score"]
    test = lrt.lav_test_score(res)
    total = ref["test"][0]
    assert test.total["df"] == total["df"]
    assert abs(test.total["X2"] - total["X2"]) <= 1e-3 * max(1.0, total["X2"])
    uni = pd.DataFrame(ref["uni"])
    assert list(test.uni["lhs"]) == list(uni["lhs"]) and list(test.uni["rhs"]) == list(uni["rhs"])
    assert np.allclose(test.uni["X2"], uni["X2"], atol=1e-3)
    table = res.score_tests()
    assert np.allclose(table["X2"], uni["X2"], atol=1e-3)


WALD = {"defdef": ("defdef", "c1 == c2\nc3 == 0"), "mg_def": ("mg_def", "g1 == g2"),
        "mg_def_nl": ("mg_def", "ind1 == ind2")}


@pytest.mark.parametrize("key", list(WALD))
def test_lav_test_wald_equals_lavaan(key):
    """lavTestWald, single group and in groups (labels and a := of labels)."""
    case, text = WALD[key]
    got, want = lrt.lav_test_wald(fitted(case), text), REF["wald"][key]
    assert got.df == want["df"]
    assert abs(got.stat - want["stat"]) <= 1e-3 * max(1.0, want["stat"])


def test_lav_test_lrt_equals_lavaan():
    """lavTestLRT: ML (orthogonal against oblique, RMSEA of the difference) and MLR in groups (the
    Satorra-Bentler 2001 scaled difference)."""
    import survey

    free = survey.cfa(REF["models"]["cfa4"], FD, std_lv=True, meanstructure=True)
    table = lrt.lav_test_lrt(fitted("cfa_stdlv_orth_mean"), free)
    want = pd.DataFrame(REF["lrt"]["ml"])
    assert np.allclose(table["Chisq"], want["Chisq"], atol=1e-3)
    assert abs(table["Chisq diff"].iloc[1] - want["Chisq diff"].iloc[1]) <= 1e-3
    assert abs(table["RMSEA"].iloc[1] - want["RMSEA"].iloc[1]) <= 1e-3
    assert np.allclose(table["AIC"], want["AIC"], rtol=1e-7)
    equal = survey.sem(REF["models"]["mg_def"], FD, group="grp", estimator="MLR", group_equal=["loadings"])
    table = lrt.lav_test_lrt(fitted("mg_def_mlr"), equal)
    want = pd.DataFrame(REF["lrt"]["mg_mlr"])
    assert abs(table["Chisq diff"].iloc[1] - want["Chisq diff"].iloc[1]) <= 1e-3
    assert abs(table["Pr(>Chisq)"].iloc[1] - want["Pr(>Chisq)"].iloc[1]) <= 1e-3


def _estimate_section(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Parameter Estimates:"))
    # our closing Warnings: block (options lavaan's cfa()/sem() override, which lavaan overrides silently)
    stop = next((i for i, line in enumerate(lines) if line.startswith("Warnings:")), len(lines))
    return [line.rstrip() for line in lines[start:stop] if line.strip()]


def _same_line(ours: str, theirs: str) -> bool:
    """Equal, or equal up to the third decimal's rounding (0.001) in the numbers."""
    a, b = ours.split(), theirs.split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x != y:
            try:
                if abs(float(x) - float(y)) > 0.0011:
                    return False
            except ValueError:
                return False
    return True


@pytest.mark.parametrize("name", [n for n in CASES if "summary" in CASES[n]])
def test_summary_estimate_sections_as_lavaan_prints(name):
    """summary() from "Parameter Estimates:" on, line by line as lavaan's ``summary(fit, standardized =
    TRUE)``: headers, labels, the ``.`` prefix, groups, Defined Parameters, Constraints |Slack|."""
    ours = _estimate_section(fitted(name).summary(fit_measures=False, rsquare=False))
    theirs = _estimate_section(CASES[name]["summary"])
    assert len(ours) == len(theirs), "\n".join(ours[-5:])
    bad = [(o, t) for o, t in zip(ours, theirs, strict=True) if not _same_line(o, t)]
    assert not bad, bad[:3]


def test_cli_robust_standardized_residuals_json(tmp_path, capsys):
    """``survey fit --estimator MLR --residuals standardized --json``: lavaan's standardized residuals of
    an MLR fit (the ADF ACOV of the sample moments, the information-based A0)."""
    from survey.cli import main

    model = tmp_path / "cfa4.lav"
    model.write_text(REF["models"]["cfa4"] + "\n")
    with pytest.raises(SystemExit) as info:
        main(["fit", str(model), str(HERE / "fd.csv"), "--estimator", "MLR", "--residuals", "standardized",
              "--json"])
    text = capsys.readouterr().out
    assert (info.value.code or 0) == 0, text
    out = json.loads(text)
    cov = out["residuals"]["groups"][0]["cov"]
    want = _matrix(CASES["cfa_mlr"]["residuals"]["standardized"]["cov"])
    names = list(cov)
    got = np.array([[cov[r][c] if cov[r][c] is not None else math.nan for c in names] for r in names])
    assert np.allclose(got, want, atol=1e-3)
