"""The study configuration of the paper (``analysis/paper.yaml``), validated by pydantic.

Every field has a default, so an empty file (or no file) describes the study on the embedded demo
data. A bad file raises :class:`survey.errors.SurveyInputError` naming the file and the field, e.g.
``analysis/paper.yaml: field 'bootstrap.replicates': Input should be greater than or equal to 0``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from survey.errors import SurveyInputError
from survey.quality import ScreenConfig
from survey.report.weighting import WeightsSpec

_SPEC = re.compile(r"^[A-Za-z0-9_.-]+@\d+\.\d+\.\d+$")
_FILE = re.compile(r"\.ya?ml$", re.IGNORECASE)

def _instrument_spec(value: str) -> str:
    if not (_SPEC.match(value) or _FILE.search(value)):
        raise ValueError(f"expected NAME@MAJOR.MINOR.PATCH or an instrument file (.yaml), got {value!r}")
    return value


InstrumentSpec = Annotated[str, AfterValidator(_instrument_spec)]

_PATH = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*~\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSource(_Strict):
    """One raw export and the instrument version it was collected with."""

    path: str
    instrument: InstrumentSpec


class Bootstrap(_Strict):
    """Bootstrap of indirect effects: ``replicates: 0`` uses delta-method standard errors."""

    replicates: int = Field(0, ge=0, le=100_000)
    seed: int = Field(20240601, ge=0)


class HypothesisSpec(_Strict):
    """A directional hypothesis on one structural path, ``path: "FOL ~ SHI"``."""

    id: str
    path: str
    sign: Literal["positive", "negative"] = "positive"

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"expected 'OUTCOME ~ PREDICTOR', got {value!r}")
        return " ~ ".join(part.strip() for part in value.split("~"))

    @property
    def outcome(self) -> str:
        return self.path.split("~")[0].strip()

    @property
    def predictor(self) -> str:
        return self.path.split("~")[1].strip()


class PaperConfig(_Strict):
    """``analysis/paper.yaml``.

    * ``title``: the paper's title; empty = the instrument's title.
    * ``data``: raw exports; empty means the embedded demo data (``survey/data/demo/``). A relative
      path is read relative to the configuration file's folder first (then the working directory).
    * ``instrument``: the version whose lavaan model is estimated (items common to all sources):
      ``NAME@VER`` (searched in ``SURVEY_INSTRUMENTS_PATH``, then the shipped instruments) or an
      instrument YAML file (relative to the configuration file's folder); empty = the instrument of the
      last data source (of the newest demo wave without data).
    * ``screens``: the quality stage's ``ScreenConfig`` fields (validated by it; empty = its defaults).
    * ``estimator``/``missing``: passed to ``survey.sem.fit``.
    * ``bootstrap``: replicates and seed for the indirect effects.
    * ``groups``: grouping columns for measurement invariance.
    * ``invariance_min_group``: groups with fewer complete cases are left out of the invariance tests
      (and named in a warning): a multi-group CFA of this size has about 100 free parameters per group.
    * ``hypotheses``: empty means the instrument's hypotheses.
    * ``weights``: none (unweighted), a weight column, or margins to rake to
      (:class:`survey.report.weighting.WeightsSpec`): Tables 1 and 3 gain weighted columns and a table
      sets the weighted hypothesis tests beside the unweighted ones.
    * ``ordered``: also fit the structural model with the items as ordered categories (WLSMV) and add
      the sensitivity table setting its hypothesis tests beside the main ones
      (:mod:`survey.report.ordinal_tables`).
    """

    title: str | None = None
    instrument: InstrumentSpec | None = None
    data: list[DataSource] = Field(default_factory=list)
    screens: dict[str, Any] = Field(default_factory=dict)
    estimator: Literal["ML", "MLR", "MLM", "WLSMV"] = "ML"
    missing: Literal["listwise", "fiml"] = "listwise"
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    groups: list[str] = Field(default_factory=list)
    invariance_min_group: int = Field(100, ge=2)
    weights: WeightsSpec | None = None
    ordered: bool = False
    hypotheses: list[HypothesisSpec] = Field(default_factory=list)
    alpha: float = Field(0.05, gt=0, lt=1)
    figures: bool = True

    _base: Path | None = PrivateAttr(default=None)

    @property
    def base(self) -> Path | None:
        """The folder of the configuration file (relative paths in it are read from there)."""
        return self._base

    def resolve(self, path: str) -> Path | str:
        """A path of the configuration as a file: relative to the configuration's folder when it exists
        there, else as written (the working directory)."""
        candidate = Path(path)
        if self._base is not None and not candidate.is_absolute() and (self._base / candidate).exists():
            return self._base / candidate
        return path

    @property
    def model_instrument(self) -> str:
        """The instrument whose model is estimated: ``instrument``, else the last source's."""
        if self.instrument:
            return self.instrument
        if self.data:
            return self.data[-1].instrument
        from survey.simulate import demo_files

        return demo_files()[-1][1]

    def instrument_ref(self, spec: str) -> str:
        """An instrument reference to pass to ``load_instrument``: ``NAME@VER`` unchanged, a file path
        resolved like :meth:`resolve`."""
        return spec if _SPEC.match(spec) else str(self.resolve(spec))

    @field_validator("screens")
    @classmethod
    def _screens(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            ScreenConfig.model_validate(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            raise ValueError(f"{_field_name(error['loc'])}: {error['msg']}") from None
        return value

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-able data (as recorded in the manifest); ``weights`` only when
        set, so the manifest of an unweighted study is as before weights existed."""
        exclude = ({"weights"} if self.weights is None else set()) | (set() if self.ordered else {"ordered"})
        return self.model_dump(mode="json", exclude=exclude or None)


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def parse_config(raw: Any, *, file: str | None = None) -> PaperConfig:
    """Validate already-parsed YAML; the first error becomes a :class:`SurveyInputError` naming its field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SurveyInputError("the paper configuration must be a mapping", file=file)
    try:
        return PaperConfig.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        value = error.get("input") if error["type"] != "missing" else None
        if isinstance(value, dict | list):
            value = None
        raise SurveyInputError(error["msg"], file=file, field=_field_name(error["loc"]),
                               value=value) from None


def load_config(path: str | Path | None) -> PaperConfig:
    """Read and validate ``analysis/paper.yaml``; ``None`` gives the defaults."""
    if path is None:
        return PaperConfig()
    path = Path(path)
    if not path.is_file():
        raise SurveyInputError("configuration file not found", file=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or exc
        raise SurveyInputError(f"not valid YAML ({problem})", file=str(path), row=row) from None
    config = parse_config(raw, file=str(path))
    config._base = path.resolve().parent
    return config
