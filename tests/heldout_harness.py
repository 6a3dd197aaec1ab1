"""The comparison of a held-out set of lavaan models with survey's fits (tests/test_heldout.py,
tests/test_heldout2.py): each case of the set's JSON (made by its R script) is fitted through
survey.cfa / sem / growth / fit with lavaan's options and must equal lavaan: est, se, std.all within 1e-3
(relative beyond 1), the fit measures within 1e-3 (logl, AIC, BIC 1e-5; every other fitMeasures() entry
we report as well); summary() runs; ``survey fit ... --json`` gives lavaan's chi-square and estimates."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import survey
from survey.errors import SurveyInputError

RUNNER = {"cfa": survey.cfa, "sem": survey.sem, "growth": survey.growth, "lavaan": survey.fit}
# lavaan() itself: no auto.* options (survey.fit has sem()'s defaults)
LAVAAN = dict(int_ov_free=False, int_lv_free=False, auto_fix_first=False, auto_fix_single=False,
              auto_var=False, auto_cov_lv_x=False, auto_cov_y=False)
TIGHT = {"logl", "unrestricted.logl", "aic", "bic", "bic2"}
INCREMENTAL = ("baseline", "cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")
LOGL_KEYS = {"logl", "unrestricted.logl", "aic", "bic", "bic2"}
FLAGS = {"estimator": "--estimator", "group": "--group", "information": "--information", "se": "--se",
         "sampling.weights": "--weights", "cluster": "--cluster"}


def close(key: str, got: float, want: float) -> bool:
    if key in TIGHT:
        return abs(got - want) <= 1e-5 * max(1.0, abs(want))
    return abs(got - want) <= 1e-3 or (math.isnan(got) and math.isnan(want))


def py_options(opts: dict) -> dict:
    """lavaan's argument names and values -> survey.fit keywords (std.lv -> std_lv, "ml" -> "fiml")."""
    out = {}
    for key, value in opts.items():
        key = key.replace(".", "_")
        if key == "missing" and value == "ml":
            value = "fiml"
        out[key] = value
    return out


@dataclass
class HeldoutSet:
    """One held-out set: its folder and JSON, the cases whose baseline is compared with another case's
    (``same_baseline``, unit-dependent lavaan baselines) and the secondary measures left open per case."""

    folder: Path
    json_name: str
    same_baseline: dict[str, str] = field(default_factory=dict)
    known: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ref = json.loads((self.folder / self.json_name).read_text())
        self.data = {name: pd.read_csv(self.folder / f"{name}.csv")
                     for name in {c["data"] for c in self.ref["cases"].values()}}
        self._fits: dict[str, object] = {}

    def fitted(self, name: str):
        """The case's fit, made once and shared by the tests of its estimates, r2 and modindices."""
        if name not in self._fits:
            self._fits[name] = self.fit_case(name)
        return self._fits[name]

    def params(self, xfail: dict[str, str]) -> list:
        return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=xfail[n])) if n in xfail else n
                for n in self.ref["cases"]]

    def reference(self, name: str, key: str, want: float, table: str = "fit_measures") -> float:
        """lavaan's value of a measure, or for the unit-dependent cases that of the case named there."""
        if name not in self.same_baseline:
            return want
        swap = key.split(".")[0] in INCREMENTAL or (key in LOGL_KEYS and name.startswith("hs_std_ov"))
        return self.ref["cases"][self.same_baseline[name]][table].get(key, want) if swap else want

    def fit_case(self, name: str):
        case = self.ref["cases"][name]
        opts = py_options(case["opts"] or {})
        if case["fun"] == "lavaan":
            opts = {**LAVAAN, **opts}
        return RUNNER[case["fun"]](self.ref["models"][case["model"]], self.data[case["data"]], **opts)

    def check_refusal(self, name: str, reason: str) -> None:
        """lavaan refuses the case with ``reason`` (its message, in the fixture); so do we, in one line."""
        assert reason in self.ref["cases"][name]["error"]
        with pytest.raises(SurveyInputError) as info:
            self.fit_case(name)
        assert reason in str(info.value) and "\n" not in str(info.value).strip()

    def check_model(self, name: str) -> None:
        """The case's fit equals lavaan's: fit measures, then est / se / std.all row by row."""
        case = self.ref["cases"][name]
        res = self.fitted(name)
        fm = res.fit_measures()
        for key, want in case["fit_measures"].items():
            want = self.reference(name, key, want)
            if want is None or (isinstance(want, float) and math.isnan(want)):
                continue
            assert key in fm, f"{key} missing"
            assert close(key, float(fm[key]), want), f"{key}: ours {fm[key]} lavaan {want}"
        # every other fitMeasures() entry we report (Hoelter's CN of a saturated fit is lavaan's 0/0 noise)
        for key, want in case["fit_measures_all"].items():
            want = self.reference(name, key, want, "fit_measures_all")
            if key in self.known.get(name, ()):
                continue
            if key in fm and isinstance(want, (int, float)) and not (key.startswith("cn_") and fm["df"] == 0):
                assert close(key, float(fm[key]), float(want)), f"{key}: ours {fm[key]} lavaan {want}"
        ours = res.estimates()
        if "group" not in ours:
            ours = ours.assign(group=1)
        ref = pd.DataFrame(case["estimates"])
        if not pd.api.types.is_numeric_dtype(ref["group"]):  # lavaan names the groups (group: blocks)
            number = {g: i + 1 for i, g in enumerate(res.group_labels)}
            ref["group"] = ref["group"].map(lambda g: number.get(g, 0))
        keys = ["lhs", "op", "rhs", "group"]
        if "level" in ref:  # two-level fits: lavaan's level column (1/2 or the block names)
            ref["level"] = ref["level"].astype(str)
            ours = ours.assign(level=ours["level"].astype(str))
            keys.append("level")
        both = ref.merge(ours, on=keys, how="left", suffixes=("_ref", ""), indicator=True)
        missing = both.loc[both["_merge"] != "both", keys]
        assert missing.empty, f"rows lavaan reports that we do not:\n{missing}"
        for col in ("est", "se", "std.all"):
            if f"{col}_ref" not in both:  # se = "none": lavaan reports no se column; ours NaN (fixed: 0)
                assert col not in both or ((both[col] == 0) | both[col].isna()).all(), f"{col}: lavaan none"
                continue
            want = both[f"{col}_ref"].to_numpy(dtype=float)
            got = both[col].to_numpy(dtype=float)
            ok = np.isfinite(want)
            bad = ok & ~(np.abs(got - want) <= 1e-3 * np.maximum(1.0, np.abs(want)))  # relative beyond 1
            assert not bad.any(), f"{col}:\n{both.loc[bad, keys + [f'{col}_ref', col]]}"
        text = res.summary()
        assert isinstance(text, str) and "Estimate" in text

    def check_r2(self, name: str) -> None:
        """``r2()`` equals lavaan's ``lavInspect(fit, "r2")`` (per group label with groups), the same
        variables, each within 1e-3."""
        res = self.fitted(name)
        want = self.ref["cases"][name]["r2"]
        ours = res.r2()
        if not isinstance(want, list):  # groups: one mapping per group label
            assert set(ours) == set(want), f"groups {set(ours)} vs {set(want)}"
            pairs = [(ours[g], want[g]) for g in want]
        else:
            pairs = [(ours, want[0])]
        for got, ref in pairs:
            assert set(got) == set(ref), f"r2 variables: ours {sorted(got)} lavaan {sorted(ref)}"
            for var, value in ref.items():
                if value is None:  # lavaan's NA: an R-square above 1 (a negative residual variance)
                    assert math.isnan(got[var]), f"r2 {var}: ours {got[var]} lavaan NA"
                    continue
                assert abs(got[var] - value) <= 1e-3, f"r2 {var}: ours {got[var]} lavaan {value}"

    def check_modindices(self, name: str) -> None:
        """``modindices()`` equals lavaan's: the same candidate rows, mi / epc / sepc.all within 1e-3
        (relative beyond 1)."""
        res = self.fitted(name)
        ref = pd.DataFrame(self.ref["cases"][name]["modindices"])
        ours = res.modindices()
        if "group" not in ours:
            ours = ours.assign(group=1)
        if not pd.api.types.is_numeric_dtype(ref["group"]):
            number = {g: i + 1 for i, g in enumerate(res.group_labels)}
            ref["group"] = ref["group"].map(lambda g: number.get(g, 0))
        keys = ["lhs", "op", "rhs", "group"]
        both = ref.merge(ours, on=keys, how="outer", suffixes=("_ref", ""), indicator=True)
        # lavaan lists some fixed.x moments (fitted exactly) with mi ~1e-30, others not (rounding); we list
        # none of them (survey.sem.results.modindices)
        noise = (both["_merge"] == "left_only") & (both["mi_ref"].abs() < 1e-10)
        both = both[~noise]
        odd = both.loc[both["_merge"] != "both", keys + ["_merge"]]
        assert odd.empty, f"candidates lavaan and we do not share (left_only: lavaan's):\n{odd}"
        for col in ("mi", "epc", "sepc.all"):
            want = both[f"{col}_ref"].to_numpy(dtype=float)
            got = both[col].to_numpy(dtype=float)
            ok = np.isfinite(want)
            bad = ok & ~(np.abs(got - want) <= 1e-3 * np.maximum(1.0, np.abs(want)))
            assert not bad.any(), f"{col}:\n{both.loc[bad, keys + [f'{col}_ref', col]]}"

    def cli_args(self, name: str) -> list[str]:
        """``survey fit`` flags for a case's lavaan options (the rest as ``--option NAME=VALUE``)."""
        case = self.ref["cases"][name]
        args = ["--option", "model.type=growth"] if case["fun"] == "growth" else []
        for key, value in (case["opts"] or {}).items():
            if key in FLAGS:
                args += [FLAGS[key], str(value)]
            elif key == "missing":
                args += ["--missing", "fiml" if value == "ml" else value]
            elif key in ("group.equal", "group.partial", "ordered"):
                args += ["--" + key.replace(".", "-"), ",".join(value)]
            elif key in ("std.lv", "orthogonal", "meanstructure"):
                args += ["--" + key.replace(".", "-")] if value else []
            else:
                args += ["--option", f"{key}={str(value).upper() if isinstance(value, bool) else value}"]
        return args

    def check_cli(self, name: str, tmp_path: Path, capsys) -> None:
        """``survey fit model.lav data.csv --json`` exits 0 with lavaan's chi-square and estimates."""
        from survey.cli import main

        case = self.ref["cases"][name]
        model = tmp_path / f"{name}.lav"
        model.write_text(self.ref["models"][case["model"]])
        with pytest.raises(SystemExit) as info:
            data = self.folder / f"{case['data']}.csv"
            main(["fit", str(model), str(data), "--json", *self.cli_args(name)])
        out = capsys.readouterr().out
        assert (info.value.code or 0) == 0, out
        obj = json.loads(out)
        assert obj["fit_measures"]["chisq"] == pytest.approx(case["fit_measures"]["chisq"], abs=1e-3)
        ours = pd.DataFrame(obj["estimates"])
        if "group" not in ours:
            ours = ours.assign(group=1)
        ref = pd.DataFrame(case["estimates"])
        both = ref.merge(ours, on=["lhs", "op", "rhs", "group"], suffixes=("_ref", ""))
        assert len(both) == len(ref)
        np.testing.assert_allclose(both["est"], both["est_ref"], atol=1e-3)
