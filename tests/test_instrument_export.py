"""Instrument exports: XLSForm workbook, Markdown codebook, Frictionless Data Package; atomic writes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from survey.errors import SurveyInputError
from survey.instrument import load_instrument
from survey.instrument.export import to_codebook, to_datapackage, to_xlsform, write_atomic

XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@pytest.fixture(scope="module")
def inst():
    return load_instrument("follow-drivers@1.1.0")


def sheet_rows(path: Path, name: str) -> list[dict]:
    sheet = load_workbook(path)[name]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_xlsform_sheets_and_settings(tmp_path: Path, inst) -> None:
    path = to_xlsform(inst, tmp_path / "form.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]
    settings = sheet_rows(path, "settings")
    assert settings == [{"form_title": inst.title, "form_id": "follow_drivers", "version": "1.1.0"}]
    assert [c.value for c in book["survey"][1]][:3] == ["type", "name", "label"]
    assert [c.value for c in book["choices"][1]] == ["list_name", "name", "label"]


def test_xlsform_survey_rows(tmp_path: Path, inst) -> None:
    path = to_xlsform(inst, tmp_path / "form.xlsx")
    survey = sheet_rows(path, "survey")
    choices = sheet_rows(path, "choices")
    by_name = {r["name"]: r for r in survey if r["type"] not in ("end group",)}
    # every item once, with the right type
    item_rows = [r for r in survey if r["name"] in set(inst.item_ids)]
    assert [r["name"] for r in item_rows] == [i for b in inst.blocks for i in b.items]
    assert by_name["SHI1"]["type"] == "select_one agree7"
    assert by_name["SHI1"]["label"] == inst.item("SHI1").text
    assert by_name["GENDER"]["type"] == "select_one gender"
    assert by_name["COMMENT"]["type"] == "text" and by_name["COMMENT"]["required"] == "no"
    assert by_name["FOLLOWED30"]["type"] == "integer"
    assert by_name["FOLLOWED30"]["constraint"] == "(. >= 0 and . <= 500) or . = -99"
    assert by_name["MINUTES"]["constraint"] == "(. >= 0 and . <= 1440) or . = -99"
    # one begin/end group pair per block, balanced and in order
    groups = [(r["type"], r["name"]) for r in survey if r["type"] in ("begin group", "end group")]
    expected = [(kind, b.id) for b in inst.blocks for kind in ("begin group", "end group")]
    assert groups == expected
    # names: valid XML names, unique among questions and groups
    names = [r["name"] for r in survey if r["type"] != "end group"]
    assert all(XML_NAME.match(n) for n in names) and len(names) == len(set(names))
    # every select_one list exists in choices; choices unique within a list; missing codes labelled
    lists = {r["type"].split()[1] for r in survey if r["type"].startswith("select_one ")}
    assert lists == {r["list_name"] for r in choices}
    assert lists == {"agree7", "ageband", "gender", "country", "education"}
    assert all(XML_NAME.match(name) for name in lists)
    for name in lists:
        codes = [r["name"] for r in choices if r["list_name"] == name]
        assert len(codes) == len(set(codes))
    agree = [(r["name"], r["label"]) for r in choices if r["list_name"] == "agree7"]
    assert agree[0] == ("1", "Strongly disagree") and agree[-1] == ("8", "Prefer not to say")
    assert len(agree) == 8
    gender = [(r["name"], r["label"]) for r in choices if r["list_name"] == "gender"]
    assert ("9", "Prefer not to say") in gender


def test_codebook(inst) -> None:
    md = to_codebook(inst)
    assert md.startswith("# Codebook: Why people follow creators on short-video platforms\n")
    assert "`follow-drivers@1.1.0`" in md and inst.sha256 in md
    assert "### AUT: Authenticity and relatability" in md
    assert "*Definition.* The creator comes across as genuine, shows imperfections and is relatable." in md
    assert "*Items.* CON1, CON2, CON3, CON4, CON5 (reverse keyed: CON4)" in md
    assert "- Audrezet, de Kerviler & Moulard (2020). Authenticity under threat." in md
    assert ("| SHI4 | The creators I follow live in a world quite unlike mine. | SHI | agree7 | "
            "reverse (-1) | indicator |  |") in md
    assert "| ATT1 | " in md and "expected answer 2 (Disagree)" in md
    assert "personal data, dropped at ingestion" in md
    assert "### agree7 (ordinal)" in md and "| 8 | Prefer not to say | labelled missing |" in md
    assert "| 7 | Strongly agree | scale point |" in md
    assert "### count30 (count)" in md and "Range 0 to 500 creators followed in the last 30 days." in md
    assert "| -99 | Prefer not to say | labelled missing |" in md
    assert "| H7 | FOL -> FOLLOWED30 | positive |" in md
    # one row per item in the items table
    roles = "indicator|outcome|attention|behaviour|demographic|metadata"
    row = re.compile(rf"^\| [A-Z]+[0-9]* \| .* \| ({roles}) \|")
    assert sum(1 for line in md.splitlines() if row.match(line)) == 37


def test_datapackage(inst) -> None:
    dp = to_datapackage(inst)
    json.dumps(dp)
    assert dp["name"] == "follow-drivers" and dp["version"] == "1.1.0"
    (res,) = dp["resources"]
    assert res["profile"] == "tabular-data-resource" and res["path"] == "responses.csv"
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert list(fields) == inst.item_ids
    shi1 = fields["SHI1"]
    assert shi1["type"] == "integer"
    assert shi1["constraints"] == {"enum": [1, 2, 3, 4, 5, 6, 7]}
    assert shi1["categories"][0] == {"value": 1, "label": "Strongly disagree"}
    assert len(shi1["categories"]) == 7
    assert shi1["categoriesOrdered"] is True
    assert [m["value"] for m in shi1["missingValues"]] == ["", "8"]
    assert shi1["missingValues"][1]["label"] == "Prefer not to say"
    assert shi1["survey"]["keyed"] == 1 and fields["SHI4"]["survey"]["keyed"] == -1
    assert "categoriesOrdered" not in fields["GENDER"]
    assert fields["GENDER"]["constraints"]["enum"] == [1, 2, 3]
    assert [m["value"] for m in fields["GENDER"]["missingValues"]] == ["", "9"]
    f30 = fields["FOLLOWED30"]
    assert f30["type"] == "integer" and f30["constraints"] == {"minimum": 0, "maximum": 500}
    assert [m["value"] for m in f30["missingValues"]] == ["", "-99"]
    assert fields["MINUTES"]["type"] == "number"
    assert fields["COMMENT"]["type"] == "string" and fields["COMMENT"]["survey"]["pii"] is True
    # labelled missing codes are never scale points
    for f in fields.values():
        enum = f.get("constraints", {}).get("enum", [])
        assert not {str(v) for v in enum} & {m["value"] for m in f["missingValues"]}


def test_write_atomic_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.md"
    target.write_text("old content", encoding="utf-8")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(SurveyInputError, match="out.md: cannot write: No space left on device"):
        write_atomic(target, "new content")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]
    write_atomic(target, "new content")
    assert target.read_text(encoding="utf-8") == "new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]
    with pytest.raises(SurveyInputError, match="is a directory"):
        write_atomic(tmp_path, "x")
