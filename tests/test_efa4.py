"""lavaan 0.6.14's efa() function (issue 15, task efa4) against tests/fixtures/efa4/efa4.json (make_efa4.R:
HolzingerSwineford1939 x1..x9 and the ordered o1..o6): per number of factors the standardized loadings,
uniquenesses, every parameter's est, se and std.all (1e-3), the fit table of summary(efaList) (aic, bic,
sabic, logl-based: 1e-5 relative; the others 1e-3) and its whole print-out; rotation="none"
with lavaan's signs, simplimax, MLR / ULS / DWLS with robust SEs, FIML, ordered items; lavaan's refusals;
efa() blocks with least squares and groups (efa4_groups.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
import survey.sem
from survey.errors import SurveyInputError
from survey.sem.efa.efa_list import efa_syntax, max_factors

HERE = Path(__file__).parent / "fixtures"
REF = json.loads((HERE / "efa4" / "efa4.json").read_text())
HS = pd.read_csv(HERE / "efa" / "hs.csv")
X9 = HS[[f"x{i}" for i in range(1, 10)]]
X9NA = X9.copy()  # make_efa4.R's missing values (R rows 1, 8, ... of x1; 3, 14, ... of x5)
X9NA.loc[X9NA.index[0::7], "x1"] = np.nan
X9NA.loc[X9NA.index[2::11], "x5"] = np.nan
O6 = pd.read_csv(HERE / "efa" / "hs_ord.csv")[[f"o{i}" for i in range(1, 7)]]

CASES = {  # lavaan's case -> survey's call (the R call: REF[case]["call"])
    "geomin": (X9, [1, 2, 3], {}),
    "none": (X9, [2, 3], dict(rotation="none")),
    "varimax": (X9, [2, 3], dict(rotation="varimax")),
    "oblimin": (X9, 3, dict(rotation="oblimin")),
    "simplimax": (X9, 2, dict(rotation="simplimax")),
    "mlr": (X9, [2, 3], dict(estimator="MLR")),
    "uls": (X9, 2, dict(estimator="ULS")),
    "dwls": (X9, 2, dict(estimator="DWLS")),
    "ulsm": (X9, 2, dict(estimator="ULSM")),
    "dwls_robust": (X9, 2, dict(estimator="DWLS", se="robust.sem")),
    "fiml": (X9NA, 2, dict(missing="fiml")),
    "fiml_mlr": (X9NA, 2, dict(missing="fiml", estimator="MLR")),
    "ordered": (O6, [1, 2], dict(ordered=True)),
    "none_uls": (X9, 2, dict(rotation="none", estimator="ULS")),
    "none_ordered": (O6, 2, dict(rotation="none", ordered=True)),
    "ovnames": (HS, 2, dict(ov_names=[f"x{i}" for i in range(1, 7)])),
}


@cache
def fitted(case: str):
    data, nfactors, options = CASES[case]
    return survey.sem.efa(data, nfactors, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_efa_fits_equal_lavaan(case):
    res, ref = fitted(case), REF[case]
    assert list(res.fits) == list(ref["fits"])
    for name, one in ref["fits"].items():
        np.testing.assert_allclose(res.loadings[name].to_numpy(), np.array(one["loadings"]), atol=1e-3)
        np.testing.assert_allclose(res.uniquenesses[name].to_numpy(), one["uniquenesses"], atol=1e-3)
        want = pd.DataFrame(one["estimates"])
        got = res[name].estimates()
        both = want.merge(got, on=["lhs", "op", "rhs"], suffixes=("_r", ""))
        assert len(both) == len(want)
        for col in ("est", "se", "std.all"):
            np.testing.assert_allclose(both[col].astype(float), both[f"{col}_r"].astype(float), atol=1e-3,
                                       err_msg=f"{case} {name} {col}")


@pytest.mark.parametrize("case", list(CASES))
def test_fit_table_equals_lavaan(case):
    table, ref = fitted(case).fit_table(), REF[case]["fit_table"]
    rows = ref["rows"] if isinstance(ref["rows"], list) else [ref["rows"]]
    assert list(table.index) == rows and list(table.columns) == ref["columns"]
    want = np.array(ref["values"], dtype=float)
    for j, col in enumerate(ref["columns"]):
        rtol, atol = (1e-5, 0) if col in ("aic", "bic", "sabic") else (0, 1e-3)
        np.testing.assert_allclose(table[col].to_numpy(), want[:, j], rtol=rtol, atol=atol, err_msg=col)


@pytest.mark.parametrize("case", list(CASES))
def test_summary_prints_as_lavaan(case):
    """The whole print-out, character for character (header, fit table, eigenvalues, per fit the
    loadings with lavaan's blanks, dots and stars, unique variances, sums of squares, correlations)."""
    assert fitted(case).summary().rstrip("\n") == REF[case]["print"].rstrip("\n")


def test_rotation_none_keeps_lavaans_signs():
    """lavaan reports the echelon solution as its corner extraction starts it: the k-th factor loads
    positively on the k-th item (no reflection: f2's column sum stays negative, as lavaan's)."""
    lam = fitted("none").loadings["nf2"].to_numpy()
    assert lam[0, 1] == 0 and lam[0, 0] > 0 and lam[1, 1] > 0 and lam[:, 1].sum() < 0


def test_eigenvalues_of_the_correlation_matrix():
    ev = fitted("geomin").eigenvalues()
    np.testing.assert_allclose(ev.to_numpy(), np.linalg.eigvalsh(X9.corr().to_numpy())[::-1], atol=1e-10)


def test_fit_measures_one_column_per_fit():
    fm = fitted("geomin").fit_measures()
    assert list(fm.columns) == ["nfactors = 1", "nfactors = 2", "nfactors = 3"]
    for k, name in enumerate(["nf1", "nf2", "nf3"]):
        want = REF["geomin"]["fits"][name]["fit"]
        for key in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "logl", "npar"):
            assert fm.loc[key].iloc[k] == pytest.approx(want[key], rel=1e-5, abs=1e-6), key


def test_syntax_and_limits_are_lavaans():
    assert efa_syntax(["a", "b"], 2) == 'efa("efa")*f1 =~ a + b\nefa("efa")*f2 =~ a + b'
    assert max_factors(9) == 5 and max_factors(6) == 3 and max_factors(3) == 1
    res = survey.sem.efa(X9, 2, output="lavaan")
    np.testing.assert_allclose(res.estimates().query("op == '=~'")["std.all"].abs().max(),
                               np.abs(REF["geomin"]["fits"]["nf2"]["loadings"]).max(), atol=1e-4)


@pytest.mark.parametrize("kwargs, text", [
    (dict(nfactors=0), "nfactors must be greater than zero"),
    (dict(nfactors=6), "when nvar = 9 the maximum number of factors is 5"),
    (dict(nfactors=[1, 2], output="lavaan"), 'when output = "lavaan", nfactors must be a single'),
    (dict(nfactors=1, output="table"), 'output= must be either "lavaan" or "efa"'),
    (dict(nfactors=1, ov_names=["x1", "nope"]), "ov_names not found"),
    (dict(nfactors=1, cluster="school"), "two-level efa"),
])
def test_refusals(kwargs, text):
    with pytest.raises(SurveyInputError, match=text.replace("(", r"\(")):
        survey.sem.efa(X9, **kwargs)


def test_groups_refused_with_lavaans_reason():
    assert "efa has no support for multiple groups" in REF["group"]["error"]
    with pytest.raises(SurveyInputError, match="efa has no support for multiple groups") as err:
        survey.sem.efa(HS[[*X9.columns, "school"]], 2, group="school")
    assert "\n" not in str(err.value)


def test_pairwise_refused_in_one_line():
    """lavaan fits missing="pairwise" with ML (here complete data: the listwise fit, chisq 130.306); the
    engine does not have ML on pairwise covariances yet: one line naming it."""
    assert REF["pairwise"]["fits"]["nf2"]["fit"]["chisq"] == pytest.approx(130.306, abs=1e-3)
    with pytest.raises(SurveyInputError, match="not available yet") as err:
        survey.sem.efa(X9, 2, missing="pairwise")
    assert "\n" not in str(err.value)


GROUPS = json.loads((HERE / "efa4" / "efa4_groups.json").read_text())  # make_efa4_groups.R


@pytest.mark.parametrize("case, estimator", [("uls", "ULS"), ("ulsm", "ULSM")])
def test_least_squares_efa_block_with_groups_equals_lavaan(case, estimator):
    """Continuous least squares with two groups, each rotated on its own (was refused)."""
    res = survey.cfa(GROUPS["model"], HS, group="school", estimator=estimator)
    want = pd.DataFrame(GROUPS[case]["estimates"])
    both = want.merge(res.estimates(), on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(both) == len(want)
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(both[col].astype(float), both[f"{col}_r"].astype(float), atol=1e-3,
                                   err_msg=col)
    fm = res.fit_measures()
    for key, value in GROUPS[case]["fit"].items():
        assert fm[key] == pytest.approx(value, abs=1e-5), key


ORDGROUPS = json.loads((HERE / "efa4" / "efa4_ordgroups.json").read_text())  # make_efa4_ordgroups.R


@pytest.mark.parametrize("case, options", [("geomin", {}), ("varimax", dict(rotation="varimax"))])
def test_ordered_efa_block_with_groups_equals_lavaan(case, options):
    """Ordered items (WLSMV) in two groups, each rotated on its own (was refused)."""
    data = pd.read_csv(HERE / "efa" / "hs_ord.csv")
    res = survey.cfa(ORDGROUPS["model"], data, ordered=list(O6.columns), group="school", **options)
    want = pd.DataFrame(ORDGROUPS[case]["estimates"])
    both = want.merge(res.estimates(), on=["lhs", "op", "rhs", "group"], suffixes=("_r", ""))
    assert len(both) == len(want)
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(both[col].astype(float), both[f"{col}_r"].astype(float), atol=1e-3,
                                   err_msg=col)
    fm = res.fit_measures()
    for key, value in ORDGROUPS[case]["fit"].items():
        assert fm[key] == pytest.approx(value, abs=1e-5), key
