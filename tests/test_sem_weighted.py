"""Weighted and cluster-robust SEM (lavaan ``sampling.weights=``, ``cluster=``; issue 20) against lavaan
0.6.14 on the same data and options (tests/fixtures/weighted/: make_data.R, make_reference.R, README.md):
estimates, SEs, std.all and every fit measure lavaan gives within 1e-3 (logl/AIC/BIC 1e-5 relative),
under ML and MLR, complete data and FIML, clusters, weights + clusters, two groups with each weight
normalisation; unit weights reproduce the unweighted fit; recovery of population means by weighting on
simulated data; bad weight and cluster columns are one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.errors import SurveyInputError
from survey.sem import fit

HERE = Path(__file__).parent / "fixtures" / "weighted"
REF = json.loads((HERE / "reference.json").read_text())
LOGL = ("aic", "bic", "bic2", "logl", "unrestricted.logl")
FIML_CORRECTED = ("rmsea", "cfi", "tli", "nnfi", "rni")  # their .robust versions with missing data


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    d = pd.read_csv(HERE / "weighted.csv").assign(one=1.0)
    d["w10"] = 10 * d["w"]
    return {"d": d, "m": pd.read_csv(HERE / "weighted_mar.csv").assign(one=1.0)}


def _call(case: str):
    """The lavaan call of a case -> (model, data name, survey.sem.fit options)."""
    call = REF["cases"][case]["call"]
    kw = dict(re.findall(r'([\w.]+) = "([\w.]+)"', call))
    opts = {"estimator": kw.get("estimator", "ML")}
    for theirs, ours in (("sampling.weights", "sampling_weights"), ("cluster", "cluster"), ("group", "group"),
                         ("sampling.weights.normalization", "sampling_weights_normalization"),
                        ("group.equal", "group_equal")):
        if theirs in kw:
            opts[ours] = kw[theirs]
    if kw.get("missing") == "ml":
        opts["missing"] = "fiml"
    model = REF["models"]["cfa" if "models$cfa" in call else "sem"]
    return model, call.split(",")[1].strip(" )"), opts


def _compare(res, ref, fiml: bool, truncated_n: bool = False) -> int:
    """``truncated_n``: lavaan 0.6.14's FIML-corrected robust CFI/TLI/RMSEA refit the model to the EM
    moments with ``sample.nobs`` = the weighted N_g, which ``lav_samplestats_from_moments`` truncates
    (``as.integer``); with several weighted groups N_g is not an integer, so those measures differ from ours
    (sum of the weights) by up to 3e-3 (RMSEA p-value), 2e-4 (RMSEA), 6e-5 (CFI): checked to 5e-3 only."""
    fm = res.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if key not in fm or value is None:
            continue
        if fiml and key in ("gfi", "agfi"):  # lavaan's GFI with missing data is not matched (engine)
            continue
        if truncated_n and key.endswith(".robust") and key.split(".")[0] in FIML_CORRECTED:
            assert fm[key] == pytest.approx(value, abs=5e-3), key
            continue
        if key in LOGL or key == "ntotal":
            tol = 1e-5 * max(1.0, abs(value))
        else:  # test statistics in the thousands: 1e-5 relative (numerical Hessians, ours and lavaan's)
            tol = max(1e-3, 1e-5 * abs(value))
        assert fm[key] == pytest.approx(value, abs=tol), key
        checked += 1
    pe = pd.DataFrame(ref["estimates"])
    on = ["lhs", "op", "rhs"]
    ours = res.estimates()
    if "group" in ours.columns:
        on.append("group")
        pe["group"] = pe["group"].astype(int)
    merged = pe.merge(ours, on=on, suffixes=("_r", ""))
    assert len(merged) == len(pe)
    for col in ("est", "se", "std.all"):
        assert np.nanmax(np.abs(merged[col].astype(float) - merged[f"{col}_r"].astype(float))) < 1e-3, col
    return checked


@pytest.mark.parametrize("case", sorted(REF["cases"]))
def test_weighted_and_clustered_fits_equal_lavaan(case, frames):
    model, data, opts = _call(case)
    ref = REF["cases"][case]
    res = fit(model, frames[data], **opts)
    assert res.nobs == ref["ntotal"] or opts.get("sampling_weights_normalization") == "none"
    assert list(res.nobs_groups.values()) == ref["nobs"]
    truncated = data == "m" and "sampling_weights" in opts and "group" in opts
    assert _compare(res, ref, data == "m", truncated) >= 40
    robust = ref["options"]["test"] != ["standard"]
    assert (res.scaled_test is not None) == robust
    if robust:
        scaled = ref["fit_measures"]["chisq.scaled"]
        assert res.fit_measures()["chisq.scaled"] == pytest.approx(scaled, abs=1e-4)


def test_weights_change_the_fit_and_ml_runs_as_mlr_with_a_note(frames):
    model, _, _ = _call("cfa_w_ml")
    weighted = fit(model, frames["d"], sampling_weights="w")
    plain = fit(model, frames["d"])
    assert abs(weighted.fit_measures()["chisq"] - plain.fit_measures()["chisq"]) > 1.0
    assert any(w.code == "weights_robust" for w in weighted.warnings)
    assert not any(w.code == "weights_robust" for w in fit(model, frames["d"], estimator="MLR",
                                                           sampling_weights="w").warnings)


def test_unit_weights_reproduce_the_unweighted_fit(frames):
    """Weights of 1 (and clusters of one row each) give the unweighted MLR fit; the point estimates are
    those of plain ML."""
    model = REF["models"]["sem"]
    d = frames["d"].assign(single=np.arange(len(frames["d"])))
    unit = fit(model, d, sampling_weights="one")
    mlr = fit(model, d, estimator="MLR")
    ml = fit(model, d)
    for col in ("est", "se", "std.all"):
        np.testing.assert_allclose(unit.estimates()[col], mlr.estimates()[col], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(unit.estimates()["est"], ml.estimates()["est"], rtol=1e-10, atol=1e-12)
    fu, fm = unit.fit_measures(), mlr.fit_measures()
    for key in fm:
        if np.isfinite(fm[key]):
            assert fu[key] == pytest.approx(fm[key], rel=1e-8, abs=1e-12), key
    # singleton clusters: the cluster sum is the row itself, times the factor C/(C-1) in the meat
    single = fit(model, d, estimator="MLR", cluster="single", meanstructure=True)
    mlr_ms = fit(model, d, estimator="MLR", meanstructure=True)
    n = len(d)
    ratio = single.estimates()["se"] / mlr_ms.estimates()["se"]
    np.testing.assert_allclose(ratio[mlr_ms.estimates()["se"] > 0], np.sqrt(n / (n - 1)), rtol=1e-8)


def test_weights_on_any_scale_give_the_same_fit(frames):
    model = REF["models"]["cfa"]
    a = fit(model, frames["d"], sampling_weights="w")
    b = fit(model, frames["d"], sampling_weights="w10")
    np.testing.assert_allclose(a.estimates()["se"], b.estimates()["se"], rtol=1e-9)
    assert a.fit_measures()["chisq"] == pytest.approx(b.fit_measures()["chisq"], rel=1e-10)


def test_weighting_recovers_population_means_of_an_unequal_probability_sample():
    """Two strata with different factor means; stratum A is sampled at 4 times the rate of B. The
    unweighted intercepts are biased toward A; inverse-probability weights recover the population means
    (0.5 * mean_A + 0.5 * mean_B) within sampling error."""
    rng = np.random.default_rng(20261201)
    n_a, n_b = 16000, 4000  # population shares .5/.5, sample shares .8/.2
    shift = np.r_[np.zeros(n_a), np.ones(n_b)]  # factor mean 0 in A, 1 in B
    f = shift + rng.normal(size=n_a + n_b)
    lam = np.array([1.0, 0.8, 0.6])
    y = 2.0 + f[:, None] * lam + rng.normal(scale=0.6, size=(n_a + n_b, 3))
    data = pd.DataFrame(y, columns=["y1", "y2", "y3"]).assign(w=np.r_[np.full(n_a, 0.5 / 0.8),
                                                                       np.full(n_b, 0.5 / 0.2)])
    truth = 2.0 + 0.5 * lam  # population mean of each item
    model = "F =~ y1 + y2 + y3"
    weighted = fit(model, data, sampling_weights="w", meanstructure=True).estimates()
    plain = fit(model, data, meanstructure=True).estimates()
    w_int = weighted[weighted["op"] == "~1"].set_index("lhs")["est"].loc[["y1", "y2", "y3"]].to_numpy()
    p_int = plain[plain["op"] == "~1"].set_index("lhs")["est"].loc[["y1", "y2", "y3"]].to_numpy()
    w_se = weighted[weighted["op"] == "~1"].set_index("lhs")["se"].loc[["y1", "y2", "y3"]].to_numpy()
    assert np.all(np.abs(w_int - truth) < 4 * w_se)
    assert np.all(p_int - truth < -0.15)  # unweighted: about 0.3 * lambda too low
    # the loadings are the same in both strata, so both fits recover them
    w_load = weighted[weighted["op"] == "=~"]["est"].to_numpy()
    np.testing.assert_allclose(w_load, lam / lam[0], atol=0.03)


@pytest.mark.parametrize("column,values,message", [
    ("nope", None, "sampling weight column not found in the data"),
    ("w", {3: -1.0}, "row 4, column 'w', field 'sampling_weights', value -1.0: sampling weight is negative"),
    ("w", {0: np.nan}, "row 1, column 'w', field 'sampling_weights': sampling weight is missing"),
    ("w", {2: "heavy"}, "row 3, column 'w', field 'sampling_weights', value 'heavy': sampling weight is not "
                        "a number"),
    ("w", "zero", "every sampling weight is zero"),
    ("w", {5: np.inf}, "row 6, column 'w', field 'sampling_weights', value inf: sampling weight is infinite"),
])
def test_bad_weights_are_one_line_errors(frames, column, values, message):
    d = frames["d"].copy()
    if values == "zero":
        d["w"] = 0.0
    elif values:
        d["w"] = d["w"].astype(object)
        for row, value in values.items():
            d.loc[row, "w"] = value
    with pytest.raises(SurveyInputError) as info:
        fit(REF["models"]["cfa"], d, sampling_weights=column)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_cluster_and_option_combinations_are_refused(frames):
    d = frames["d"]
    model = REF["models"]["cfa"]
    bad = [({"cluster": "nope"}, "cluster column not found"),
           ({"cluster": "one"}, "at least two clusters"),
           ({"cluster": "cid", "estimator": "MLM", "se": "standard"},
            "MLM with cluster= uses se robust.cluster.sem"),
           ({"cluster": "cid", "se": "standard"}, "se must be default, robust.cluster or none"),
           ({"sampling_weights": "w", "se": "bootstrap", "bootstrap": 10},
            "bootstrap is not available with sampling weights (lavaan: weights run ML as MLR"),
           ({"cluster": "cid", "bootstrap": 10}, "bootstrap is not available with clusters (lavaan: se must"),
           ({"sampling_weights": "w", "sampling_weights_normalization": "sum"}, "must be one of total")]
    for options, message in bad:
        with pytest.raises(SurveyInputError, match=re.escape(message)):
            fit(model, d, **options)
    zero_group = d.assign(w=d["w"].where(d["gender"] == 1, 0.0))
    with pytest.raises(SurveyInputError, match="every sampling weight in group '2' is zero"):
        fit(model, zero_group, sampling_weights="w", group="gender")
    holes = d.assign(cid=d["cid"].astype(float).where(d.index != 7))
    with pytest.raises(SurveyInputError, match=r"row 8, column 'cid', field 'cluster': cluster value is "):
        fit(model, holes, cluster="cid")


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    from survey.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_cli_fit_with_weights_and_cluster_equals_lavaan(tmp_path, capsys):
    model = tmp_path / "m.lav"
    model.write_text(REF["models"]["sem"] + "\n")
    data = str(HERE / "weighted.csv")
    code, out, _ = _run(["fit", str(model), data, "--weights", "w", "--cluster", "cid", "--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    ref = REF["cases"]["sem_w_cluster_ml"]
    for name in ("chisq", "chisq.scaled", "cfi.robust", "rmsea.robust", "srmr", "logl"):
        assert obj["fit_measures"][name] == pytest.approx(ref["fit_measures"][name], abs=1e-3), name
    se = {(e["lhs"], e["op"], e["rhs"]): e["se"] for e in obj["estimates"]}
    for row in ref["estimates"]:
        assert se[(row["lhs"], row["op"], row["rhs"])] == pytest.approx(row["se"], abs=1e-3)
    assert any("cluster-robust" in w for w in obj["warnings"])


@pytest.mark.parametrize("flags,message", [
    (["--weights", "nope"], "weighted.csv: column 'nope', field 'sampling_weights': sampling weight column"),
    (["--weights", "x"], "weighted.csv: row 1, column 'x', field 'sampling_weights', value -1.456: sampling "
                         "weight is negative"),
    (["--cluster", "nope"], "weighted.csv: column 'nope', field 'cluster': cluster column not found"),
])
def test_cli_bad_weights_exit_2_with_one_line(tmp_path, capsys, flags, message):
    model = tmp_path / "m.lav"
    model.write_text(REF["models"]["cfa"] + "\n")
    data = tmp_path / "weighted.csv"
    frame = pd.read_csv(HERE / "weighted.csv")
    frame.loc[0, "x"] = -1.456
    frame.to_csv(data, index=False)
    code, out, err = _run(["fit", str(model), str(data), *flags, "--json"], capsys)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_explicit_constraint_with_weights_equals_lavaan():
    """A weighted fit under an explicit equality constraint (a == b; lavaan runs it as MLR with the
    augmented information): estimates, SEs and the tests = lavaan 0.6.14 (make_constraints.R)."""
    ref = json.loads((HERE / "constraints.json").read_text())
    data = pd.read_csv(HERE / "weighted.csv")
    res = fit(ref["model"], data, sampling_weights="w")
    fm = res.fit_measures()
    for name, value in ref["fit"].items():
        assert fm[name] == pytest.approx(value, abs=1e-3), name
    est = res.estimates().set_index(["lhs", "op", "rhs"])
    for row in ref["estimates"]:
        got = est.loc[(row["lhs"], row["op"], row["rhs"])]
        assert got["est"] == pytest.approx(row["est"], abs=1e-3)
        assert got["se"] == pytest.approx(row["se"], abs=1e-3)
