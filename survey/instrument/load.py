"""Finding and loading instruments by ``name@version`` or by path.

Instruments live in ``<root>/<name>/<version>.yaml``. The roots searched, in order:

1. every directory in the environment variable ``SURVEY_INSTRUMENTS_PATH`` (``os.pathsep``-separated);
2. the instruments shipped with the package (``importlib.resources.files("survey._instruments")``,
   i.e. the repository's ``instruments/`` folder, installed as package data).

An earlier root wins when the same ``name@version`` exists twice. YAML is read with a safe loader
(no Python object construction) that also rejects duplicate mapping keys.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml

from survey.errors import SurveyInputError
from survey.instrument.schema import SEMVER_RE, Instrument, parse_instrument, semver_key

ENV_VAR = "SURVEY_INSTRUMENTS_PATH"
YAML_SUFFIXES = (".yaml", ".yml")


class _UniqueKeys:
    """A YAML constructor that refuses a key given twice in one mapping (YAML 1.2 forbids it)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        keys: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            if key in keys:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {mark.line + 1})", mark)
            keys.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


class _UniqueKeySafeLoader(_UniqueKeys, yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""


_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(_UniqueKeys, yaml.cyaml.CParser, yaml.constructor.SafeConstructor,  # type: ignore[no-redef]
                      yaml.resolver.Resolver):
        """libyaml's parser (several times PyYAML's) with the same constructor, resolver and duplicate-key
        check as :class:`_UniqueKeySafeLoader` (``yaml.CSafeLoader`` plus the check), so the same
        document gives the same objects."""

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


def read_yaml(raw: bytes, *, file: str | None = None) -> object:
    """Parse YAML bytes safely; a syntax error becomes a one-line :class:`SurveyInputError`.

    Parsed with libyaml when PyYAML has it; any error is reported by a second parse with PyYAML's own
    parser, so the messages (and what is accepted) do not depend on libyaml."""
    if _FastLoader is not None:
        try:
            return yaml.load(raw.decode("utf-8"), Loader=_FastLoader)  # noqa: S506 (safe constructor)
        except (yaml.YAMLError, UnicodeDecodeError):
            pass
    try:
        return yaml.load(raw.decode("utf-8"), Loader=_UniqueKeySafeLoader)
    except UnicodeDecodeError as exc:
        raise SurveyInputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise SurveyInputError(f"invalid YAML: {where}{problem}", file=file) from None


def _roots() -> list[Traversable]:
    roots: list[Traversable] = []
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            roots.append(Path(entry.strip()).expanduser())
    try:
        roots.append(files("survey._instruments"))
    except ModuleNotFoundError:  # a source tree that was never installed: use its instruments/ folder
        roots.append(Path(__file__).resolve().parents[2] / "instruments")
    return roots


def _catalogue() -> dict[str, dict[str, Traversable]]:
    """``{name: {version: resource}}`` over all roots; earlier roots take precedence."""
    found: dict[str, dict[str, Traversable]] = {}
    for root in _roots():
        if not root.is_dir():
            continue
        for folder in _iterdir(root):
            if not folder.is_dir() or folder.name.startswith(("_", ".")):
                continue
            for entry in _iterdir(folder):
                stem, dot, suffix = entry.name.rpartition(".")
                if entry.is_file() and dot and f".{suffix}" in YAML_SUFFIXES and SEMVER_RE.match(stem):
                    found.setdefault(folder.name, {}).setdefault(stem, entry)
    return found


def _iterdir(node: Traversable) -> Iterator[Traversable]:
    return iter(sorted(node.iterdir(), key=lambda t: t.name))


def list_instruments() -> list[str]:
    """All available instruments as ``name@version``, by name then semantic version."""
    cat = _catalogue()
    return [f"{name}@{ver}" for name in sorted(cat) for ver in sorted(cat[name], key=semver_key)]


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(YAML_SUFFIXES) or "/" in spec or os.sep in spec


def load_instrument(spec: str | Path | Instrument) -> Instrument:
    """Load an instrument from ``"name@version"`` (``"name"`` alone means its latest version) or a YAML path.

    Unknown names and versions raise :class:`SurveyInputError` listing what is available.
    """
    if isinstance(spec, Instrument):
        return spec
    if isinstance(spec, Path) or _looks_like_path(str(spec)):
        path = Path(spec)
        if not path.is_file():
            raise SurveyInputError("instrument file not found", file=str(path))
        return _load_resource(path, str(path))
    text = str(spec).strip()
    name, _, version = text.partition("@")
    cat = _catalogue()
    if name not in cat:
        available = ", ".join(list_instruments()) or "none"
        raise SurveyInputError(f"unknown instrument {name!r}; available: {available}", value=text,
                               field="instrument")
    versions = cat[name]
    if not version:
        version = max(versions, key=semver_key)
    if version not in versions:
        listed = ", ".join(sorted(versions, key=semver_key))
        raise SurveyInputError(f"instrument {name!r} has no version {version!r}; available: {listed}",
                               value=text, field="instrument")
    resource = versions[version]
    inst = _load_resource(resource, _display(resource))
    if inst.name != name or inst.version != version:
        raise SurveyInputError(f"file declares {inst.spec} but is stored as {name}@{version}",
                               file=_display(resource), field="version", value=inst.version)
    return inst


def _display(resource: Traversable) -> str:
    return str(resource) if isinstance(resource, Path) else f"{resource.name}"


def _load_resource(resource: Traversable, display: str) -> Instrument:
    raw = resource.read_bytes()
    data = read_yaml(raw, file=display)
    inst = parse_instrument(data, file=display, sha256=hashlib.sha256(raw).hexdigest())
    return inst
