"""The simulated study: population truth, clean responses, contamination, exports, demo data, CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from survey.cli import main
from survey.instrument import load_instrument
from survey.simulate import (
    DEFAULT_POPULATION,
    DRIVERS,
    PopulationModel,
    demo_files,
    export_bytes,
    population_reliability,
    simulate_clean,
    simulate_raw,
    write_demo,
    write_simulation,
)
from survey.simulate.export import qualtrics_bytes
from survey.simulate.metadata import META_COLUMNS

POP = DEFAULT_POPULATION
V100 = "follow-drivers@1.0.0"
V110 = "follow-drivers@1.1.0"


@pytest.fixture(scope="module")
def inst110():
    return load_instrument(V110)


@pytest.fixture(scope="module")
def raw1000(inst110):
    return simulate_raw(1000, 11, inst110)


@pytest.fixture(scope="module")
def big_clean(inst110):
    data, _ = simulate_clean(60_000, 5, inst110)
    for item, key in inst110.keys().items():
        if key == -1:
            data[item] = 8 - data[item]
    return data


# ------------------------------------------------------------------ population model
def test_population_r2_and_phi():
    b = np.array([0.25, 0.18, 0.15, 0.30, 0.08, 0.10])
    phi = POP.phi_matrix
    assert list(DRIVERS) == ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]
    assert POP.r2 == pytest.approx(float(b @ phi @ b), abs=1e-15)
    assert POP.r2 == pytest.approx(0.58315, abs=1e-12)
    assert POP.residual_variance == pytest.approx(1 - 0.58315, abs=1e-12)
    assert np.linalg.eigvalsh(phi).min() > 0.3
    off = phi[np.triu_indices(6, 1)]
    assert off.min() >= 0.30 and off.max() <= 0.60 and 0.37 <= off.mean() <= 0.42
    assert all(0.65 <= v <= 0.85 for v in POP.loadings.values())
    assert POP.latent_covariance().loc["FOL", "FOL"] == pytest.approx(1.0)


def test_population_rejects_impossible_models():
    with pytest.raises(ValueError):
        PopulationModel(paths={"SHI": 0.9, "SKL": 0.9, "AUT": 0.9, "EMO": 0.9, "CON": 0.9, "PEER": 0.9})


def test_describe_prints_the_truth():
    text = POP.describe(pseudo_true=False)
    assert "implied R2(FOL) = b' Phi b = 0.58315" in text
    assert "PEER2 is +0.60 SD" in text and "not findings" in text
    for d, b in POP.paths.items():
        assert f"{d} {b:.2f}" in text


def test_population_reliability_formulas():
    rel = population_reliability()
    # SKL's items share no planted misfit among them (SKL4's method loading stays within its own unit
    # variance), so their omega is McDonald's formula
    lam = np.array([0.82, 0.76, 0.70, 0.65])
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert rel.loc["SKL", "omega_latent"] == pytest.approx(omega, abs=1e-6)
    assert rel.loc["CON", "n_items"] == 5
    assert population_reliability(items=load_instrument(V100).item_ids).loc["CON", "n_items"] == 4
    # coarse skewed categories attenuate reliability
    assert (rel["omega"] < rel["omega_latent"]).all() and (rel["alpha"] < rel["omega_latent"]).all()


def test_population_covariance_of_category_scores_matches_simulation(big_clean):
    """The exact population covariance of the 7-point scores (and the count) against 60,000 draws."""
    items = ["SHI1", "SHI4", "EMO3", "PEER2", "FOL1"]
    sigma = POP.observed_covariance(items, count=True)
    sample = big_clean[[*items, "FOLLOWED30"]].cov()
    diff = (sigma - sample).abs().to_numpy()
    assert diff[:-1, :-1].max() < 0.03  # item variances ~1.5, SE of a covariance ~0.008
    assert diff[-1, :-1].max() < 0.12  # Cov(count, item), SE ~0.03
    rel = population_reliability()
    shi = big_clean[POP.items_of("SHI")]
    k = shi.shape[1]
    alpha = k / (k - 1) * (1 - shi.var().sum() / shi.sum(axis=1).var())
    assert alpha == pytest.approx(rel.loc["SHI", "alpha"], abs=0.01)


def test_count_moments_match_simulation(big_clean):
    cm = POP.count_moments()
    assert big_clean["FOLLOWED30"].mean() == pytest.approx(cm["mean"], rel=0.02)
    assert big_clean["FOLLOWED30"].var() == pytest.approx(cm["var"], rel=0.06)
    assert big_clean["MINUTES"].between(1, 1440).all()
    assert big_clean["MINUTES"].skew() > 1


# ------------------------------------------------------------------ clean responses
def test_clean_responses_shape_skew_and_keying(inst110):
    data, truth = simulate_clean(3000, 3, inst110)
    assert truth["instrument"] == V110 and truth["population"]["r2_FOL"] == 0.58315
    likert = [i.id for i in inst110.items
              if inst110.scale_of(i.id).type == "ordinal" and i.role != "demographic"]
    assert data[likert].isin(range(1, 8)).all().all()
    assert "COMMENT" not in data.columns
    assert (data[["ATT1", "ATT2"]] == [2, 6]).all().all()
    # piled toward agreement (not normal): positively keyed items have mean > 4.5 and negative skew
    assert data["SHI1"].mean() > 4.5 and data["SHI1"].skew() < -0.3
    # reverse-keyed items are written as answered: they correlate negatively with their construct
    for d in DRIVERS:
        assert data[f"{d}4"].corr(data[f"{d}1"]) < -0.3
        assert data[f"{d}2"].corr(data[f"{d}1"]) > 0.3


def test_same_seed_same_people_under_both_versions():
    old, _ = simulate_clean(500, 9, V100)
    new, _ = simulate_clean(500, 9, V110)
    assert "CON5" not in old.columns and "CON5" in new.columns
    common = [c for c in old.columns if c in new.columns]
    pd.testing.assert_frame_equal(old[common], new[common])


def test_planted_noninvariance_peer2_age_band_1(big_clean):
    """PEER2 (not PEER1) has a higher intercept in band 1; expected mean shift from the threshold model."""
    from scipy.special import ndtr

    tau = POP.item_thresholds("PEER2")
    lam = POP.loadings["PEER2"]
    # E[x | group] = 1 + sum_a Phi((nu - tau_a)) marginally (y* ~ N(nu, 1)); the shift is nu = 0.6
    expected = float((ndtr(0.6 - tau) - ndtr(-tau)).sum())
    band1 = big_clean["AGEBAND"] == 1
    got = big_clean.loc[band1, "PEER2"].mean() - big_clean.loc[~band1, "PEER2"].mean()
    assert got == pytest.approx(expected, abs=0.05)
    control = big_clean.loc[band1, "PEER1"].mean() - big_clean.loc[~band1, "PEER1"].mean()
    assert abs(control) < 0.05
    assert lam == 0.70


# ------------------------------------------------------------------ contamination
def test_contamination_rates_and_kinds(raw1000):
    frame, truth = raw1000
    s = truth["summary"]
    assert len(frame) == s["n_rows"] == 1000 == len(truth["rows"])
    assert 0.06 <= s["careless_rate"] <= 0.10
    assert all(v > 10 for v in s["careless_by_kind"].values())
    assert s["n_duplicates"] == 12 and s["n_previews"] == 10 and s["n_partial"] == 40
    assert s["n_careless_attention_failed"] / s["n_careless"] > 0.8
    assert 0 < s["n_attentive_attention_failed"] / s["n_attentive"] < 0.05
    assert frame["ResponseId"].is_unique
    rows = pd.DataFrame(truth["rows"])
    assert (rows["ResponseId"] == frame["ResponseId"]).all()
    assert (rows["row"] == np.arange(1, 1001)).all()


def test_straightliners_random_and_speeders(raw1000, inst110):
    frame, truth = raw1000
    rows = pd.DataFrame(truth["rows"])
    likert = [i.id for i in inst110.items if i.role in ("indicator", "outcome", "attention")]
    x = frame[likert].astype(float)
    sd = x.std(axis=1)
    modal_share = x.apply(lambda r: r.value_counts().max() / r.count() if r.count() else np.nan, axis=1)
    straight = rows["kind"] == "straightliner"
    assert (modal_share[straight] >= 0.9).all()
    assert modal_share[rows["kind"] == "attentive"].median() < 0.5
    random_ = rows["kind"] == "random"
    assert sd[random_].mean() > 1.8
    dur = frame["Duration (in seconds)"]
    assert dur[rows["kind"] == "speeder"].max() < 140 < dur[rows["kind"] == "attentive"].quantile(0.05)


def test_duplicates_previews_partials(raw1000, inst110):
    frame, truth = raw1000
    rows = pd.DataFrame(truth["rows"])
    items = [c for c in frame.columns if c not in META_COLUMNS]
    fmt = "%Y-%m-%d %H:%M:%S"
    for _, r in rows[rows["kind"] == "duplicate"].iterrows():
        dup, orig = frame.iloc[int(r["row"]) - 1], frame.iloc[int(r["duplicate_of_row"]) - 1]
        assert orig["ResponseId"] == r["duplicate_of"] != dup["ResponseId"]
        pd.testing.assert_series_equal(dup[items], orig[items], check_names=False)
        gap = datetime.strptime(dup["StartDate"], fmt) - datetime.strptime(orig["EndDate"], fmt)
        assert 60 <= gap.total_seconds() <= 1800
    prev = frame[rows["preview"].to_numpy()]
    assert (prev["Status"] == 1).all() and (prev["DistributionChannel"] == "preview").all()
    assert (frame.loc[~rows["preview"].to_numpy(), "Status"] == 0).all()
    part = frame[rows["partial"].to_numpy()]
    assert (part["Progress"] < 100).all() and (part["Finished"] == 0).all()
    assert part["COMMENT"].isna().all()
    order = list(items)
    for _, row in part.iterrows():  # everything after the break-off point is empty
        first_empty = int(np.ceil((row["Progress"] + 1) * len(order) / 100))
        assert row[order[first_empty:]].isna().all()
        assert row[order[:4]].notna().all()
    done = frame[~rows["partial"].to_numpy()]
    assert (done["Progress"] == 100).all() and (done["Finished"] == 1).all()


def test_missing_codes_mar_and_comments(raw1000):
    frame, truth = raw1000
    rows = pd.DataFrame(truth["rows"])
    agree = [c for c in frame.columns if re.fullmatch(r"(SHI|SKL|AUT|EMO|CON|PEER|FOL)\d", c)]
    assert (frame[agree] == 8).sum().sum() > 50
    assert (frame[["AGEBAND", "GENDER", "COUNTRY", "EDU"]] == 9).sum().sum() > 40
    assert (frame[["FOLLOWED30", "MINUTES"]] == -99).sum().sum() > 20
    careful = rows["kind"] == "attentive"
    blank = frame.loc[careful.to_numpy(), agree].isna().mean(axis=1)
    band = rows.loc[careful, "ageband_true"].to_numpy()
    assert blank[band == 4].mean() > 3 * blank[band == 1].mean()
    comments = frame["COMMENT"].dropna()
    assert comments.str.contains(r"@example\.com").any()
    assert comments.str.startswith('=HYPERLINK("http://x.example","click")').any()
    assert comments.str.contains("<script").any()
    assert comments.str.contains("\n").any() and comments.str.contains('"').any()


def test_metadata_plausible(raw1000):
    frame, _ = raw1000
    fmt = "%Y-%m-%d %H:%M:%S"
    start = pd.to_datetime(frame["StartDate"], format=fmt)
    end = pd.to_datetime(frame["EndDate"], format=fmt)
    assert ((end - start).dt.total_seconds() == frame["Duration (in seconds)"]).all()
    assert frame["IPAddress"].str.match(r"^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d{1,3}$").all()
    emails = frame["RecipientEmail"][frame["RecipientEmail"] != ""]
    assert emails.str.endswith("@example.com").all()
    assert set(frame["DistributionChannel"]) == {"anonymous", "preview"}
    assert set(frame["UserLanguage"]) == {"EN"}
    assert frame["ResponseId"].str.match(r"^R_[A-Za-z0-9]{15}$").all()
    assert frame["RecordedDate"].is_monotonic_increasing


# ------------------------------------------------------------------ exports
def _read_qualtrics(payload: bytes) -> list[list[str]]:
    assert payload.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


def test_qualtrics_layout(raw1000, inst110):
    frame, _ = raw1000
    payload = qualtrics_bytes(frame, inst110)
    assert b"\r\n" in payload and payload.count(b"\r\n") >= 1003
    rows = _read_qualtrics(payload)
    header, text, ids = rows[0], rows[1], rows[2]
    assert header[:17] == list(META_COLUMNS)
    assert header[17:] == [c for c in frame.columns if c not in META_COLUMNS]
    assert text[0] == "Start Date" and text[header.index("SHI1")].endswith("into the same things I am.")
    parsed = [json.loads(x) for x in ids]
    assert parsed[0] == {"ImportId": "startDate", "timeZone": "America/Denver"}
    assert parsed[header.index("ResponseId")] == {"ImportId": "_recordId"}
    assert re.fullmatch(r"QID\d+_\d+", parsed[header.index("SHI1")]["ImportId"])
    assert re.fullmatch(r"QID\d+", parsed[header.index("AGEBAND")]["ImportId"])
    assert re.fullmatch(r"QID\d+_TEXT", parsed[header.index("COMMENT")]["ImportId"])
    assert len(rows) == 3 + len(frame)
    back = pd.DataFrame(rows[3:], columns=header)
    assert (back["ResponseId"] == frame["ResponseId"]).all()
    expect = frame["SHI1"].astype(object).where(frame["SHI1"].notna(), "").astype(str)
    assert (back["SHI1"] == expect).all()
    assert (back["COMMENT"] == frame["COMMENT"].fillna("")).all()


def test_choice_text_variant(inst110):
    frame, _ = simulate_raw(100, 4, inst110)
    rows = _read_qualtrics(export_bytes(frame, inst110, "qualtrics", choice_text=True))
    back = pd.DataFrame(rows[3:], columns=rows[0])
    labels = set(inst110.scale_of("SHI1").points.values()) | {"Prefer not to say", ""}
    assert set(back["SHI1"]) <= labels and "Agree" in set(back["SHI1"])
    assert set(back["Status"]) <= {"IP Address", "Survey Preview"}
    assert set(back["Finished"]) <= {"True", "False"}


def test_plain_csv(inst110):
    frame, _ = simulate_raw(60, 4, inst110)
    payload = export_bytes(frame, inst110, "csv")
    assert not payload.startswith(b"\xef\xbb\xbf") and b"\r\n" not in payload.replace(b'\r\nat', b'')
    back = pd.read_csv(io.BytesIO(payload), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(frame.columns) and len(back) == 60


def test_sav_labels_and_user_missing(tmp_path, inst110):
    import pyreadstat

    path, truth_path = write_simulation(tmp_path / "s.sav", 200, 4, inst110, "sav")
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert len(data) == 200 and "Duration__in_seconds_" in data.columns
    assert meta.missing_ranges["SHI1"] == [{"lo": 8.0, "hi": 8.0}]
    assert meta.missing_ranges["AGEBAND"] == [{"lo": 9.0, "hi": 9.0}]
    assert meta.missing_ranges["FOLLOWED30"] == [{"lo": -99.0, "hi": -99.0}]
    assert meta.variable_value_labels["SHI1"][8.0] == "Prefer not to say"
    assert meta.variable_value_labels["SHI1"][7.0] == "Strongly agree"
    assert meta.column_names_to_labels["SHI1"].endswith("into the same things I am.")
    assert meta.creation_time == datetime(2026, 1, 1)
    truth = json.loads(truth_path.read_text())
    assert [r["ResponseId"] for r in truth["rows"]] == list(data["ResponseId"])
    plain, _ = pyreadstat.read_sav(str(path))  # user-missing become NaN
    assert (data["SHI1"] == 8).sum() == plain["SHI1"].isna().sum() - data["SHI1"].isna().sum()


@pytest.mark.parametrize("fmt", ["qualtrics", "csv", "sav"])
def test_exports_are_byte_reproducible(tmp_path, fmt):
    a, ta = write_simulation(tmp_path / f"a.{fmt}", 150, 21, V100, fmt)
    b, tb = write_simulation(tmp_path / f"b.{fmt}", 150, 21, V100, fmt)
    c, _ = write_simulation(tmp_path / f"c.{fmt}", 150, 22, V100, fmt)
    assert a.read_bytes() == b.read_bytes() and ta.read_bytes() == tb.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    text = ta.read_text()
    assert json.loads(text)["summary"]["n_rows"] == 150
    assert list(json.loads(text)) == sorted(json.loads(text))


# ------------------------------------------------------------------ demo data
def test_demo_files_regenerate_byte_for_byte(tmp_path):
    shipped = demo_files()
    assert [spec for _, spec in shipped] == [V100, V110]
    written = write_demo(tmp_path)
    assert len(written) == 4
    for path, _ in shipped:
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name
        truth = path.with_name(path.name + ".truth.json")
        assert truth.read_bytes() == (tmp_path / truth.name).read_bytes(), truth.name


def test_demo_waves_content():
    (w1, s1), (w2, s2) = demo_files()
    r1, r2 = _read_qualtrics(w1.read_bytes()), _read_qualtrics(w2.read_bytes())
    assert len(r1) - 3 == 700 and len(r2) - 3 == 800
    assert "CON5" not in r1[0] and "CON5" in r2[0]
    aut2 = r1[0].index("AUT2")
    assert "open about their mistakes" in r1[1][aut2]
    assert "let viewers see their mistakes" in r2[1][r2[0].index("AUT2")]
    t1 = json.loads(w1.with_name(w1.name + ".truth.json").read_text())
    assert t1["instrument"] == s1 and t1["wave"] == 1 and "CON5" not in t1["population"]["loadings_latent"]
    ids = {r[8] for r in r1[3:]} | {r[8] for r in r2[3:]}
    assert len(ids) == 1500


# ------------------------------------------------------------------ command line
def _run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_simulate_writes_file_and_truth(tmp_path, capsys):
    out = tmp_path / "raw.csv"
    code, stdout, _ = _run(["simulate", "--n", "120", "--seed", "5", "--out", str(out)], capsys)
    assert code in (0, None) and out.exists() and (tmp_path / "raw.csv.truth.json").exists()
    assert _read_qualtrics(out.read_bytes())[0][0] == "StartDate"
    code, _, _ = _run(["simulate", "--n", "120", "--seed", "5", "--format", "sav",
                       "--instrument", V100, "--out", str(tmp_path / "raw.sav")], capsys)
    assert code in (0, None) and (tmp_path / "raw.sav").read_bytes()[:4] == b"$FL2"


@pytest.mark.parametrize("argv", [
    ["simulate", "--n", "abc", "--seed", "1", "--out", "x.csv"],
    ["simulate", "--n", "100", "--seed", "-3", "--out", "x.csv"],
    ["simulate", "--n", "100", "--seed", "1", "--format", "xls", "--out", "x.csv"],
    ["simulate", "--n", "100", "--seed", "1", "--instrument", "nope@9.9.9", "--out", "x.csv"],
    ["simulate", "--n", "100", "--seed", "1"],
])
def test_cli_simulate_bad_arguments(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_simulate_describe(capsys):
    code, out, _ = _run(["simulate", "--describe"], capsys)
    assert code in (0, None)
    assert "implied R2(FOL) = b' Phi b = 0.58315" in out and "Pseudo-true" in out


@pytest.mark.parametrize("n_rows", [100, 250, 700, 800, 5000])
def test_careless_rate_in_range_for_many_seeds(n_rows):
    from survey.simulate.contamination import assign_kinds

    for seed in range(40):
        kinds, n_dup, _ = assign_kinds(n_rows, np.random.default_rng(seed))
        careless = np.isin(kinds, ["straightliner", "random", "speeder"]).sum()
        assert 0.06 <= careless / n_rows <= 0.10
        assert len(kinds) + n_dup == n_rows


@pytest.mark.parametrize("spec", [V100, V110])
def test_population_covers_the_instrument(spec):
    inst = load_instrument(spec)
    construct_items = [i.id for i in inst.items if i.construct]
    assert set(construct_items) <= set(POP.loadings)
    assert {i for i, k in inst.keys().items() if k == -1} == set(POP.reverse_keyed)
    assert POP.intercept("PEER2", {"AGEBAND": 1}) == 0.6 and POP.intercept("PEER2", {"AGEBAND": 2}) == 0
