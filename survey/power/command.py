"""``survey power``: the command's logic (the CLI function in survey/cli.py only forwards its options).

Three forms (DESIGN.md):

* ``survey power --rmsea0 .05 --rmsea1 .08 --df DF [--n N] [--power .8]``: analytic RMSEA power and N;
* ``survey power MODEL --population POP.json --analytic``: Wald and Satorra-Saris power of every
  regression path (or ``--hypotheses``) at each ``--n`` and the N for the target;
* ``survey power MODEL --population POP.json --n 200,400 --replications R``: Monte Carlo power
  (MODEL = NAME@VER: the study's population from survey.simulate; ``--pipeline``: raw exports at the
  planned rates, screened, FIML); ``--search``: the smallest N per hypothesis by bisection.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path
from typing import Any

from survey.errors import SurveyInputError
from survey.power.replicate import InvarianceTest, PathPair, PowerSpec


def parse_ints(text: str | None, name: str) -> list[int]:
    if not text:
        return []
    try:
        values = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise SurveyInputError("expected comma-separated whole numbers", field=name, value=text) from None
    if any(v < 2 for v in values):
        raise SurveyInputError("sample sizes must be at least 2", field=name, value=text)
    return values


def parse_floats(text: str | None, name: str) -> list[float]:
    try:
        return [float(v) for v in str(text).split(",") if v.strip()] if text else []
    except ValueError:
        raise SurveyInputError("expected comma-separated numbers", field=name, value=text) from None


def rmsea_command(rmsea0: float, rmsea1: float, df: float, n: list[int], power: float, alpha: float,
                  groups: int) -> dict[str, Any]:
    """``{"power", "n_required"}`` (DESIGN.md), power a number (one n) or a list (several)."""
    from survey.power.analytic import rmsea_power, rmsea_sample_size

    out: dict[str, Any] = {"rmsea0": rmsea0, "rmsea1": rmsea1, "df": df, "alpha": alpha, "groups": groups,
                           "target": power}
    if n:
        values = [float(rmsea_power(rmsea0, rmsea1, df, v, alpha, groups)) for v in n]
        out["n"] = n if len(n) > 1 else n[0]
        out["power"] = values if len(n) > 1 else values[0]
    else:
        out["power"] = None
    req = rmsea_sample_size(rmsea0, rmsea1, df, power, alpha, groups)
    out["n_required"] = int(req) if float(req).is_integer() else req
    out["test"] = "close fit" if rmsea0 < rmsea1 else "not-close fit"
    return out


def load_source(model: str, population: str | None, pipeline: bool, rates: dict[str, float | None]):
    """(source, analysis syntax) for MODEL (a lavaan file or NAME@VER) and --population."""
    if "@" in model and not Path(model).is_file():
        from survey.power.pipeline import PipelineSource
        from survey.power.study import StudyPopulation

        _ = StudyPopulation(model).items  # a bad NAME@VER fails here, with the instrument's own message
        if population:
            raise SurveyInputError("with MODEL = NAME@VER the population is the instrument's "
                                   "(survey.simulate); leave out --population", field="population")
        source = PipelineSource(model, **rates) if pipeline else StudyPopulation(model)
        return source, source.model
    if pipeline:
        raise SurveyInputError("--pipeline simulates the instrument's raw exports: give MODEL as NAME@VER",
                               field="pipeline")
    path = Path(model)
    if not path.is_file():
        raise SurveyInputError("model file not found", file=model)
    syntax = path.read_text(encoding="utf-8")
    if not population:
        raise SurveyInputError("a lavaan-syntax model needs --population POP.json", field="population")
    from survey.power.population import Population

    return Population.from_json(syntax, population), syntax


def path_pairs(source: Any, outcome: str) -> tuple[PathPair, ...]:
    """Every pair of paths into ``outcome``, ordered so that the first has the larger population value
    (the names read "larger minus smaller": ``FOL~EMO-FOL~CON`` is EMO > CON)."""
    truth = source.truth
    preds = [k.split("~", 1)[1] for k in truth if k.startswith(f"{outcome}~") and "~~" not in k
             and "=~" not in k]
    if len(preds) < 2:
        raise SurveyInputError("needs at least two paths into the outcome", field="compare-paths",
                               value=outcome)
    pairs = []
    for a, b in combinations(preds, 2):
        pair = PathPair(outcome, a, b)
        from survey.power.montecarlo import pair_truth

        try:
            value = pair_truth(truth, pair)
        except KeyError:
            pair = PathPair(outcome, a, b, scale="raw")
            value = pair_truth(truth, pair)
        pairs.append(pair if value >= 0 else PathPair(outcome, b, a, pair.scale))
    return tuple(pairs)


def parse_invariance(text: str | None, proportions: str | None, planted_group: int, test: str
                     ) -> InvarianceTest | None:
    if not text:
        return None
    if ":" not in text:
        raise SurveyInputError("write PARAMETER:SHIFT, e.g. 'x2~1:0.3'", field="invariance", value=text)
    param, shift = text.rsplit(":", 1)
    try:
        value = float(shift)
    except ValueError:
        raise SurveyInputError("the shift must be a number", field="invariance", value=text) from None
    props = tuple(parse_floats(proportions, "groups")) or (0.5, 0.5)
    if len(props) < 2 or any(p <= 0 for p in props):
        raise SurveyInputError("at least two positive group proportions", field="groups", value=proportions)
    if not 1 <= planted_group <= len(props):
        raise SurveyInputError("the planted group must be one of the groups", field="planted-group",
                               value=planted_group)
    return InvarianceTest(param.replace(" ", ""), value, props, planted_group, test)


def default_hypotheses(spec: PowerSpec) -> list[str]:
    """Regression paths, compared pairs and the invariance test (the study's H1-H7 and EMO > CON)."""
    names = [k for k in spec.source.truth if "~" in k and "~~" not in k and "=~" not in k]
    names += [p.name for p in spec.pairs]
    if spec.invariance is not None:
        names.append(spec.invariance.name)
    return names


def analytic_command(source: Any, n: list[int], hypotheses: list[str], target: float, alpha: float,
                     fit_options: dict[str, Any], pairs: tuple[PathPair, ...]) -> dict[str, Any]:
    """Wald and Satorra-Saris power of each parameter at each n, and the N for the target power."""
    from survey.power.analytic import difference_power, parameter_power

    out: dict[str, Any] = {"n": n, "alpha": alpha, "target": target, "power": {}, "satorra_saris": {},
                           "n_required": {}, "n_required_satorra_saris": {}}
    by_name = {p.name: p for p in pairs}
    for name in hypotheses:
        if name in by_name:
            pp = difference_power(source, by_name[name], alpha, fit_options)
        else:
            pp = parameter_power(source, name, alpha, fit_options)
        out["power"][name] = [float(v) for v in pp.wald(n)] if n else []
        out["n_required"][name] = pp.n_required(target, "wald")
        if name not in by_name:
            out["satorra_saris"][name] = [float(v) for v in pp.satorra_saris(n)] if n else []
            out["n_required_satorra_saris"][name] = pp.n_required(target, "satorra_saris")
    return out


def write_outputs(result: Any, design: dict[str, Any], hypotheses: list[str], figure: str | None,
                  report: str | None) -> list[str]:
    """The power-curve figure (STEM.png, STEM.svg) and the Markdown/HTML report, written last."""
    written: list[str] = []
    fig_name = None
    if figure:
        from survey.power.figure import power_curve, write_figure

        xlabel = "N fielded (raw exports, before screening)" if "n_analytic" in result.table.columns \
            else "N (sample size)"
        fig = power_curve(result.table, hypotheses, result.target, result.n_required, xlabel=xlabel)
        paths = write_figure(fig, Path(figure).with_suffix(""))
        written += [str(p) for p in paths]
        fig_name = paths[0].name if report and Path(report).parent == paths[0].parent else str(paths[0])
    if report:
        from survey.power.report import to_html, to_markdown

        text = (to_html if report.lower().endswith((".html", ".htm")) else to_markdown)(
            result, design, hypotheses, fig_name)
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(report).with_name(f".{Path(report).name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, report)
        written.append(report)
    return written
