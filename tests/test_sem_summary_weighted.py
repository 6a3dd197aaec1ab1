"""summary() of weighted / clustered fits laid out as lavaan 0.6.14 prints them, compared line by line with
R print-outs (tests/fixtures/weighted/make_summary.R -> summary_<case>.txt): "Number of clusters [cid]",
"Sampling weights variable", the missing patterns, the Standard / Scaled test with lavaan's "Observed
information based on H1" (clusters under ML), "Robust.cluster" / "Sandwich" standard errors, the estimator
line ("ML" for a weighted ML fit run with robust SEs and test) and every estimate section; ``to_dict()``
carries lavaan's ``lavInspect(fit, "options")`` estimator / se / test (summary_options.txt)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey.sem import fit
from tests.test_sem_summary_layout import _same_printed_line

HERE = Path(__file__).parent / "fixtures" / "weighted"
CFA = "F1 =~ y1 + y2 + y3\nF2 =~ y4 + y5 + y6"
SEM = CFA + "\nF2 ~ F1 + x"
CASES = {  # the calls of make_summary.R
    "cfa_w_ml": (CFA, "d", {"sampling_weights": "w"}),
    "cfa_w_mlr": (CFA, "d", {"sampling_weights": "w", "estimator": "MLR"}),
    "sem_w_fiml_ml": (SEM, "m", {"sampling_weights": "w", "missing": "ml"}),
    "cfa_cluster_ml": (CFA, "d", {"cluster": "cid"}),
    "sem_cluster_mlr": (SEM, "d", {"cluster": "cid", "estimator": "MLR"}),
    "sem_w_cluster_mlr": (SEM, "d", {"sampling_weights": "w", "cluster": "cid", "estimator": "MLR"}),
    "cfa_long_names": (CFA, "d", {"sampling_weights": "final_weight_v2", "cluster": "school_id"}),
    "cfa_cluster_mg_ml": (CFA, "d", {"group": "gender", "cluster": "cid"}),
    "cfa_w_mg_fiml_ml": (CFA, "m", {"group": "gender", "sampling_weights": "w", "missing": "ml"}),
}
OPTIONS = {line.split("\t")[0]: line.split("\t")[2:] for line in
           (HERE / "summary_options.txt").read_text().splitlines()}


@pytest.fixture(scope="module")
def fits():
    d = pd.read_csv(HERE / "weighted.csv")
    d["final_weight_v2"], d["school_id"] = d["w"], d["cid"]  # long names widen lavaan's data columns
    data = {"d": d, "m": pd.read_csv(HERE / "weighted_mar.csv")}
    return {name: fit(model, data[d], **kw) for name, (model, d, kw) in CASES.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_weighted_summary_equals_lavaans_print(fits, name):
    res = fits[name]
    ours = res.summary(fit_measures=False, standardized=False, rsquare=False).splitlines()
    if res.warnings:
        ours = ours[: ours.index("Warnings:")]
    ref = (HERE / f"summary_{name}.txt").read_text().splitlines()
    assert len(ours) == len(ref)
    for k, (a, b) in enumerate(zip(ours, ref, strict=True)):
        if k == 0:  # program name and iteration count
            assert a.split(" ended ")[1].split(" after ")[0] == b.split(" ended ")[1].split(" after ")[0]
        elif b.startswith("  Optimization method"):
            assert a.startswith("  Optimization method")
        else:
            _same_printed_line(a, b)


@pytest.mark.parametrize("name", list(CASES))
def test_to_dict_reports_lavaans_estimator_se_and_test(fits, name):
    estimator, se, test = OPTIONS[name]
    out = fits[name].to_dict()
    requested = CASES[name][2].get("estimator", "ML")
    assert out["estimator"] == requested  # lavaan: options$estimator is "ML" for both (MLR = ML + robust)
    assert estimator == "ML"
    assert out["se"] == se and out["test"] == test.split(",")
