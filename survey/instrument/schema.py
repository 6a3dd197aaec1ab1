"""The instrument schema: pydantic models of a versioned questionnaire and their validation.

An instrument is one YAML file, ``instruments/<name>/<semver>.yaml``::

    name, version (semantic version), title, description
    scales:      {scale_name: {type, points: {code: label}, missing: {code: label}, min, max, unit}}
    constructs:  [{code, label, definition, literature: [...]}]
    blocks:      [{id, label, items: [item ids]}]
    items:       [{id, text, construct, scale, keyed (+1 | -1), role, expected, pii}]
    hypotheses:  [{id, predictor, outcome, sign}]

Structural problems (a wrong type, an unknown field) and semantic ones (a duplicate item id, an
unknown construct or scale, a reverse-keyed item on a non-ordinal scale, an attention item without
an ``expected`` scale point, a block or hypothesis naming something that does not exist, a missing
code that is also a scale point) raise :class:`survey.errors.SurveyInputError` naming the file, the
field (``items[SHI4].keyed``) and the offending value. A construct measured by fewer than three
indicators is legal but weak (a single-factor model with fewer than three indicators is not
identified on its own; Bollen 1989, *Structural Equations with Latent Variables*, ch. 7): it is
reported as a :class:`survey.errors.SurveyWarning` on ``Instrument.warnings``.

Reverse keying follows the usual convention: a keyed ``-1`` response ``x`` on an ordinal scale with
points ``min..max`` scores as ``(min + max) - x`` (applied at analysis time, never in the data files).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from survey.errors import SurveyInputError, SurveyWarning

SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
"""Semantic Versioning 2.0.0 (https://semver.org), the official regular expression."""

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
"""Item ids, construct codes, scale and block names: valid in lavaan syntax, XLSForm and pandas."""

INSTRUMENT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

ScaleType = Literal["ordinal", "nominal", "count", "numeric", "text"]
Role = Literal["indicator", "outcome", "attention", "behaviour", "demographic", "metadata"]
LATENT_ROLES: tuple[str, ...] = ("indicator", "outcome")
MIN_INDICATORS = 3

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key of a semantic version: numeric major.minor.patch; a pre-release sorts before its release."""
    m = SEMVER_RE.match(version)
    if m is None:
        raise SurveyInputError("not a semantic version (MAJOR.MINOR.PATCH)", value=version, field="version")
    pre = m.group(4)
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre or ""


class Scale(BaseModel):
    """A response scale. ``points`` are the valid answers (ordinal/nominal), ``missing`` the labelled
    missing codes (never scale points). ``min``/``max`` bound count and numeric answers; for ordinal
    and nominal scales they are the smallest and largest point."""

    model_config = _STRICT

    name: str = ""
    type: ScaleType
    points: dict[int, str] = Field(default_factory=dict)
    missing: dict[int, str] = Field(default_factory=dict)
    min: int | float | None = None
    max: int | float | None = None
    unit: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Scale:
        if self.type in ("ordinal", "nominal"):
            if not self.points:
                raise ValueError(f"a {self.type} scale needs at least two points")
            if len(self.points) < 2:
                raise ValueError(f"a {self.type} scale needs at least two points")
            lo, hi = min(self.points), max(self.points)
            if self.min is not None and self.min != lo or self.max is not None and self.max != hi:
                raise ValueError(f"min/max ({self.min}, {self.max}) disagree with the points ({lo}..{hi})")
            self.min, self.max = lo, hi
        elif self.points:
            raise ValueError(f"a {self.type} scale has no points (only ordinal and nominal scales do)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        if self.type == "text" and self.missing:
            raise ValueError("a text scale has no missing codes")
        return self

    @property
    def is_ordinal(self) -> bool:
        return self.type == "ordinal"

    def labels(self) -> dict[int, str]:
        """Scale points followed by the labelled missing codes."""
        return {**self.points, **self.missing}

    def collides(self, code: int) -> bool:
        """True when ``code`` would be a valid answer (a point, or inside the count/numeric range)."""
        if self.type in ("ordinal", "nominal"):
            return code in self.points
        if self.type in ("count", "numeric"):
            lo = -float("inf") if self.min is None else self.min
            hi = float("inf") if self.max is None else self.max
            return lo <= code <= hi
        return False


class Construct(BaseModel):
    """A latent construct (a hypothesised driver or the outcome)."""

    model_config = _STRICT

    code: str
    label: str
    definition: str = ""
    literature: list[str] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("a construct code is a letter followed by letters, digits or underscores")
        return v


class Block(BaseModel):
    """A page or group of the questionnaire (an XLSForm ``begin group``)."""

    model_config = _STRICT

    id: str
    label: str | None = None
    items: list[str]

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("a block id is a letter followed by letters, digits or underscores")
        return v


# The field ``construct`` (part of the shared API) deliberately shadows the deprecated BaseModel.construct.
warnings.filterwarnings("ignore", message='Field name "construct" in "Item" shadows', category=UserWarning)


class Item(BaseModel):
    """One question. ``keyed`` is +1 or -1 (reverse keyed); ``expected`` is the instructed answer of an
    attention item; ``pii`` marks personal data dropped at ingestion; ``label`` is the short variable
    label that tables print (``"Age"``; SPSS's variable label), the question wording being ``text``."""

    model_config = _STRICT

    id: str
    text: str
    label: str | None = None
    construct: str | None = None
    scale: str
    keyed: Literal[1, -1] = 1
    role: Role = "indicator"
    expected: int | None = None
    pii: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("an item id is a letter followed by letters, digits or underscores")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v:
            raise ValueError("the item text is empty")
        return v


class Hypothesis(BaseModel):
    """A directed path ``outcome ~ predictor`` (construct codes, or observed item ids)."""

    model_config = _STRICT

    id: str
    predictor: str
    outcome: str
    sign: Literal["positive", "negative", "nonzero"] = "positive"


class Instrument(BaseModel):
    """A versioned questionnaire. Build it with :func:`survey.instrument.load_instrument` (a file or
    ``name@version``) or :func:`parse_instrument` (a mapping); both run the semantic checks of
    :func:`check_instrument` and raise one-line :class:`SurveyInputError` s."""

    model_config = _STRICT

    name: str
    version: str
    title: str
    description: str = ""
    scales: dict[str, Scale]
    constructs: list[Construct] = Field(default_factory=list)
    blocks: list[Block] = Field(default_factory=list)
    items: list[Item]
    hypotheses: list[Hypothesis] = Field(default_factory=list)

    _warnings: list[SurveyWarning] = PrivateAttr(default_factory=list)
    _source: str | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _name_scales(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("scales"), dict):
            scales = {}
            for key, value in data["scales"].items():
                if isinstance(value, dict):
                    value = {**value, "name": str(key)}  # a scale is named by its key
                scales[key] = value
            data = {**data, "scales": scales}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not INSTRUMENT_NAME_RE.match(v):
            raise ValueError("an instrument name is lower-case letters, digits, '-' or '_'")
        return v

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not SEMVER_RE.match(v):
            raise ValueError("not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        return v

    @model_validator(mode="after")
    def _semantics(self, info: ValidationInfo) -> Instrument:
        context = info.context or {}
        file = context.get("file")
        self._source = None if file is None else str(file)
        self._warnings = check_instrument(self, file=self._source)
        return self

    # ---------------------------------------------------------------- identity
    @property
    def spec(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def sha256(self) -> str:
        """SHA-256 of the YAML bytes the instrument was read from (of its canonical JSON otherwise)."""
        if self._sha256 is None:
            payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
            self._sha256 = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        return self._sha256

    @property
    def source(self) -> str | None:
        """The file the instrument was read from, if any."""
        return self._source

    @property
    def warnings(self) -> list[SurveyWarning]:
        """Non-fatal problems found by validation (e.g. a construct with fewer than three indicators)."""
        return self._warnings

    # ---------------------------------------------------------------- look-ups
    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise SurveyInputError(f"no item {item_id!r} in {self.spec}", file=self._source, field="items",
                               value=item_id)

    def items_by_role(self, role: str) -> list[Item]:
        return [item for item in self.items if item.role == role]

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def construct_codes(self) -> list[str]:
        return [c.code for c in self.constructs]

    def get_construct(self, code: str) -> Construct:
        for c in self.constructs:
            if c.code == code:
                return c
        raise SurveyInputError(f"no construct {code!r} in {self.spec}", file=self._source,
                               field="constructs", value=code)

    def indicators(self, code: str) -> list[str]:
        """Item ids measuring construct ``code`` (roles indicator or outcome), in questionnaire order."""
        self.get_construct(code)
        return [i.id for i in self.items if i.construct == code and i.role in LATENT_ROLES]

    def keys(self) -> dict[str, int]:
        """Scoring keys (+1 / -1) of every item that measures a construct."""
        return {i.id: i.keyed for i in self.items if i.construct is not None and i.role in LATENT_ROLES}

    def label_of(self, item_id: str) -> str:
        """The item's short variable label, or its id when it has none."""
        return self.item(item_id).label or item_id

    def scale_of(self, item_id: str) -> Scale:
        return self.scales[self.item(item_id).scale]

    def summary(self) -> str:
        """Readable overview: constructs and their items ((-) marks reverse keying), scales, hypotheses."""
        return _instrument_summary(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready content plus ``spec``, ``sha256`` and ``warnings`` (messages)."""
        return _instrument_to_dict(self)

    def _repr_html_(self) -> str:
        return _instrument_html(self)

    def __repr__(self) -> str:
        return (f"Instrument({self.spec}: {len(self.items)} items, {len(self.constructs)} constructs, "
                f"{len(self.hypotheses)} hypotheses)")

    __str__ = __repr__


def _err(file: str | None, field: str, value: Any, message: str) -> SurveyInputError:
    return SurveyInputError(message, file=file, field=field, value=value)


def check_instrument(inst: Instrument, file: str | None = None) -> list[SurveyWarning]:
    """Semantic validation of a structurally valid instrument.

    Raises :class:`SurveyInputError` on the first problem (naming ``file``, the field path such as
    ``items[SHI4].keyed`` and the value); returns the list of non-fatal warnings.
    """
    found: list[SurveyWarning] = []

    # scales: labelled missing codes are never scale points
    for sname, scale in inst.scales.items():
        if not NAME_RE.match(sname):
            raise _err(file, f"scales.{sname}", sname,
                       "a scale name is a letter followed by letters, digits or underscores")
        for code in scale.missing:
            if scale.collides(code):
                raise _err(file, f"scales.{sname}.missing", code,
                           f"missing code {code} collides with a valid answer of scale {sname!r} "
                           f"(points or range {scale.min}..{scale.max}); use a code outside it")

    # constructs
    codes: list[str] = []
    for c in inst.constructs:
        if c.code in codes:
            raise _err(file, f"constructs[{c.code}].code", c.code, f"duplicate construct code {c.code!r}")
        codes.append(c.code)

    # items
    seen: set[str] = set()
    for item in inst.items:
        where = f"items[{item.id}]"
        if item.id in seen:
            raise _err(file, f"{where}.id", item.id, f"duplicate item id {item.id!r}")
        seen.add(item.id)
        if item.id in codes:
            raise _err(file, f"{where}.id", item.id,
                       f"item id {item.id!r} is also a construct code; lavaan syntax needs distinct names")
        if item.scale not in inst.scales:
            raise _err(file, f"{where}.scale", item.scale,
                       f"item {item.id!r}: unknown scale {item.scale!r} (known: {', '.join(inst.scales)})")
        scale = inst.scales[item.scale]
        if item.construct is not None and item.construct not in codes:
            raise _err(file, f"{where}.construct", item.construct,
                       f"item {item.id!r}: unknown construct {item.construct!r} (known: {', '.join(codes)})")
        if item.role in LATENT_ROLES:
            if item.construct is None:
                raise _err(file, f"{where}.construct", None,
                           f"item {item.id!r} has role {item.role!r} but no construct")
            if scale.type not in ("ordinal", "count", "numeric"):
                raise _err(file, f"{where}.scale", item.scale,
                           f"item {item.id!r} measures {item.construct!r} on a {scale.type} scale; "
                           "indicators need an ordinal or numeric scale")
        elif item.construct is not None:
            raise _err(file, f"{where}.role", item.role,
                       f"item {item.id!r} names construct {item.construct!r} but its role is {item.role!r}; "
                       "only indicator and outcome items measure a construct")
        if item.keyed == -1 and scale.type != "ordinal":
            raise _err(file, f"{where}.keyed", -1,
                       f"item {item.id!r}: reverse keying needs an ordinal scale, but scale "
                       f"{item.scale!r} is {scale.type}")
        if item.role == "attention":
            if item.expected is None:
                raise _err(file, f"{where}.expected", None,
                           f"attention item {item.id!r} has no 'expected' answer")
            if item.expected not in scale.points:
                raise _err(file, f"{where}.expected", item.expected,
                           f"attention item {item.id!r}: expected answer {item.expected} is not a point of "
                           f"scale {item.scale!r} ({', '.join(map(str, scale.points)) or 'no points'})")
        elif item.expected is not None:
            raise _err(file, f"{where}.expected", item.expected,
                       f"item {item.id!r} has an 'expected' answer but its role is {item.role!r}, "
                       "not attention")

    # blocks
    placed: dict[str, str] = {}
    block_ids: set[str] = set()
    for block in inst.blocks:
        if block.id in block_ids:
            raise _err(file, f"blocks[{block.id}].id", block.id, f"duplicate block id {block.id!r}")
        block_ids.add(block.id)
        if block.id in seen:
            raise _err(file, f"blocks[{block.id}].id", block.id, f"block id {block.id!r} is also an item id")
        for item_id in block.items:
            if item_id not in seen:
                raise _err(file, f"blocks[{block.id}].items", item_id,
                           f"block {block.id!r} references unknown item {item_id!r}")
            if item_id in placed:
                raise _err(file, f"blocks[{block.id}].items", item_id,
                           f"item {item_id!r} is already in block {placed[item_id]!r}")
            placed[item_id] = block.id
    if inst.blocks:
        loose = [i for i in inst.item_ids if i not in placed]
        if loose:
            found.append(SurveyWarning("unblocked_items", f"{_where(file)}items outside every block: "
                                          f"{', '.join(loose)}", "instrument"))

    # hypotheses
    observed = {i.id for i in inst.items if i.role not in ("attention", "metadata") and not i.pii}
    hyp_ids: set[str] = set()
    for h in inst.hypotheses:
        where = f"hypotheses[{h.id}]"
        if h.id in hyp_ids:
            raise _err(file, f"{where}.id", h.id, f"duplicate hypothesis id {h.id!r}")
        hyp_ids.add(h.id)
        for fld in ("predictor", "outcome"):
            name = getattr(h, fld)
            if name not in codes and name not in observed:
                raise _err(file, f"{where}.{fld}", name,
                           f"hypothesis {h.id!r} names unknown construct or item {name!r}")
        if h.predictor == h.outcome:
            raise _err(file, f"{where}.outcome", h.outcome,
                       f"hypothesis {h.id!r} regresses a variable on itself")

    # weak constructs
    for code in codes:
        n = sum(1 for i in inst.items if i.construct == code and i.role in LATENT_ROLES)
        if n < MIN_INDICATORS:
            found.append(SurveyWarning(
                "few_indicators",
                f"{_where(file)}construct {code!r} has {n} indicator{'s' if n != 1 else ''}; "
                f"at least {MIN_INDICATORS} are recommended for a reflective measurement model",
                "instrument"))
    return found


def _where(file: str | None) -> str:
    return f"{Path(file).name}: " if file else ""


def _loc_to_field(loc: tuple[Any, ...], data: Any) -> str:
    """``('items', 3, 'keyed')`` -> ``items[SHI4].keyed`` using the id of the fourth raw item."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            entry = node[key] if 0 <= key < len(node) else None
            ident = None
            if isinstance(entry, dict):
                ident = entry.get("id", entry.get("code"))
            parts[-1:] = [f"{parts[-1] if parts else ''}[{ident if ident is not None else key}]"]
            node = entry
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_instrument(data: Any, *, file: str | Path | None = None, sha256: str | None = None) -> Instrument:
    """Validate a mapping (parsed YAML) into an :class:`Instrument`.

    Every problem becomes one :class:`SurveyInputError` naming ``file``, the field and the value.
    """
    from pydantic import ValidationError

    fname = None if file is None else str(file)
    if not isinstance(data, dict):
        raise SurveyInputError("an instrument file is a YAML mapping (name, version, scales, items, ...)",
                               file=fname, value=type(data).__name__)
    try:
        inst = Instrument.model_validate(data, context={"file": fname})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, SurveyInputError):
            raise cause from None
        field = _loc_to_field(tuple(first["loc"]), data) or None
        value = first.get("input")
        if isinstance(value, dict | list):
            value = None
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        raise SurveyInputError(message, file=fname, field=field, value=value) from None
    if sha256 is not None:
        inst._sha256 = sha256
    return inst


def _instrument_summary(inst: Instrument) -> str:
    """Readable multi-line overview (used by ``Instrument.summary`` and ``survey instrument show``)."""
    lines = [f"{inst.spec}: {inst.title}"]
    if inst.source:
        lines.append(f"  file    {inst.source}")
    lines.append(f"  sha256  {inst.sha256}")
    roles: dict[str, int] = {}
    for item in inst.items:
        roles[item.role] = roles.get(item.role, 0) + 1
    lines.append(f"  items   {len(inst.items)} (" + ", ".join(f"{n} {r}" for r, n in roles.items()) + ")")
    lines.append("Constructs:")
    for c in inst.constructs:
        ids = [f"{i}(-)" if inst.item(i).keyed == -1 else i for i in inst.indicators(c.code)]
        lines.append(f"  {c.code:<5} {c.label}: {' '.join(ids)}")
    attention = inst.items_by_role("attention")
    if attention:
        lines.append("Attention checks: " + ", ".join(f"{i.id} (expected {i.expected})" for i in attention))
    lines.append("Scales:")
    for name, s in inst.scales.items():
        rng = f"{s.min}..{s.max}" if s.min is not None or s.max is not None else ""
        miss = ", ".join(f"{k}={v}" for k, v in s.missing.items())
        lines.append((f"  {name:<10} {s.type:<8} {rng}" + (f"  missing: {miss}" if miss else "")).rstrip())
    if inst.hypotheses:
        paths = ", ".join(f"{h.id} {h.predictor}->{h.outcome}" for h in inst.hypotheses)
        lines.append(f"Hypotheses: {paths}")
    lines += [f"warning: {w.message}" for w in inst.warnings]
    return "\n".join(lines)


def _instrument_to_dict(inst: Instrument) -> dict[str, Any]:
    out: dict[str, Any] = {"spec": inst.spec, "sha256": inst.sha256}
    out.update(inst.model_dump(mode="json"))
    out["warnings"] = [w.message for w in inst.warnings]
    return out


def _instrument_html(inst: Instrument) -> str:
    import html

    rows = "".join(
        f"<tr><td>{html.escape(i.id)}</td><td>{html.escape(i.text)}</td><td>{i.construct or ''}</td>"
        f"<td>{i.scale}</td><td>{i.keyed:+d}</td><td>{i.role}</td></tr>" for i in inst.items)
    return (f"<h4>{html.escape(inst.spec)}: {html.escape(inst.title)}</h4><table><thead><tr><th>id</th>"
            f"<th>text</th><th>construct</th><th>scale</th><th>keyed</th><th>role</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")
