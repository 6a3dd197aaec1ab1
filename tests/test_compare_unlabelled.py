"""--compare-paths on a model whose paths carry no labels: the same tests as with labels (the constraint
parser takes lavaan's names of unlabelled parameters, "FOL~SHI")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from survey.cli import main
from survey.sem import fit
from survey.sem.compare import constraint_matrix
from survey.sem.compare_fitted import compare_paths_fitted

DATA = Path(__file__).parent / "fixtures" / "sem" / "study.csv"
MEASURE = "\n".join(f"{d} =~ {d}1 + {d}2 + {d}3 + {d}4" for d in ("SHI", "SKL", "AUT"))
MEASURE += "\nFOL =~ FOL1 + FOL2 + FOL3\n"
UNLABELLED = MEASURE + "FOL ~ SHI + SKL + AUT\n"
LABELLED = MEASURE + "FOL ~ b1*SHI + b2*SKL + b3*AUT\n"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(DATA)


def test_unlabelled_paths_give_the_labelled_results(data):
    ours = compare_paths_fitted(fit(UNLABELLED, data), "FOL", data=data, seed=1)
    ref = compare_paths_fitted(fit(LABELLED, data), "FOL", data=data, seed=1)
    assert ours.omnibus.stat == pytest.approx(ref.omnibus.stat, rel=1e-8)
    assert ours.omnibus.df == ref.omnibus.df == 2
    assert ours.lrt.chisq_diff == pytest.approx(ref.lrt.chisq_diff, abs=1e-6)
    assert list(ours.std_paths["est.std"]) == pytest.approx(list(ref.std_paths["est.std"]), abs=1e-10)


def test_constraints_on_lavaan_parameter_names():
    r, rhs = constraint_matrix(["FOL~SHI == FOL~SKL", "2*x1~~x2 - F=~x3 == 0"],
                               ["FOL~SHI", "FOL~SKL", "x1~~x2", "F=~x3"])
    assert r.to_numpy().tolist() == [[1, -1, 0, 0], [0, 0, 2, -1]] and list(rhs) == [0, 0]


def test_cli_compare_paths_without_labels(tmp_path, capsys):
    model = tmp_path / "m.lav"
    model.write_text(UNLABELLED)
    with pytest.raises(SystemExit) as info:
        main(["fit", str(model), str(DATA), "--compare-paths", "FOL"])
    out = capsys.readouterr().out
    assert (info.value.code or 0) == 0
    assert "All unstandardized paths equal (Wald, as lavTestWald)" in out
    assert "Equal paths, likelihood-ratio test" in out
