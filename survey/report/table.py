"""The table object every renderer reads: raw values for CSV, APA-formatted strings for the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Table:
    """One numbered table of the paper.

    ``data`` holds the raw values (written to CSV), ``display`` the same rows as APA-formatted strings
    with the printed column headers (Markdown, HTML, LaTeX, DOCX). ``note`` is the APA table note.
    """

    key: str
    title: str
    data: pd.DataFrame
    display: pd.DataFrame
    note: str = ""
    number: int = 0
    align: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.align:
            self.align = ["l" if self.display[c].map(_is_texty).any() else "r" for c in self.display.columns]

    @property
    def label(self) -> str:
        return f"Table {self.number}"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.label}</b> <i>{self.title}</i></p>" + self.display.to_html(index=False)


def _is_texty(value: object) -> bool:
    text = str(value).strip()
    if not text:
        return False
    stripped = text.replace("[", "").replace("]", "").replace(",", "").replace("<", "").replace(">", "")
    stripped = stripped.replace("*", "").replace(" ", "").replace("-", "").replace(".", "").replace("%", "")
    stripped = stripped.replace("\u2265", "").replace("\u2264", "").replace("\u2014", "0")
    stripped = stripped.replace("(", "").replace(")", "")
    return not stripped.isdigit()


@dataclass
class Omitted:
    """A table the paper leaves out, and why (a stage this build lacks)."""

    key: str
    title: str
    reason: str

    def sentence(self) -> str:
        return f"{self.title}: not reported, {self.reason}."
