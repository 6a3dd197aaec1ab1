"""The demo population misfits the analysis model the way fielded surveys do, and the diagnostics find
what was planted: a method factor of the reverse-keyed items, cross-loadings (EMO2 on AUT, CON2 on SKL,
PEER3 on SHI) and a correlated residual (SHI1 ~~ SHI3). The analysis CFA omits all three."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.simulate import DEFAULT_POPULATION

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "survey" / "data" / "demo"
REVERSED = set(DEFAULT_POPULATION.method_loadings)


@pytest.fixture(scope="module")
def cfa():
    from survey.instrument import lavaan_model, load_instrument
    from survey.quality import prepare
    from survey.report.inputs import reverse_keyed
    from survey.sem import fit

    inst = load_instrument("follow-drivers@1.0.0")
    data = prepare([(DEMO / "wave1.csv", "follow-drivers@1.0.0"),
                    (DEMO / "wave2.csv", "follow-drivers@1.1.0")]).clean
    scored = reverse_keyed(data, inst)
    items = [i.id for i in inst.items if i.construct and i.id != "AUT2"]  # AUT2 reworded in 1.1.0
    model = "".join(line + "\n" for line in lavaan_model(inst, items=items).splitlines() if "=~" in line)
    return fit(model, scored.dropna(subset=items))


def test_the_demo_cfa_does_not_fit_perfectly(cfa) -> None:
    f = cfa.fit_measures()
    assert f["pvalue"] < 0.001                     # no longer chi-square p = .68 at N > 1,000
    assert 0.94 < f["cfi"] < 0.99 and 0.015 < f["rmsea"] < 0.06  # but a good, believable fit


def test_modification_indices_point_at_what_was_planted(cfa) -> None:
    mi = cfa.modindices(sort=True)
    top = mi.head(15)
    names = {f"{r.lhs}{r.op}{r.rhs}" for r in top.itertuples()}
    planted = {"AUT=~EMO2", "SKL=~CON2", "SHI=~PEER3", "SHI1~~SHI3"}
    assert planted <= names, sorted(names)
    method_pairs = [r for r in top.itertuples() if r.op == "~~" and {r.lhs, r.rhs} <= REVERSED]
    assert len(method_pairs) >= 4  # residual covariances among the reverse-keyed items (the method factor)
    explained = sum(1 for n in names if n in planted) + len(method_pairs)
    assert explained >= 10  # most of the largest indices are the planted misfit


def test_describe_states_the_misfit() -> None:
    text = DEFAULT_POPULATION.describe(pseudo_true=False)
    assert "method factor of the reverse-keyed items" in text
    assert "cross-loading: EMO2 on AUT 0.20" in text
    assert "correlated residual: SHI1 ~~ SHI3, residual correlation 0.35" in text
