"""Instrument stage: versioned questionnaires (schema, loading by ``name@version``, diffs between
versions, exports to XLSForm / Markdown codebook / Frictionless Data Package, and the lavaan model).

>>> from survey.instrument import load_instrument, lavaan_model
>>> inst = load_instrument("follow-drivers@1.1.0")
>>> inst.indicators("CON")
['CON1', 'CON2', 'CON3', 'CON4', 'CON5']
"""

from survey.instrument.load import list_instruments, load_instrument
from survey.instrument.model import lavaan_model
from survey.instrument.schema import (
    Block,
    Construct,
    Hypothesis,
    Instrument,
    Item,
    Scale,
    check_instrument,
    parse_instrument,
)

__all__ = [
    "Block",
    "Construct",
    "Hypothesis",
    "Instrument",
    "InstrumentDiff",
    "Item",
    "Scale",
    "check_instrument",
    "diff_instruments",
    "lavaan_model",
    "list_instruments",
    "load_instrument",
    "parse_instrument",
    "to_codebook",
    "to_datapackage",
    "to_xlsform",
    "versioned_column",
]

_EXPORTS = ("to_codebook", "to_datapackage", "to_xlsform")
_DIFF = ("InstrumentDiff", "diff_instruments", "versioned_column")


def __getattr__(name: str):
    """The exporters load openpyxl and the diff pandas; import them on first use (PEP 562) so that
    loading an instrument (every command does; ``survey instrument list`` does nothing else) stays light."""
    if name in _EXPORTS:
        from survey.instrument import export

        return getattr(export, name)
    if name in _DIFF:
        from survey.instrument import diff

        return getattr(diff, name)
    raise AttributeError(f"module 'survey.instrument' has no attribute {name!r}")

