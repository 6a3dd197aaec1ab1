"""GFI / AGFI / PGFI and rmsea.notclose.pvalue.robust with missing data (FIML), weighted or not, against
lavaan 0.6.14's fitMeasures() on the existing references: tests/fixtures/weighted (make_reference.R: weights,
clusters, both, two groups), tests/fixtures/engine/fiml_mg.json (make_fiml_mg.R: two groups, equal loadings
and intercepts, partial) and tests/fixtures/engine/mimic.json (make_mimic.R: fixed.x covariates).

lavaan's GFI weight with missing data is the expected h1 information of the missing-data patterns at the
implied moments (lav_mvnorm_missing_information_expected), and its WLS.obs is the pairwise covariance
((N-1)/N) and available-case means without sampling weights, the EM moments with them (lav_samplestats);
the robust "not close" p-value is taken on the FIML-corrected test (lav_fit_rmsea_lavobject)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.sem import fit
from survey.sem.fitmeasures import gfi as gfi_complete
from survey.sem.results.fit_more import GroupMoments, gfi_missing_group

FIX = Path(__file__).parent / "fixtures"
KEYS = ("gfi", "agfi", "pgfi", "rmsea.notclose.pvalue.robust")
WEIGHTED = json.loads((FIX / "weighted" / "reference.json").read_text())
FIML_MG = json.loads((FIX / "engine" / "fiml_mg.json").read_text())
MIMIC = json.loads((FIX / "engine" / "mimic.json").read_text())


def _weighted_cases():
    out = {}
    for name, ref in WEIGHTED["cases"].items():
        call = ref["call"]
        if not call.split(",")[1].strip() == "m":  # weighted_mar.csv under missing = "ml"
            continue
        kw = dict(re.findall(r'([\w.]+) = "([\w.]+)"', call))
        opts = {"missing": "fiml", "estimator": kw.get("estimator", "ML")}
        names = (("sampling.weights", "sampling_weights"), ("cluster", "cluster"), ("group", "group"))
        for theirs, ours in names:
            if theirs in kw:
                opts[ours] = kw[theirs]
        model = WEIGHTED["models"]["cfa" if "models$cfa" in call else "sem"]
        out[f"weighted/{name}"] = (model, FIX / "weighted" / "weighted_mar.csv", opts, ref["fit_measures"])
    return out


def _engine_cases():
    out = {}
    for name, ref in FIML_MG["cases"].items():
        call = ref["call"]
        opts = {"group": "school", "missing": "fiml", "estimator": "MLR" if "MLR" in call else "ML"}
        if "intercepts" in call:
            opts["group_equal"] = ["loadings", "intercepts"]
        if "group.partial" in call:
            opts["group_partial"] = re.findall(r'group.partial = "([^"]+)"', call)
        data = FIX / "engine" / FIML_MG["data"]
        out[f"fiml_mg/{name}"] = (FIML_MG["model"], data, opts, ref["fit_measures"])
    for k in (1, 3):
        for est in ("ML", "MLR"):
            name = f"mimic{k}_fiml_{est.lower()}_ml"
            out[f"mimic/{name}"] = (MIMIC["models"][f"mimic{k}"], FIX / "engine" / "hs39_mimic_mar.csv",
                                    {"missing": "fiml", "estimator": est},
                                    MIMIC["cases"][name]["fit_measures"])
    return out


CASES = {**_weighted_cases(), **_engine_cases()}


def test_the_cases_cover_weights_clusters_groups_and_covariates():
    assert len(CASES) == 20
    opts = [c[2] for c in CASES.values()]
    assert sum("sampling_weights" in o for o in opts) >= 5 and sum("cluster" in o for o in opts) >= 3
    assert sum("group" in o for o in opts) >= 7


@pytest.mark.parametrize("name", sorted(CASES))
def test_fiml_gfi_family_and_robust_notclose_equal_lavaan(name):
    model, path, opts, ref = CASES[name]
    fm = fit(model, pd.read_csv(path), **opts).fit_measures()
    for key in KEYS:
        assert ref[key] is not None
        assert fm[key] == pytest.approx(ref[key], abs=1e-3), key
    # GFI itself is now exact (the pairwise / EM WLS.obs and the pattern-weighted information)
    assert fm["gfi"] == pytest.approx(ref["gfi"], abs=1e-5)


def test_missing_gfi_with_one_complete_pattern_is_the_complete_data_gfi():
    rng = np.random.default_rng(11)
    a = rng.normal(size=(4, 4))
    s = a @ a.T + 4 * np.eye(4)
    sigma = s + 0.3 * np.diag([1.0, -0.5, 0.2, 0.4])
    sigma[0, 1] = sigma[1, 0] = s[0, 1] + 0.2
    mean, mu = rng.normal(size=4), rng.normal(size=4)
    for x in ((), (3,)):
        g = GroupMoments(s, sigma, 100, mean, mu, x, ((np.arange(4), 100.0),))
        assert gfi_missing_group(g) == pytest.approx(gfi_complete(s, sigma, list(x), mean, mu), rel=1e-12)
    # two patterns: the first-pattern-only weight differs from the complete-data one
    g2 = GroupMoments(s, sigma, 100, mean, mu, (), ((np.arange(4), 60.0), (np.array([0, 2]), 40.0)))
    assert abs(gfi_missing_group(g2) - gfi_complete(s, sigma, [], mean, mu)) > 1e-4
