"""Access to instruments for the ingest stage.

The instrument stage (:mod:`survey.instrument`) owns loading and the schema. This module asks it for
``load_instrument`` and ``diff_instruments``; when that stage is not importable (a partial checkout),
it reads the same YAML files itself into small read-only objects with the attribute names of the
shared contract (``.items``, ``.scale_of(id)``, ``.keys()`` ...), so ingestion never depends on how
the instrument was built, only on that contract.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from survey.errors import SurveyInputError

_ROOTS = (Path(__file__).resolve().parents[2] / "instruments",)


@dataclass(frozen=True)
class ScaleSpec:
    """A response scale: ``type``, scale ``points`` {code: label}, labelled ``missing`` codes, bounds."""

    name: str
    type: str
    points: dict[int, str] = field(default_factory=dict)
    missing: dict[int, str] = field(default_factory=dict)
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ItemSpec:
    id: str
    text: str
    scale: str
    role: str
    construct: str | None = None
    keyed: int = 1
    expected: int | None = None
    pii: bool = False


@dataclass(frozen=True)
class InstrumentSpec:
    """Read-only view of an instrument YAML with the shared-contract accessors."""

    name: str
    version: str
    sha256: str
    scales: dict[str, ScaleSpec]
    items: list[ItemSpec]
    blocks: list[dict[str, Any]]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    def item(self, item_id: str) -> ItemSpec:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def scale_of(self, item_id: str) -> ScaleSpec:
        return self.scales[self.item(item_id).scale]

    def items_by_role(self, role: str) -> list[ItemSpec]:
        return [it for it in self.items if it.role == role]

    def indicators(self, code: str) -> list[str]:
        return [it.id for it in self.items if it.construct == code]

    @property
    def construct_codes(self) -> list[str]:
        seen: list[str] = []
        for it in self.items:
            if it.construct and it.construct not in seen:
                seen.append(it.construct)
        return seen

    def keys(self) -> dict[str, int]:
        return {it.id: int(it.keyed) for it in self.items if it.construct}


def _yaml_path(spec: str) -> Path:
    if spec.endswith((".yaml", ".yml")) or "/" in spec:
        path = Path(spec)
        if path.is_file():
            return path
        raise SurveyInputError("instrument file not found", file=spec)
    if "@" not in spec:
        raise SurveyInputError("instrument must be given as NAME@VERSION or a YAML path", value=spec)
    name, version = spec.split("@", 1)
    roots = list(_ROOTS)
    try:
        import survey._instruments as packaged  # installed copy of instruments/

        roots.extend(Path(p) for p in packaged.__path__)
    except ImportError:
        pass
    for root in roots:
        path = root / name / f"{version}.yaml"
        if path.is_file():
            return path
    raise SurveyInputError("unknown instrument", value=spec)


def _read_yaml(spec: str) -> InstrumentSpec:
    path = _yaml_path(spec)
    raw = path.read_bytes()
    doc = yaml.safe_load(raw)
    scales = {}
    for name, s in doc["scales"].items():
        points = {int(k): str(v) for k, v in (s.get("points") or {}).items()}
        lo = s.get("min", min(points) if points else None)
        hi = s.get("max", max(points) if points else None)
        scales[name] = ScaleSpec(
            name, s["type"], points, {int(k): str(v) for k, v in (s.get("missing") or {}).items()}, lo, hi
        )
    items = [
        ItemSpec(
            id=str(i["id"]),
            text=str(i.get("text", "")),
            scale=str(i["scale"]),
            role=str(i.get("role", "")),
            construct=i.get("construct"),
            keyed=int(i.get("keyed", 1)),
            expected=i.get("expected"),
            pii=bool(i.get("pii", False)),
        )
        for i in doc["items"]
    ]
    return InstrumentSpec(
        str(doc["name"]),
        str(doc["version"]),
        hashlib.sha256(raw).hexdigest(),
        scales,
        items,
        list(doc.get("blocks") or []),
    )


def get_instrument(spec: Any) -> Any:
    """Return an instrument object for ``spec`` ("name@version", a YAML path, or an instrument object)."""
    if hasattr(spec, "items") and hasattr(spec, "scale_of"):
        return spec
    spec = str(spec)
    try:
        from survey.instrument import load_instrument
    except ImportError:
        return _read_yaml(spec)
    try:
        return load_instrument(spec)
    except SurveyInputError:
        raise
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise SurveyInputError(f"cannot load instrument: {exc}", value=spec) from None


def sibling_versions(instrument: Any) -> list[Any]:
    """Every other version of the same instrument that can be found (for wrong-version detection)."""
    out = []
    try:
        from survey.instrument import list_instruments

        specs = [s for s in list_instruments() if s.split("@")[0] == instrument.name]
    except ImportError:
        specs = []
        for root in _ROOTS:
            specs += [f"{instrument.name}@{p.stem}" for p in sorted((root / instrument.name).glob("*.yaml"))]
    for s in specs:
        if s.split("@", 1)[1] != str(instrument.version):
            try:
                out.append(get_instrument(s))
            except SurveyInputError:
                continue
    return out


def item_ids(instrument: Any) -> list[str]:
    return [it.id for it in instrument.items]


def scale_name(instrument: Any, item_id: str) -> str:
    """Name of the item's scale (``Item.scale`` may be the name or the Scale object)."""
    sc = instrument.item(item_id).scale
    if isinstance(sc, str):
        return sc
    for name, obj in instrument.scales.items():
        if obj is sc or obj == sc:
            return name
    return str(getattr(sc, "name", "scale"))


def scale_bounds(scale: Any) -> tuple[float | None, float | None]:
    lo, hi = getattr(scale, "min", None), getattr(scale, "max", None)
    points = dict(getattr(scale, "points", {}) or {})
    if lo is None and points:
        lo = min(points)
    if hi is None and points:
        hi = max(points)
    return lo, hi


def is_text_item(instrument: Any, item_id: str) -> bool:
    it = instrument.item(item_id)
    return bool(getattr(it, "pii", False)) or str(instrument.scale_of(item_id).type) == "text"
