"""Instrument stage: schema validation, loading by name@version, the shared API, diffs between versions."""

from __future__ import annotations

import copy
import hashlib
import json
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from survey.errors import SurveyInputError
from survey.instrument import (
    Instrument,
    Scale,
    lavaan_model,
    list_instruments,
    load_instrument,
    parse_instrument,
)
from survey.instrument.diff import diff_instruments, versioned_column

SHIPPED = Path(str(files("survey._instruments"))) / "follow-drivers"
V100 = "follow-drivers@1.0.0"
V110 = "follow-drivers@1.1.0"
DRIVERS = ["SHI", "SKL", "AUT", "EMO", "CON", "PEER"]


@pytest.fixture(scope="module")
def raw110() -> dict:
    return yaml.safe_load((SHIPPED / "1.1.0.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def item(data: dict, item_id: str) -> dict:
    return next(i for i in data["items"] if i["id"] == item_id)


# ---------------------------------------------------------------- shipped versions


@pytest.mark.parametrize("spec", [V100, V110])
def test_shipped_versions_validate(spec: str) -> None:
    inst = load_instrument(spec)
    assert isinstance(inst, Instrument)
    assert inst.spec == spec
    assert inst.warnings == []
    assert inst.construct_codes == [*DRIVERS, "FOL"]
    for code in DRIVERS:
        ids = inst.indicators(code)
        assert ids[:4] == [f"{code}{k}" for k in range(1, 5)]
        # item 4 of every driver is reverse keyed, the others are not
        assert [inst.keys()[i] for i in ids[:4]] == [1, 1, 1, -1]
    assert inst.indicators("FOL") == ["FOL1", "FOL2", "FOL3"]
    assert {i.id: i.expected for i in inst.items_by_role("attention")} == {"ATT1": 2, "ATT2": 6}
    assert [i.id for i in inst.items if i.pii] == ["COMMENT"]
    agree = inst.scale_of("SHI1")
    assert (agree.type, agree.min, agree.max, agree.missing) == ("ordinal", 1, 7, {8: "Prefer not to say"})
    assert inst.scale_of("FOLLOWED30").missing == {-99: "Prefer not to say"}
    assert inst.scale_of("FOLLOWED30").type == "count"
    assert [(h.predictor, h.outcome) for h in inst.hypotheses][-1] == ("FOL", "FOLLOWED30")


def test_version_specific_content() -> None:
    a, b = load_instrument(V100), load_instrument(V110)
    assert "CON5" not in a.item_ids and b.indicators("CON") == ["CON1", "CON2", "CON3", "CON4", "CON5"]
    assert a.item("AUT2").text != b.item("AUT2").text
    assert len(a.items) == 36 and len(b.items) == 37


def test_sha256_is_of_the_yaml_bytes() -> None:
    inst = load_instrument(V110)
    assert inst.sha256 == hashlib.sha256((SHIPPED / "1.1.0.yaml").read_bytes()).hexdigest()
    assert load_instrument(SHIPPED / "1.1.0.yaml").sha256 == inst.sha256


def test_list_and_load_errors() -> None:
    assert list_instruments()[:2] == [V100, V110]
    with pytest.raises(SurveyInputError,
                       match=r"unknown instrument 'nope'; available: .*follow-drivers@1\.0\.0"):
        load_instrument("nope@1.0.0")
    with pytest.raises(SurveyInputError, match=r"no version '2\.0\.0'; available: 1\.0\.0, 1\.1\.0"):
        load_instrument("follow-drivers@2.0.0")
    assert load_instrument("follow-drivers").version == "1.1.0"  # a bare name is the latest version
    with pytest.raises(SurveyInputError, match="instrument file not found"):
        load_instrument("missing/dir/x.yaml")


def test_extra_directory_from_env(tmp_path: Path, raw110: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy.deepcopy(raw110)
    data["name"], data["version"] = "pilot", "0.2.0"
    (tmp_path / "pilot").mkdir()
    write(tmp_path / "pilot", data, "0.2.0.yaml")
    monkeypatch.setenv("SURVEY_INSTRUMENTS_PATH", str(tmp_path))
    assert "pilot@0.2.0" in list_instruments()
    assert load_instrument("pilot@0.2.0").spec == "pilot@0.2.0"
    # a file stored under the wrong version is refused
    write(tmp_path / "pilot", data, "0.3.0.yaml")
    with pytest.raises(SurveyInputError, match="declares pilot@0.2.0 but is stored as pilot@0.3.0"):
        load_instrument("pilot@0.3.0")


# ---------------------------------------------------------------- validation errors


def _mutations() -> list[tuple[str, object, str, object, str]]:
    """(case, mutate(data), field, value, message fragment)."""

    def dup_id(d):
        d["items"].append(dict(item(d, "SHI1")))

    def unknown_construct(d):
        item(d, "SHI2")["construct"] = "XYZ"

    def unknown_scale(d):
        item(d, "SKL1")["scale"] = "agree5"

    def reverse_nominal(d):
        item(d, "GENDER")["keyed"] = -1

    def attention_no_expected(d):
        del item(d, "ATT1")["expected"]

    def attention_expected_missing_code(d):
        item(d, "ATT2")["expected"] = 8

    def block_unknown(d):
        d["blocks"][1]["items"].append("SHI9")

    def hypothesis_unknown(d):
        d["hypotheses"][2]["predictor"] = "AUTH"

    def hypothesis_unknown_outcome(d):
        d["hypotheses"][6]["outcome"] = "FOLLOWED90"

    def missing_collides(d):
        d["scales"]["agree7"]["missing"] = {7: "Prefer not to say"}

    def missing_in_count_range(d):
        d["scales"]["count30"]["missing"] = {99: "Prefer not to say"}

    def bad_semver(d):
        d["version"] = "1.1"

    def bad_keyed(d):
        item(d, "EMO3")["keyed"] = 2

    def typo_field(d):
        item(d, "PEER1")["keyd"] = 1

    def missing_text(d):
        del item(d, "FOL2")["text"]

    def indicator_without_construct(d):
        del item(d, "CON3")["construct"]

    def bad_item_id(d):
        item(d, "EMO1")["id"] = "EMO 1"

    def dup_construct(d):
        d["constructs"].append(dict(d["constructs"][0]))

    def item_in_two_blocks(d):
        d["blocks"][0]["items"].append("SHI1")

    def item_named_like_construct(d):
        item(d, "COMMENT")["id"] = "FOL"

    def self_loop(d):
        d["hypotheses"][0]["outcome"] = "SHI"

    def construct_on_demographic(d):
        item(d, "AGEBAND")["construct"] = "SHI"

    def expected_on_indicator(d):
        item(d, "SHI3")["expected"] = 4

    return [
        ("duplicate construct", dup_construct, "constructs[SHI].code", "SHI",
         "duplicate construct code 'SHI'"),
        ("item in two blocks", item_in_two_blocks, "blocks[drivers_a].items", "SHI1",
         "item 'SHI1' is already in block 'consent_and_demographics'"),
        ("item id is a construct code", item_named_like_construct, "items[FOL].id", "FOL",
         "also a construct code"),
        ("hypothesis self loop", self_loop, "hypotheses[H1].outcome", "SHI",
         "regresses a variable on itself"),
        ("construct on a demographic", construct_on_demographic, "items[AGEBAND].role", "demographic",
         "only indicator and outcome items measure a construct"),
        ("expected on an indicator", expected_on_indicator, "items[SHI3].expected", 4, "not attention"),
        ("duplicate item id", dup_id, "items[SHI1].id", "SHI1", "duplicate item id 'SHI1'"),
        ("unknown construct", unknown_construct, "items[SHI2].construct", "XYZ", "unknown construct 'XYZ'"),
        ("unknown scale", unknown_scale, "items[SKL1].scale", "agree5", "unknown scale 'agree5'"),
        ("reverse keyed nominal", reverse_nominal, "items[GENDER].keyed", -1,
         "reverse keying needs an ordinal scale"),
        ("attention without expected", attention_no_expected, "items[ATT1].expected", None,
         "attention item 'ATT1' has no 'expected' answer"),
        ("expected is a missing code", attention_expected_missing_code, "items[ATT2].expected", 8,
         "not a point of scale 'agree7'"),
        ("block unknown item", block_unknown, "blocks[drivers_a].items", "SHI9", "unknown item 'SHI9'"),
        ("hypothesis unknown construct", hypothesis_unknown, "hypotheses[H3].predictor", "AUTH",
         "unknown construct or item 'AUTH'"),
        ("hypothesis unknown item", hypothesis_unknown_outcome, "hypotheses[H7].outcome", "FOLLOWED90",
         "unknown construct or item 'FOLLOWED90'"),
        ("missing code collides", missing_collides, "scales.agree7.missing", 7, "missing code 7 collides"),
        ("missing code inside count range", missing_in_count_range, "scales.count30.missing", 99,
         "missing code 99 collides"),
        ("semantic version", bad_semver, "version", "1.1", "not a semantic version"),
        ("keyed not +-1", bad_keyed, "items[EMO3].keyed", 2, "Input should be 1 or -1"),
        ("unknown field", typo_field, "items[PEER1].keyd", 1, "Extra inputs are not permitted"),
        ("missing text", missing_text, "items[FOL2].text", None, "Field required"),
        ("indicator without construct", indicator_without_construct, "items[CON3].construct", None,
         "has role 'indicator' but no construct"),
        ("invalid item id", bad_item_id, "items[EMO 1].id", "EMO 1", "an item id is a letter"),
    ]


@pytest.mark.parametrize("case,mutate,field,value,fragment", _mutations(), ids=[m[0] for m in _mutations()])
def test_validation_errors_name_file_item_field(tmp_path: Path, raw110: dict, case, mutate, field, value,
                                                fragment) -> None:
    data = copy.deepcopy(raw110)
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(SurveyInputError) as info:
        load_instrument(path)
    err = info.value
    message = str(err)
    assert err.file == str(path)
    assert err.field == field
    assert err.value == value
    assert fragment in message
    assert message.startswith(f"{path}: field {field!r}")
    assert "\n" not in message


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nitems: [a, b\nversion: 1.0.0\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match=r"broken\.yaml: invalid YAML: line \d+, column \d+"):
        load_instrument(path)


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    text = (SHIPPED / "1.1.0.yaml").read_text(encoding="utf-8")
    text = text.replace("      8: Prefer not to say\n", "      8: Prefer not to say\n      8: Refused\n", 1)
    path = tmp_path / "dupkey.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SurveyInputError, match="duplicate key 8"):
        load_instrument(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match="invalid YAML"):
        load_instrument(path)
    assert not marker.exists()


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(SurveyInputError, match="an instrument file is a YAML mapping"):
        load_instrument(path)


def test_few_indicators_is_a_warning(tmp_path: Path, raw110: dict) -> None:
    data = copy.deepcopy(raw110)
    data["items"] = [i for i in data["items"] if i["id"] not in ("SKL3", "SKL4")]
    data["blocks"][1]["items"] = [i for i in data["blocks"][1]["items"] if i not in ("SKL3", "SKL4")]
    inst = load_instrument(write(tmp_path, data, "few.yaml"))
    assert [w.code for w in inst.warnings] == ["few_indicators"]
    assert "construct 'SKL' has 2 indicators" in inst.warnings[0].message
    assert inst.to_dict()["warnings"] == [inst.warnings[0].message]


def test_parse_instrument_from_mapping(raw110: dict) -> None:
    inst = parse_instrument(copy.deepcopy(raw110))
    assert inst.spec == V110 and inst.source is None
    assert len(inst.sha256) == 64
    with pytest.raises(SurveyInputError, match="reverse keying needs an ordinal scale"):
        bad = copy.deepcopy(raw110)
        item(bad, "COUNTRY")["keyed"] = -1
        parse_instrument(bad, file="mem.yaml")


def test_scale_model_rules() -> None:
    s = Scale(name="s", type="ordinal", points={1: "a", 2: "b", 3: "c"}, missing={9: "x"})
    assert (s.min, s.max, s.labels()) == (1, 3, {1: "a", 2: "b", 3: "c", 9: "x"})
    with pytest.raises(ValueError, match="at least two points"):
        Scale(type="nominal", points={1: "a"})
    with pytest.raises(ValueError, match="min 5 is larger than max 1"):
        Scale(type="count", min=5, max=1)


def test_item_lookup_errors() -> None:
    inst = load_instrument(V110)
    with pytest.raises(SurveyInputError, match="no item 'XX1'"):
        inst.item("XX1")
    with pytest.raises(SurveyInputError, match="no construct 'XX'"):
        inst.indicators("XX")


def test_summary_and_dict() -> None:
    inst = load_instrument(V110)
    text = inst.summary()
    assert "CON   Content consistency: CON1 CON2 CON3 CON4(-) CON5" in text
    assert "ATT1 (expected 2), ATT2 (expected 6)" in text
    d = inst.to_dict()
    json.dumps(d)
    assert d["spec"] == V110 and d["items"][0]["id"] == "SHI1" and d["warnings"] == []
    assert "<table>" in inst._repr_html_()


# ---------------------------------------------------------------- diff


def test_diff_shipped_versions() -> None:
    d = diff_instruments(V100, V110)
    assert d.reworded == ["AUT2"]
    assert d.added == ["CON5"]
    assert d.removed == [] and d.rekeyed == [] and d.rescaled == []
    assert d.to_frame()[["item", "change"]].values.tolist() == [["AUT2", "reworded"], ["CON5", "added"]]
    assert d.scales.empty and d.hypotheses.empty
    assert all(d.comparable(c) for c in [*DRIVERS, "FOL"])
    assert d.anchors("AUT") == ["AUT1", "AUT3", "AUT4"]
    assert d.anchors("CON") == ["CON1", "CON2", "CON3", "CON4"]
    assert d.warnings == []
    assert d.versioned_columns() == {"AUT2": "AUT2_v1_1_0"}
    assert versioned_column("AUT2", "1.1.0") == "AUT2_v1_1_0"
    out = d.to_dict()
    json.dumps(out)
    assert out["constructs"]["AUT"]["anchors"] == ["AUT1", "AUT3", "AUT4"]
    assert out["constructs"]["CON"]["added"] == ["CON5"]
    assert "reworded  AUT2" in d.summary() and "AUT   comparable: through AUT1, AUT3, AUT4" in d.summary()
    # the other way round: CON5 removed
    back = diff_instruments(V110, V100)
    assert back.removed == ["CON5"] and back.reworded == ["AUT2"]


def test_diff_rekeyed_and_too_few_anchors(tmp_path: Path, raw110: dict) -> None:
    data = copy.deepcopy(raw110)
    data["version"] = "1.2.0"
    item(data, "AUT1")["keyed"] = -1                      # re-keyed: AUT not comparable
    item(data, "SHI1")["text"] = "Reworded one."           # SHI: two changed -> 2 anchors left
    item(data, "SHI2")["text"] = "Reworded two."
    data["scales"]["agree7"]["points"][4] = "Neutral"      # scale label change -> every agree7 item rescaled
    d = diff_instruments(load_instrument(V110), load_instrument(write(tmp_path, data, "1.2.0.yaml")))
    assert "AUT1" in d.rekeyed
    assert d.scales[["scale", "change"]].values.tolist() == [["agree7", "points"]]
    assert not d.comparable("AUT") and not d.comparable("SHI")
    assert d.warnings and d.warnings[0].code == "version_policy"

    data = copy.deepcopy(raw110)
    data["version"] = "1.2.0"
    item(data, "AUT1")["keyed"] = -1
    item(data, "SHI1")["text"] = "Reworded one."
    item(data, "SHI2")["text"] = "Reworded two."
    d = diff_instruments(load_instrument(V110), load_instrument(write(tmp_path, data, "1.2.0.yaml")))
    assert d.rekeyed == ["AUT1"] and d.reworded == ["SHI1", "SHI2"]
    assert not d.comparable("AUT") and "re-keyed: AUT1" in d.to_dict()["constructs"]["AUT"]["reason"]
    assert not d.comparable("SHI") and d.anchors("SHI") == ["SHI3", "SHI4"]
    assert d.comparable("SKL")


# ---------------------------------------------------------------- lavaan model

EXPECTED_110 = """\
SHI =~ SHI1 + SHI2 + SHI3 + SHI4
SKL =~ SKL1 + SKL2 + SKL3 + SKL4
AUT =~ AUT1 + AUT2 + AUT3 + AUT4
EMO =~ EMO1 + EMO2 + EMO3 + EMO4
CON =~ CON1 + CON2 + CON3 + CON4 + CON5
PEER =~ PEER1 + PEER2 + PEER3 + PEER4
FOL =~ FOL1 + FOL2 + FOL3
FOL ~ b_SHI*SHI + b_SKL*SKL + b_AUT*AUT + b_EMO*EMO + b_CON*CON + b_PEER*PEER
FOLLOWED30 ~ c_FOL*FOL
ind_SHI := b_SHI*c_FOL
ind_SKL := b_SKL*c_FOL
ind_AUT := b_AUT*c_FOL
ind_EMO := b_EMO*c_FOL
ind_CON := b_CON*c_FOL
ind_PEER := b_PEER*c_FOL
"""


def test_lavaan_model_text() -> None:
    assert lavaan_model(load_instrument(V110)) == EXPECTED_110
    common = set(load_instrument(V100).item_ids) & set(load_instrument(V110).item_ids) - {"AUT2"}
    text = lavaan_model(load_instrument(V110), items=common)
    assert "AUT =~ AUT1 + AUT3 + AUT4\n" in text
    assert "CON =~ CON1 + CON2 + CON3 + CON4\n" in text
    # no behaviour column: its regression and the indirect effects go, the rest stays
    text = lavaan_model(load_instrument(V110), items=common - {"FOLLOWED30"})
    assert "FOLLOWED30" not in text and ":=" not in text and "FOL ~ b_SHI*SHI" in text


def test_lavaan_model_too_few_items() -> None:
    inst = load_instrument(V110)
    keep = set(inst.item_ids) - {"AUT2", "AUT3", "AUT4"}
    with pytest.raises(SurveyInputError,
                       match=r"construct 'AUT' is left with 1 indicator \(absent: AUT2, AUT3, AUT4\)"):
        lavaan_model(inst, items=keep)


def test_lavaan_labels_stay_unique(tmp_path: Path, raw110: dict) -> None:
    data = copy.deepcopy(raw110)
    data["hypotheses"].append({"id": "H8", "predictor": "SHI", "outcome": "EMO", "sign": "positive"})
    text = lavaan_model(load_instrument(write(tmp_path, data, "h8.yaml")))
    assert "EMO ~ b_SHI_EMO*SHI" in text and "b_SHI_FOL*SHI" in text
    assert "ind_SHI_EMO_FOL := b_SHI_EMO*b_EMO" in text
    assert "ind_SHI_FOL_FOLLOWED30 := b_SHI_FOL*c_FOL" in text
