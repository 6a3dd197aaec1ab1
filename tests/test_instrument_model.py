"""The generated lavaan model fits (semopy), recovers the known truth of a simulated factor model, and
gives the same ML estimates as lavaan 0.6.14 on the same covariance matrix.

Reference: tests/fixtures/instrument/make_reference.R fits ``model.lav`` (written by
``python tests/test_instrument_model.py``, with ``sample_cov.csv``) in lavaan and stores
``reference.json``; R is not needed to run these tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import semopy

from survey.instrument import Instrument, lavaan_model, load_instrument

FIXTURES = Path(__file__).parent / "fixtures" / "instrument"
REF_N = 800
REF_SEED = 7
B_TRUE = {"SHI": 0.30, "SKL": 0.15, "AUT": 0.25, "EMO": 0.35, "CON": 0.10, "PEER": 0.20}
C_TRUE = 0.5
LOADING = 0.8  # every loading but the marker (first item, fixed to 1 by the marker-variable convention)


def simulate(inst: Instrument, n: int, seed: int) -> pd.DataFrame:
    """Continuous responses from the instrument's model: correlated drivers (r = .3), FOL = sum b*driver
    + zeta, FOLLOWED30 = c*FOL + e; reverse-keyed items load negatively (data as answered)."""
    rng = np.random.default_rng(seed)
    drivers = list(B_TRUE)
    phi = np.full((len(drivers), len(drivers)), 0.3)
    np.fill_diagonal(phi, 1.0)
    # Cholesky: the SVD default factor of phi (its eigenvalue .7 repeated) differs between LAPACK builds and
    # CPUs, and so would the draws
    xi = rng.multivariate_normal(np.zeros(len(drivers)), phi, size=n, method="cholesky")
    latent = {d: xi[:, k] for k, d in enumerate(drivers)}
    latent["FOL"] = sum(B_TRUE[d] * latent[d] for d in drivers) + rng.normal(0.0, 0.6, n)
    cols: dict[str, np.ndarray] = {}
    for code in inst.construct_codes:
        for j, item_id in enumerate(inst.indicators(code)):
            lam = (1.0 if j == 0 else LOADING) * inst.item(item_id).keyed
            cols[item_id] = lam * latent[code] + rng.normal(0.0, 0.6, n)
    cols["FOLLOWED30"] = C_TRUE * latent["FOL"] + rng.normal(0.0, 0.8, n)
    return pd.DataFrame(cols)


def semopy_syntax(desc: str) -> str:
    """semopy does not parse lavaan's defined parameters (``:=``): drop those lines."""
    return "\n".join(line for line in desc.splitlines() if ":=" not in line)


@pytest.mark.parametrize("common_only", [False, True])
def test_generated_model_fits_and_recovers_truth(common_only: bool) -> None:
    inst = load_instrument("follow-drivers@1.1.0")
    data = simulate(inst, n=1500, seed=20261128)
    items = None
    if common_only:  # the pooled analysis: items common to 1.0.0 and 1.1.0, AUT2 excluded
        items = (set(load_instrument("follow-drivers@1.0.0").item_ids) & set(inst.item_ids)) - {"AUT2"}
        data = data[[c for c in data.columns if c in items]]
    desc = lavaan_model(inst, items=items)
    model = semopy.Model(semopy_syntax(desc))
    result = model.fit(data)
    assert "successful" in str(result).lower()
    est = model.inspect()
    paths = est[(est["op"] == "~") & (est["lval"] == "FOL")].set_index("rval")["Estimate"]
    indicators = [i for code in inst.construct_codes for i in inst.indicators(code)]
    loadings = est[(est["op"] == "~") & est["lval"].isin(indicators)]
    for driver, truth in B_TRUE.items():
        assert abs(paths[driver] - truth) < 0.08, (driver, paths[driver])
    c_hat = est[(est["op"] == "~") & (est["lval"] == "FOLLOWED30")]["Estimate"].iloc[0]
    assert abs(c_hat - C_TRUE) < 0.06
    # indirect effects ind_X := b_X * c_FOL recover b_X * c
    for driver, truth in B_TRUE.items():
        assert abs(paths[driver] * c_hat - truth * C_TRUE) < 0.05
    # the reverse-keyed item 4 of each driver loads negatively, the free loadings near 0.8 in size
    free = loadings[loadings["Estimate"] != 1.0]
    assert np.all(np.abs(np.abs(free["Estimate"]) - LOADING) < 0.08)
    for driver in B_TRUE:
        assert free.set_index("lval").loc[f"{driver}4", "Estimate"] < 0
    # 28 loadings in 1.1.0 (CON5 included), 26 in the common set (CON5 and AUT2 out); 7 markers fixed
    assert len(loadings) == (26 if common_only else 28) and len(free) == len(loadings) - 7


def reference_input() -> tuple[str, pd.DataFrame]:
    """The model and sample covariance (n - 1 denominator) given to lavaan by make_reference.R."""
    inst = load_instrument("follow-drivers@1.1.0")
    data = simulate(inst, n=REF_N, seed=REF_SEED)
    return lavaan_model(inst), data.cov()


def test_same_estimates_as_lavaan() -> None:
    desc, cov = reference_input()
    assert (FIXTURES / "model.lav").read_text(encoding="utf-8") == desc
    stored = pd.read_csv(FIXTURES / "sample_cov.csv", index_col=0)
    assert list(stored.columns) == list(cov.columns)
    assert np.max(np.abs(stored.to_numpy() - cov.to_numpy())) < 1e-9
    ref = json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))
    model = semopy.Model(semopy_syntax(desc))
    model.fit(cov=stored, n_samples=REF_N)
    est = model.inspect()
    measurement = {(p["lhs"], p["rhs"]) for p in ref["estimates"] if p["op"] == "=~"}
    ours: dict[tuple[str, str, str], float] = {}
    for row in est.itertuples(index=False):
        if row.op == "~":  # semopy writes a loading as item ~ factor
            loading = (row.rval, row.lval) in measurement
            key = (row.rval, "=~", row.lval) if loading else (row.lval, "~", row.rval)
        else:
            key = (row.lval, row.op, row.rval)
        ours[key] = float(row.Estimate)
        if row.op == "~~":
            ours[(row.rval, "~~", row.lval)] = float(row.Estimate)
    diffs = []
    for p in ref["estimates"]:
        if p["op"] == ":=":
            continue
        diffs.append(abs(ours[(p["lhs"], p["op"], p["rhs"])] - p["est"]))
    assert len(diffs) == ref["npar_total"]
    assert max(diffs) < 1e-3, max(diffs)
    # the defined parameters ind_X := b_X*c_FOL, evaluated on our estimates, match lavaan's
    c_fol = ours[("FOLLOWED30", "~", "FOL")]
    for p in ref["estimates"]:
        if p["op"] == ":=":
            driver = p["lhs"].removeprefix("ind_")
            assert abs(ours[("FOL", "~", driver)] * c_fol - p["est"]) < 1e-3


if __name__ == "__main__":  # writes the inputs of make_reference.R
    if "--write-fixture" in sys.argv:
        FIXTURES.mkdir(parents=True, exist_ok=True)
        model_text, sample_cov = reference_input()
        (FIXTURES / "model.lav").write_text(model_text, encoding="utf-8")
        sample_cov.to_csv(FIXTURES / "sample_cov.csv", float_format="%.17g")
