"""likelihood="wishart" (survey.sem.wishart) and mimic="Mplus" (survey.sem.mimic): both equal lavaan on the
held-out cases (tests/test_heldout.py: hs_wishart*, pd_wishart, hs_mimic_mplus, hs_mplus_*, pd_mplus); here
the relations to the normal-likelihood fit that lavaan's definition implies, Mplus' defaults, and the
one-line refusals of what is not reproduced yet."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

HERE = Path(__file__).parent / "fixtures" / "heldout"
HS3 = json.loads((HERE / "heldout.json").read_text())["models"]["hs3"]
DATA = {"hs": pd.read_csv(HERE / "hs.csv")}


def test_wishart_rescales_the_normal_fit():
    hs = DATA["hs"]
    normal, wishart = survey.cfa(HS3, hs), survey.cfa(HS3, hs, likelihood="wishart")
    n = normal.nobs
    chisq = normal.fit_measures()["chisq"]
    assert wishart.fit_measures()["chisq"] == pytest.approx(chisq * (n - 1) / n, rel=1e-6)
    keys = ["lhs", "op", "rhs"]
    a, b = normal.estimates().set_index(keys), wishart.estimates().set_index(keys)
    loadings = a.index.get_level_values("op") == "=~"
    pd.testing.assert_series_equal(a.loc[loadings, "est"], b.loc[loadings, "est"], atol=1e-5)
    variances = (a.index.get_level_values("op") == "~~") & (a["se"] > 0)
    ratio = b.loc[variances, "est"] / a.loc[variances, "est"]
    assert ratio.to_numpy() == pytest.approx(n / (n - 1), rel=1e-4)
    assert wishart.nobs == n


@pytest.mark.parametrize("options, field", [({"estimator": "MLMVS"}, "likelihood"),
                                            ({"missing": "fiml", "se": "robust.sem"}, "se"),
                                            ({"se": "robust.huber.white"}, "se"),
                                            ({"test": "yuan.bentler"}, "test"),
                                            ({"estimator": "MLR", "group": "school", "se": "robust.sem"},
                                             "likelihood")])
def test_wishart_refusals_name_the_option(options, field):
    with pytest.raises(SurveyInputError) as info:
        survey.cfa(HS3, DATA["hs"], likelihood="wishart", **options)
    assert info.value.field == field and "available" in str(info.value) and "\n" not in str(info.value)


def test_unknown_likelihood_is_refused():
    with pytest.raises(SurveyInputError) as info:
        survey.cfa(HS3, DATA["hs"], likelihood="student")
    assert info.value.field == "likelihood" and "wishart" in str(info.value)


@pytest.mark.parametrize("options", [{"mimic": "EQS", "estimator": "MLR", "se": "standard"},
                                     {"mimic": "Mplus", "estimator": "MLM", "se": "robust.huber.white"},
                                     {"mimic": "Mplus", "ordered": ["x1"]}])
def test_mimic_refusals_name_what_is_available(options):
    """mimic="Mplus" = lavaan with ML/MLR (tests/test_heldout.py: hs_mimic_mplus, hs_mplus_*, pd_mplus), MLM
    (tests/test_browne2.py);
    mimic="EQS" with ML / MLM and wishart with MLM: tests/test_mimic_eqs.py; EQS + MLR:
    tests/test_eqs_baseline.py."""
    with pytest.raises(SurveyInputError) as info:
        survey.cfa(HS3, DATA["hs"], **options)
    assert info.value.field == "mimic" and "available" in str(info.value) and "\n" not in str(info.value)


def test_mimic_mplus_defaults():
    """Mplus' defaults as lavaan sets them: FIML, a mean structure, scalar invariance across groups."""
    res = survey.cfa(HS3, DATA["hs"], mimic="Mplus", group="school")
    assert res.missing != "listwise" and res.mg.meanstructure
    assert res.group_equal == ["loadings", "intercepts"]
    assert res.fit_measures()["srmr"] == res.fit_measures()["srmr_mplus"]


def test_options_without_effect_are_accepted_and_the_others_refused():
    """verbose=, warn=, optim.method=, check.* change nothing in lavaan's numbers (survey.sem.no_effect)."""
    plain = survey.cfa(HS3, DATA["hs"]).fit_measures()["chisq"]
    quiet = survey.cfa(HS3, DATA["hs"], warn=False, verbose=False, optim_method="BFGS", check_gradient=False)
    assert quiet.fit_measures()["chisq"] == pytest.approx(plain, abs=1e-8)
    refused = (({"optim_method": "none"}, "optim_method"), ({"representation": "RAM"}, "representation"))
    for bad, field in refused:
        with pytest.raises(SurveyInputError) as info:
            survey.cfa(HS3, DATA["hs"], **bad)
        assert info.value.field == field
