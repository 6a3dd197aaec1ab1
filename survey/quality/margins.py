"""Population margins for raking: ``MARGINS.yaml`` (DESIGN.md) and their checks against the data.

A margins file maps each raking column to its population proportions::

    age:      {1: 0.15, 2: 0.20, 3: 0.35, 4: 0.30}
    gender_m: {f: 0.48, m: 0.46, d: 0.02, null: 0.04}   # null: missing values are a category of their own
    country:  {DE: 0.25, FR: 0.25, NO: 0.05, US: 0.45}

Rules (each broken rule is a one-line :class:`~survey.errors.SurveyInputError`):

* every margin is a mapping of categories to proportions in (0, 1] that sum to 1 (within 1e-6);
* every margin column is a column of the data, every category occurs in the data, and every value of the
  column in the data is a category of its margin (R ``survey::postStratify`` stops on both mismatches);
* a missing value in a raking column is an error unless its margin has the category ``null`` (YAML null,
  ``~``), which then holds the missing values (the explicit choice the margins make).

Categories are compared as text: the data's ``1`` and ``1.0`` and the YAML key ``1`` are the same category.
YAML's 1.1 booleans are not resolved, so ``NO`` (Norway) stays the text ``NO``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from survey.errors import SurveyInputError

#: The category of missing values (YAML ``null``), when a margin names it.
MISSING: None = None
SUM_TOLERANCE = 1e-6

Margins = dict[str, dict[str | None, float]]


class _MarginsLoader(yaml.SafeLoader):
    """The safe loader without YAML 1.1 booleans (``NO``, ``yes``, ``off`` stay text)."""


_MarginsLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def category_label(value: Any) -> str | None:
    """A category as text: missing (None, NaN, NA) -> None; integral numbers without decimals (1.0 -> "1");
    other numbers as Python prints them; text stripped."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    return text if text else None


def parse_margins(raw: Any, *, file: str | None = None, field: str | None = None) -> Margins:
    """Validate already-parsed margins (a mapping ``column -> {category: proportion}``)."""

    def where(*parts: str) -> str | None:
        names = [p for p in (field, *parts) if p]
        return ".".join(names) or None

    if not isinstance(raw, dict) or not raw:
        raise SurveyInputError("margins must be a non-empty mapping COLUMN: {category: proportion}",
                               file=file, field=where())
    out: Margins = {}
    for column, margin in raw.items():
        name = str(column)
        if not isinstance(margin, dict) or not margin:
            raise SurveyInputError("a margin must be a non-empty mapping {category: proportion}", file=file,
                                   field=where(name))
        parsed: dict[str | None, float] = {}
        for key, share in margin.items():
            if isinstance(key, bool):
                raise SurveyInputError("category read as a YAML boolean (yes/no/on/off/true/false): quote "
                                       "it, e.g. 'NO'", file=file, field=where(name, str(key).lower()))
            label = category_label(key)
            shown = "null" if label is None else label
            if label in parsed:
                raise SurveyInputError("category given twice", file=file, field=where(name, shown))
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
                raise SurveyInputError("proportion must be a number in (0, 1]", file=file,
                                       field=where(name, shown), value=share if _scalar(share) else None)
            parsed[label] = float(share)
        total = math.fsum(parsed.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise SurveyInputError(f"proportions sum to {total:.6g}, not 1", file=file, field=where(name))
        out[name] = parsed
    return out


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float)


def load_margins(path: str | Path) -> Margins:
    """Read and validate a ``MARGINS.yaml`` file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise SurveyInputError("margins file not found", file=str(path))
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_MarginsLoader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        raise SurveyInputError(f"not valid YAML ({getattr(exc, 'problem', None) or exc})", file=str(path),
                               row=row) from None
    except UnicodeDecodeError:
        raise SurveyInputError("margins file is not UTF-8 text", file=str(path)) from None
    return parse_margins(raw, file=str(path))


def category_codes(data: pd.DataFrame, margins: Margins, *, file: str | None = None,
                   margins_file: str | None = None) -> dict[str, np.ndarray]:
    """Per margin column, each row's category as an index into the margin's categories (in their order).

    Raises a one-line error for a margin column absent from the data, a data value that is not a category
    of its margin (a missing value when the margin has no ``null`` category), and a margin category that
    no row has.
    """
    codes: dict[str, np.ndarray] = {}
    for column, margin in margins.items():
        if column not in data.columns:
            named = f" (named in {Path(margins_file).name})" if margins_file else ""
            raise SurveyInputError(f"margin column not in the data{named}", file=file, column=column)
        labels = [category_label(v) for v in data[column].tolist()]
        lookup = {label: i for i, label in enumerate(margin)}
        index = np.array([lookup.get(v, -1) for v in labels], dtype=int)
        bad = np.flatnonzero(index < 0)
        if bad.size:
            row = int(bad[0])
            value = labels[row]
            if value is None:
                raise SurveyInputError(
                    "missing value in a raking column; give its margin a `null: p` category to rake "
                    "missing values as a category of their own", file=file, row=row + 1, column=column)
            raise SurveyInputError(f"category not in the margins ({bad.size} row(s)); the margin has "
                                   f"{', '.join(_shown(k) for k in margin)}", file=file, row=row + 1,
                                   column=column, value=value)
        counts = np.bincount(index, minlength=len(margin))
        absent = [k for k, c in zip(margin, counts, strict=True) if c == 0]
        if absent:
            raise SurveyInputError("margin category absent from the data: raking cannot reach its "
                                   "proportion", file=file, column=column, value=_shown(absent[0]))
        codes[column] = index
    return codes


def _shown(label: str | None) -> str:
    return "null" if label is None else label
