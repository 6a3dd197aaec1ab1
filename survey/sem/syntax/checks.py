"""What the current estimation path accepts of a parameter table, and the table it estimates.

* :func:`check_partable_options` - the option names :func:`survey.sem.syntax.lavaanify` takes (a typo is an
  input error listing the available ones);
* :func:`check_estimable` - explicit constraints other than label equalities (``a > 0``, ``a == b^2``)
  are refused with a clear error where they would be dropped (weights, clusters, power simulations; never
  silently);
* :func:`ram_table` - composites ``f <~ x`` are estimated as lavaan 0.6 does: the weights are regression
  coefficients of the composite on its indicators and the composite's residual variance is fixed at 0
  (``lav_partable_flat``: ``lv.formative`` variances), so the RAM model sees ``f ~ x`` rows.
"""

from __future__ import annotations

import inspect

import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.syntax import table as syntax

PARTABLE_OPTIONS = tuple(
    name for name in inspect.signature(syntax._options).parameters
    if name not in ("ngroups", "group_labels", "orthogonal_efa")  # orthogonal_efa: from rotation_args
) + ("rotation", "rotation_se", "rotation_args")  # efa() blocks (survey.sem.efa.rotated)


def check_partable_options(options: dict) -> None:
    """Raise for an option name lavaanify does not know (the message lists the available ones)."""
    unknown = sorted(set(options) - set(PARTABLE_OPTIONS))
    if unknown:
        raise SurveyInputError(
            f"unknown option {unknown[0]!r} (available: {', '.join(PARTABLE_OPTIONS)})",
            field="options",
            value=unknown[0],
        )


def check_estimable(partable: pd.DataFrame, ordinal: bool = False) -> None:
    """Refuse explicit constraint rows the current optimiser does not impose."""
    rows = partable[partable["op"].isin(["==", "<", ">"])]
    if len(rows) and ordinal:
        r = rows.iloc[0]
        raise SurveyInputError(f"the constraint '{r.lhs} {r.op} {r.rhs}' with ordered items is not available "
                               "yet (available: equal labels and 'label1 == label2' between free parameters)",
                               field="model")
    if len(rows):
        r = rows.iloc[0]
        raise SurveyInputError(
            f"the constraint '{r.lhs} {r.op} {r.rhs}' cannot be imposed with sampling weights, clusters or "
            "in power simulations yet (available: every se= incl. the bootstrap with ML, MLR, MLM; there: "
            "equal labels and 'label1 == label2' between free parameters)",
            field="model",
        )


def ram_table(partable: pd.DataFrame) -> pd.DataFrame:
    """The table the RAM model is built from: ``<~`` rows as regressions of the composite (same rows)."""
    if not (partable["op"] == "<~").any():
        return partable
    out = partable.copy()
    out.loc[out["op"] == "<~", "op"] = "~"
    return out


def check_path(model: str, *, group: str | None, missing: str, plain_ml: bool = False,
               ordinal: bool = False, weighted: bool = False, resampling: bool = False) -> None:
    """Refuse syntax features the chosen current estimation path would ignore (never silently wrong):
    per-group vectors need ``group=``; ``weighted``: sampling weights and/or clusters without resampling,
    with which lower()/upper() bounds are imposed as without (lavaan 0.6.14 fits them); ``resampling``: a
    bootstrap, whose replicates impose the bounds as lavaan's (:mod:`survey.sem.bootstrap_bounds`)."""
    formulas = syntax.parse_syntax(model)
    multi = [f for f in formulas for v in (f.mod.label, f.mod.fixed, f.mod.start) if v and len(v) > 1]
    if multi and group is None:
        f = multi[0]
        raise SurveyInputError(f"line {f.line}: a vector modifier c(...) on {f.lhs} {f.op} {f.rhs} needs "
                               "one value per group (this is a single-group model)", field="model")
    bounded = [f for f in formulas if f.mod.lower is not None or f.mod.upper is not None]
    if bounded and (ordinal or not (plain_ml or weighted or resampling)):
        # survey.sem.bounded imposes them on the engine's ML/MLR/MLM fits (weights and clusters too) and
        # survey.sem.bootstrap_bounds in bootstrap replicates
        f = bounded[0]
        raise SurveyInputError(f"line {f.line}: lower()/upper() bounds on {f.lhs} {f.op} {f.rhs} are not "
                               "imposed with ordered items yet "
                               "(available: ML/MLR/MLM fits, sampling weights, clusters, the bootstrap, any "
                               "groups, missing='listwise'/'fiml')",
                               field="model")
    if any(f.op == "<~" for f in formulas) and (group is not None or str(missing).lower() in ("fiml", "ml")):
        raise SurveyInputError("composites (<~) are available with single-group listwise ML/MLR/MLM only "
                               "for now", field="model")
    if not plain_ml:  # explicit constraints: single-group listwise ML (survey.sem.constrained)
        check_estimable(syntax.build_partable(formulas, **_group_count(formulas)), ordinal=ordinal)


def _group_count(formulas) -> dict:
    """``ngroups`` for checking a model without data: the length of its c(...) vectors (block syntax:
    the number of its ``group:`` blocks)."""
    if any(f.op == ":" for f in formulas):
        return {}
    lengths = [len(v) for f in formulas for v in (f.mod.label, f.mod.fixed, f.mod.start) if v]
    return {"ngroups": max(lengths, default=1)}


def validate_model_file(path: str) -> str:
    """Read a lavaan model file and check its syntax; an error names the file and the model line."""
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        raise SurveyInputError("model file not found (give a lavaan-syntax file or NAME@VER)", file=path)
    text = file.read_text(encoding="utf-8")
    try:
        from survey.sem.multilevel.syntax import has_levels, level_partable

        if has_levels(text):  # two-level model (survey.sem.multilevel)
            level_partable(text)
            return text
        from survey.sem.syntax.thresholds import split_thresholds

        stripped, specs = split_thresholds(text)  # item | t1: fitted with ordered items (refused otherwise)
        formulas = syntax.parse_syntax(stripped if specs else text)
        syntax.build_partable(formulas, **_group_count(formulas))
    except SurveyInputError as exc:
        raise SurveyInputError(exc.message, file=path, value=exc.value) from None
    return text


def cli_options(pairs: list[str], **flags) -> dict:
    """``survey fit`` flags and ``--option NAME=VALUE`` pairs -> keyword options of :func:`survey.sem.fit`
    (lavaan's dotted names accepted; TRUE/FALSE, numbers and words as values; defaults left out)."""
    out = {k: v for k, v in flags.items() if v and not (k == "information" and v == "expected")}
    for pair in pairs:
        if "=" not in pair:
            raise SurveyInputError("--option needs NAME=VALUE (e.g. auto.fix.first=FALSE)", value=pair,
                                   field="options")
        name, value = (p.strip() for p in pair.split("=", 1))
        name = name.replace(".", "_")
        low = value.lower()
        out[name] = True if low in ("true", "t", "1", "yes") else False if low in ("false", "f", "0", "no") \
            else value
    allowed = set(PARTABLE_OPTIONS) | {"information", "test", "std_ov", "likelihood", "mimic",
                                         "parameterization"}
    unknown = sorted(set(out) - allowed)
    if unknown:
        raise SurveyInputError(f"unknown option {unknown[0]!r} (available: {', '.join(sorted(allowed))})",
                               field="options", value=unknown[0])
    return out
