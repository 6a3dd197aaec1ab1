"""Scoring keys and reverse keying.

Data hold item responses as answered; reverse-keyed items are recoded at analysis time as
``(min + max) - x`` (e.g. ``8 - x`` on a 1..7 scale). Keys come from the instrument
(``Instrument.keys()``, bounds from the item's scale) or from the user, following psych's convention
(Revelle, ``psych::make.keys``): a reverse-keyed item is written with a leading minus (``-SHI4``) or
given the key ``-1``. When the user gives no bounds, psych's rule is used: the smallest and largest
value observed among the keyed items (``psych::alpha`` with ``keys``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

_TOKEN = re.compile(r"[\s,;]+")


def parse_keys(spec: Mapping[str, Any] | Iterable[str] | str | Path) -> dict[str, int]:
    """Normalise keys to ``{item: +1 | -1}``.

    Accepts a mapping ``{item: 1 | -1}``, an iterable of names (``"-X"`` reverse keyed), or a path to a
    plain text file. In the file each line holds names separated by blanks or commas, optionally after
    a ``LABEL:`` (psych's ``keys`` list), e.g. ``SHI: SHI1 SHI2 SHI3 -SHI4``; a line ``NAME -1`` or
    ``NAME,1`` gives one key explicitly. ``#`` starts a comment.
    """
    if isinstance(spec, Mapping):
        out: dict[str, int] = {}
        for name, key in spec.items():
            try:
                value = int(key)
            except (TypeError, ValueError):
                raise SurveyInputError("a key must be 1 or -1", column=str(name), value=key) from None
            if value not in (1, -1):
                raise SurveyInputError("a key must be 1 or -1", column=str(name), value=key)
            out[str(name)] = value
        return out
    if isinstance(spec, str | Path):
        return _read_keys_file(Path(spec))
    out = {}
    for token in spec:
        name = str(token).strip()
        out[name.lstrip("+-")] = -1 if name.startswith("-") else 1
    return out


def _read_keys_file(path: Path) -> dict[str, int]:
    keys: dict[str, int] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if ":" in line:
            line = line.split(":", 1)[1]
        tokens = [t for t in _TOKEN.split(line.strip()) if t]
        if len(tokens) == 2 and re.fullmatch(r"[+-]?1", tokens[1]):
            keys[tokens[0].lstrip("+")] = int(tokens[1])
            continue
        for token in tokens:
            name = token.lstrip("+-")
            if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", name):
                raise SurveyInputError(
                    "not an item name in keys file", file=str(path), row=number, value=token
                )
            keys[name] = -1 if token.startswith("-") else 1
    if not keys:
        raise SurveyInputError("keys file holds no item names", file=str(path))
    return keys


def instrument_keys(instrument: Any) -> tuple[dict[str, int], dict[str, tuple[float, float]]]:
    """Keys and scale bounds ``{item: (min, max)}`` of an instrument's ordinal items."""
    keys = {str(k): int(v) for k, v in instrument.keys().items()}
    bounds: dict[str, tuple[float, float]] = {}
    for item in keys:
        scale = instrument.scale_of(item)
        if getattr(scale, "min", None) is not None and getattr(scale, "max", None) is not None:
            bounds[item] = (float(scale.min), float(scale.max))
    return keys, bounds


def reverse_key(
    data: pd.DataFrame,
    keys: Mapping[str, int],
    bounds: Mapping[str, tuple[float, float]] | tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Return a copy of ``data`` with every column keyed ``-1`` recoded as ``(min + max) - x``.

    ``bounds`` gives ``(min, max)`` per item or for all items; when omitted, the smallest and largest
    value observed among the keyed columns present (psych's rule). Columns not in ``keys`` are kept.
    """
    out = data.copy()
    flip = [c for c in out.columns if keys.get(c, 1) == -1]
    if not flip:
        return out
    if bounds is None:
        cols = [c for c in out.columns if c in keys]
        values = out[cols].to_numpy(dtype=float)
        if np.isnan(values).all():
            return out
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        per_item = {c: (lo, hi) for c in flip}
    elif isinstance(bounds, tuple):
        per_item = {c: (float(bounds[0]), float(bounds[1])) for c in flip}
    else:
        missing = [c for c in flip if c not in bounds]
        if missing:
            raise SurveyInputError("no scale bounds for a reverse-keyed item", column=missing[0])
        per_item = {c: bounds[c] for c in flip}
    for c in flip:
        lo, hi = per_item[c]
        out[c] = (lo + hi) - pd.to_numeric(out[c], errors="coerce")
    return out
