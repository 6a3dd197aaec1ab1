"""Instrument stage: versioned questionnaires (schema, loading by ``name@version``, diffs between
versions, exports to XLSForm / Markdown codebook / Frictionless Data Package, and the lavaan model).

>>> from survey.instrument import load_instrument, lavaan_model
>>> inst = load_instrument("follow-drivers@1.1.0")
>>> inst.indicators("CON")
['CON1', 'CON2', 'CON3', 'CON4', 'CON5']
"""

from survey.instrument.diff import InstrumentDiff, diff_instruments, versioned_column
from survey.instrument.export import to_codebook, to_datapackage, to_xlsform
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
