"""Issue 16 point 1 (brief ordcov): group.equal = "means" in two-group ordinal fits, delta and theta, with
"intercepts", std.lv, continuous items beside the ordered ones, observed covariates and group.partial,
against lavaan 0.6.14 (tests/fixtures/ordinal_cov_equal/equal_means.json; make_cases.R beside it).

lavaan 0.6.14 frees the latent means of group 2 with equal thresholds (or intercepts) unless "means" is in
group.equal; then they stay at group 1's 0, and group.partial of a latent mean does not free it
(case partial_means_theta)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ordinal_group_harness import FIXTURES, check_case, fitted, load

CASES = load("equal_means")


@pytest.mark.parametrize("case", sorted(CASES))
def test_group_equal_means_equal_lavaan(case):
    check_case("equal_means", case)


@pytest.mark.parametrize("case", ["means_theta", "partial_means_theta", "x_means_theta"])
def test_latent_means_of_group_two_stay_fixed_at_zero(case):
    est = fitted("equal_means", case).estimates()
    means = est[(est["op"] == "~1") & est["lhs"].isin(["A", "C"]) & (est["group"] == 2)]
    assert len(means) >= 1 and (means["est"] == 0).all() and (means["se"] == 0).all()


def test_cli_group_equal_means_and_residual_covariances(tmp_path, capsys):
    from survey.cli import main

    ref = CASES["mixed_means_delta"]  # A1..A5 ordered, C1..C5 continuous
    model = tmp_path / "m.lav"
    model.write_text(ref["model"])
    data = FIXTURES / "ordinal_options" / "bfi_weighted.csv"
    try:
        main(["fit", str(model), str(data), "--ordered", ",".join(ref["options"]["ordered"]), "--group",
              "gender", "--group-equal", ",".join(ref["group_equal"]), "--json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    assert code == 0, out.err
    got = json.loads(out.out)["fit_measures"]
    for key in ("chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled"):
        assert got[key] == pytest.approx(ref["fit_measures"][key], abs=1e-3), key


MI = json.loads((FIXTURES / "ordinal_cov_equal" / "modindices.json").read_text())["cases"]


@pytest.mark.parametrize("case", sorted(MI))
def test_modindices_score_the_fixed_latent_means_as_lavaan(case):
    ref = pd.DataFrame(MI[case]["modindices"])
    ours = fitted(MI[case]["file"], case).modindices()
    both = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="outer", suffixes=("_ref", ""),
                     indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(ref)
    for col in ("mi", "epc", "sepc.lv", "sepc.all", "sepc.nox"):
        np.testing.assert_allclose(both[col], both[f"{col}_ref"], atol=1e-3, err_msg=col)
    if "means" in load(MI[case]["file"])[case]["group_equal"]:  # A~1, C~1 in both groups
        assert len(both[(both["op"] == "~1") & both["lhs"].isin(["A", "C"])]) == 4
