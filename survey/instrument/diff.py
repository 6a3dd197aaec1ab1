"""Differences between two versions of an instrument, and whether construct scores stay comparable.

An item present in both versions is *unchanged* when its text, keying, construct, role and the
definition of its scale (type, points, missing codes, range) are all the same. Changes are reported
per item as ``added``, ``removed``, ``reworded`` (text), ``rekeyed`` (keying), ``rescaled`` (scale
name or definition), ``moved`` (construct) and ``role``.

Comparability rule (per construct): the construct's score is comparable across the two versions when

1. the construct exists in both versions,
2. at least three of its items are unchanged (the *anchors*; three indicators identify a
   single-factor model on their own, Bollen 1989, ch. 7, and are the usual minimum for a
   partial-invariance anchor set, Byrne, Shavelson & Muthen 1989), and
3. none of its items common to both versions is re-keyed (a re-keyed item reverses the meaning of
   its answers, so sum scores and loadings are not on the same footing).

Pooled analyses then score the construct through its anchors only. For follow-drivers 1.0.0 -> 1.1.0:
AUT is comparable through AUT1, AUT3, AUT4 (AUT2 reworded), CON through CON1-CON4 (CON5 added).

The changelog's versioning policy (a major version changes what a construct measures) is checked:
a construct that stops being comparable without a major version bump yields a warning.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from survey.errors import SurveyWarning
from survey.instrument.schema import Instrument, Item, semver_key

MIN_ANCHORS = 3
re_nonword = re.compile(r"\W")
ITEM_COLUMNS = ["item", "change", "construct", "old", "new"]
SCALE_COLUMNS = ["scale", "change", "old", "new"]
CONSTRUCT_COLUMNS = ["construct", "in_a", "in_b", "n_items_a", "n_items_b", "anchors", "added", "removed",
                     "changed", "rekeyed", "comparable", "reason"]


def versioned_column(item_id: str, version: str) -> str:
    """Column of an item's non-equivalent version in pooled data: ``AUT2`` of 1.1.0 -> ``AUT2_v1_1_0``.

    Harmonised data keep the older wording under the plain id and give a changed item (reworded,
    re-keyed or rescaled) of the newer version its own column, until equivalence has been shown.
    """
    return f"{item_id}_v" + re_nonword.sub("_", version)


def _scale_def(inst: Instrument, name: str) -> dict[str, Any]:
    return inst.scales[name].model_dump(exclude={"name"})


@dataclass
class InstrumentDiff:
    """Result of :func:`diff_instruments`: item, scale and construct level changes between ``a`` and ``b``."""

    a: str
    b: str
    items: pd.DataFrame
    scales: pd.DataFrame
    constructs: pd.DataFrame
    hypotheses: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)

    def _ids(self, change: str) -> list[str]:
        return self.items.loc[self.items["change"] == change, "item"].tolist()

    @property
    def added(self) -> list[str]:
        return self._ids("added")

    @property
    def removed(self) -> list[str]:
        return self._ids("removed")

    @property
    def reworded(self) -> list[str]:
        return self._ids("reworded")

    @property
    def rekeyed(self) -> list[str]:
        return self._ids("rekeyed")

    @property
    def rescaled(self) -> list[str]:
        return self._ids("rescaled")

    def comparable(self, construct: str) -> bool:
        row = self.constructs.loc[self.constructs["construct"] == construct]
        if row.empty:
            raise KeyError(construct)
        return bool(row["comparable"].iloc[0])

    def anchors(self, construct: str) -> list[str]:
        row = self.constructs.loc[self.constructs["construct"] == construct]
        if row.empty:
            raise KeyError(construct)
        return list(row["anchors"].iloc[0])

    def versioned_columns(self) -> dict[str, str]:
        """``{item: column}`` for items of ``b`` changed since ``a`` (e.g. ``{"AUT2": "AUT2_v1_1_0"}``):
        in pooled data their ``b`` answers go to their own column (see :func:`versioned_column`)."""
        version = self.b.rpartition("@")[2]
        changed = self.items.loc[~self.items["change"].isin(["added", "removed"]), "item"]
        return {item: versioned_column(item, version) for item in dict.fromkeys(changed)}

    @property
    def identical(self) -> bool:
        return self.items.empty and self.scales.empty and self.hypotheses.empty

    def to_frame(self) -> pd.DataFrame:
        """One row per item change (columns ``item change construct old new``)."""
        return self.items.copy()

    def to_dict(self) -> dict[str, Any]:
        constructs = {}
        for row in self.constructs.to_dict(orient="records"):
            code = row.pop("construct")
            constructs[code] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in row.items()}
        return {
            "a": self.a,
            "b": self.b,
            "added": self.added,
            "removed": self.removed,
            "reworded": self.reworded,
            "rekeyed": self.rekeyed,
            "rescaled": self.rescaled,
            "versioned_columns": self.versioned_columns(),
            "items": _records(self.items),
            "scales": _records(self.scales),
            "hypotheses": _records(self.hypotheses),
            "constructs": constructs,
            "warnings": [w.message for w in self.warnings],
        }

    def summary(self) -> str:
        lines = [f"Instrument diff {self.a} -> {self.b}"]
        if self.identical:
            lines.append("  no changes")
        for row in self.items.itertuples(index=False):
            if row.change in ("added", "removed"):
                where = f" ({row.construct})" if row.construct else ""
                lines.append(f"  {row.change:<9} {row.item}{where}")
            else:
                lines.append(f"  {row.change:<9} {row.item}: {row.old!r} -> {row.new!r}")
        for row in self.scales.itertuples(index=False):
            lines.append(f"  scale {row.scale}: {row.change} ({row.old} -> {row.new})")
        for row in self.hypotheses.itertuples(index=False):
            lines.append(f"  hypothesis {row.hypothesis}: {row.change} ({row.old} -> {row.new})")
        lines.append("Construct comparability:")
        for row in self.constructs.itertuples(index=False):
            verdict = "comparable" if row.comparable else "NOT comparable"
            lines.append(f"  {row.construct:<5} {verdict}: {row.reason}")
        for w in self.warnings:
            lines.append(f"warning: {w.message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        parts = [f"<h4>Instrument diff {html.escape(self.a)} &rarr; {html.escape(self.b)}</h4>",
                 self.items.to_html(index=False), "<h5>Constructs</h5>",
                 self.constructs.to_html(index=False)]
        if not self.scales.empty:
            parts += ["<h5>Scales</h5>", self.scales.to_html(index=False)]
        if self.warnings:
            parts.append("<ul>" + "".join(f"<li>{html.escape(w.message)}</li>" for w in self.warnings)
                         + "</ul>")
        return "".join(parts)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in frame.to_dict(orient="records"):
        out.append({k: (None if v is None or (isinstance(v, float) and pd.isna(v)) else v)
                    for k, v in rec.items()})
    return out


def _item_changes(a: Instrument, b: Instrument, old: Item, new: Item) -> list[tuple[str, str, Any, Any]]:
    changes: list[tuple[str, str, Any, Any]] = []
    if old.text != new.text:
        changes.append(("reworded", new.id, old.text, new.text))
    if old.keyed != new.keyed:
        changes.append(("rekeyed", new.id, old.keyed, new.keyed))
    if old.scale != new.scale or _scale_def(a, old.scale) != _scale_def(b, new.scale):
        changes.append(("rescaled", new.id, old.scale, new.scale))
    if old.construct != new.construct:
        changes.append(("moved", new.id, old.construct, new.construct))
    if old.role != new.role:
        changes.append(("role", new.id, old.role, new.role))
    if old.expected != new.expected:
        changes.append(("expected", new.id, old.expected, new.expected))
    if old.pii != new.pii:
        changes.append(("pii", new.id, old.pii, new.pii))
    return changes


def diff_instruments(a: Instrument | str, b: Instrument | str) -> InstrumentDiff:
    """Compare instrument ``a`` (older) with ``b`` (newer); see the module docstring for the rule."""
    from survey.instrument.load import load_instrument

    a = load_instrument(a)
    b = load_instrument(b)
    a_items = {i.id: i for i in a.items}
    b_items = {i.id: i for i in b.items}

    rows: list[dict[str, Any]] = []
    for item in a.items:
        if item.id not in b_items:
            rows.append({"item": item.id, "change": "removed", "construct": item.construct,
                         "old": item.text, "new": None})
    changed_ids: dict[str, list[str]] = {}
    for item in b.items:
        if item.id not in a_items:
            rows.append({"item": item.id, "change": "added", "construct": item.construct,
                         "old": None, "new": item.text})
            continue
        for change, item_id, old, new in _item_changes(a, b, a_items[item.id], item):
            rows.append({"item": item_id, "change": change, "construct": item.construct,
                         "old": old, "new": new})
            changed_ids.setdefault(item_id, []).append(change)
    items = pd.DataFrame(rows, columns=ITEM_COLUMNS)

    srows: list[dict[str, Any]] = []
    for name in a.scales:
        if name not in b.scales:
            srows.append({"scale": name, "change": "removed", "old": a.scales[name].type, "new": None})
    for name, scale in b.scales.items():
        if name not in a.scales:
            srows.append({"scale": name, "change": "added", "old": None, "new": scale.type})
            continue
        old = a.scales[name]
        for attr in ("type", "points", "missing", "min", "max", "unit"):
            if getattr(old, attr) != getattr(scale, attr):
                srows.append({"scale": name, "change": attr, "old": str(getattr(old, attr)),
                              "new": str(getattr(scale, attr))})
    scales = pd.DataFrame(srows, columns=SCALE_COLUMNS)

    hrows: list[dict[str, Any]] = []
    a_h = {(h.predictor, h.outcome): h for h in a.hypotheses}
    b_h = {(h.predictor, h.outcome): h for h in b.hypotheses}
    for key, h in a_h.items():
        if key not in b_h:
            hrows.append({"hypothesis": h.id, "change": "removed", "old": f"{h.outcome} ~ {h.predictor}",
                          "new": None})
    for key, h in b_h.items():
        if key not in a_h:
            hrows.append({"hypothesis": h.id, "change": "added", "old": None,
                          "new": f"{h.outcome} ~ {h.predictor}"})
        elif a_h[key].sign != h.sign:
            hrows.append({"hypothesis": h.id, "change": "sign", "old": a_h[key].sign, "new": h.sign})
    hypotheses = pd.DataFrame(hrows, columns=["hypothesis", "change", "old", "new"])

    crows: list[dict[str, Any]] = []
    codes = a.construct_codes + [c for c in b.construct_codes if c not in a.construct_codes]
    for code in codes:
        in_a, in_b = code in a.construct_codes, code in b.construct_codes
        ia = a.indicators(code) if in_a else []
        ib = b.indicators(code) if in_b else []
        common = [i for i in ib if i in ia]
        anchors = tuple(i for i in common if i not in changed_ids)
        rekeyed = tuple(i for i in common if "rekeyed" in changed_ids.get(i, []))
        changed = tuple(i for i in common if i in changed_ids)
        added = tuple(i for i in ib if i not in ia)
        removed = tuple(i for i in ia if i not in ib)
        if not (in_a and in_b):
            comparable, reason = False, f"only in {a.spec if in_a else b.spec}"
        elif rekeyed:
            comparable, reason = False, f"re-keyed: {', '.join(rekeyed)}"
        elif len(anchors) < MIN_ANCHORS:
            comparable = False
            reason = (f"only {len(anchors)} unchanged item(s) ({', '.join(anchors) or 'none'}); "
                      f"{MIN_ANCHORS} needed")
        else:
            comparable = True
            reason = f"through {', '.join(anchors)}"
            groups = (("changed", changed), ("added", added), ("removed", removed))
            notes = [f"{', '.join(v)} {k}" for k, v in groups if v]
            if notes:
                reason += f" ({'; '.join(notes)})"
        crows.append({"construct": code, "in_a": in_a, "in_b": in_b,
                      "n_items_a": len(ia), "n_items_b": len(ib), "anchors": anchors, "added": added,
                      "removed": removed, "changed": changed,
                      "rekeyed": rekeyed, "comparable": comparable, "reason": reason})
    constructs = pd.DataFrame(crows, columns=CONSTRUCT_COLUMNS)

    warnings: list[SurveyWarning] = []
    if a.name == b.name:
        broken = [r["construct"] for r in crows if r["in_a"] and not r["comparable"]]
        if broken and semver_key(a.version)[0] == semver_key(b.version)[0]:
            warnings.append(SurveyWarning(
                "version_policy",
                f"{', '.join(broken)} not comparable between {a.spec} and {b.spec}, but the major version "
                "did not change (a major version changes what a construct measures)", "instrument"))
        structural = items.loc[~items["change"].isin(["reworded"]), "item"].tolist()
        if structural and semver_key(a.version)[:2] == semver_key(b.version)[:2]:
            warnings.append(SurveyWarning(
                "version_policy",
                f"items {', '.join(dict.fromkeys(structural))} changed beyond wording between {a.spec} and "
                f"{b.spec} in a patch release "
                "(a patch version fixes typos and labels only)", "instrument"))
    return InstrumentDiff(a=a.spec, b=b.spec, items=items, scales=scales, constructs=constructs,
                          hypotheses=hypotheses, warnings=warnings)
