"""`survey fit`: the command's work, shared by its two front ends.

:mod:`survey.cli` (typer, every command) and :mod:`survey.cli_light` (argparse, the console script's fast
path for ``fit``) both parse the same flags (DESIGN.md, "Command line contract") and call :func:`run_fit`,
so output, exit status and one-line errors are the same whichever parsed them. :data:`FIT_HELP` holds the
help text of every flag for both. Nothing here imports typer, pydantic or a report library; numpy, pandas
and survey.sem are imported when the command runs.
"""

from __future__ import annotations

from typing import Any

FIT_HELP: dict[str, str] = {
    "model": "lavaan-syntax file, or NAME@VER (the instrument's model).",
    "data": "Data file (Qualtrics/plain CSV, .sav, .xlsx).",
    "estimator": "ML, MLR, MLM (or MLF, MLMV, MLMVS); GLS, ULS, DWLS, WLS (continuous least squares, one "
                 "group, complete data); with --ordered: WLSMV (default), "
                 "WLSMVS, WLSM, ULSMV, ULSMVS, ULSM, DWLS, ULS or WLS.",
    "ordered": "Ordered items: 'all' or COL,COL,... (lavaan's ordered=; thresholds + polychorics, WLSMV).",
    "parameterization": "With --ordered: delta (default) or theta (lavaan's parameterization=; without "
                        "ordered items it has no effect, as in lavaan).",
    "missing": "listwise, fiml (lavaan's missing='ml'), ml.x, two.stage or robust.two.stage (EM moments, "
               "two-stage SEs and Satorra-Bentler test); listwise or pairwise with --ordered.",
    "se": "default (the estimator's: standard for ML, robust for MLR/MLM), standard, robust, "
          "robust.huber.white, robust.sem, first.order, bootstrap.",
    "bootstrap": "Bootstrap replicates (implies --se bootstrap).",
    "seed": "Seed of the bootstrap (same seed, same replicates).",
    "scheduler": "Dask scheduler address for the bootstrap (default: env DASK_SCHEDULER_ADDRESS, else local "
                 "processes).",
    "group": "Grouping column: a multi-group model.",
    "weights": "Column of sampling weights (lavaan sampling.weights; rescaled to sum to N; ML then gives "
               "robust SEs and the Yuan-Bentler test).",
    "cluster": "Column of cluster ids (lavaan cluster=: cluster-robust SEs and test, single-level model).",
    "group_equal": "Equal across groups, comma-separated: loadings,intercepts,residuals,residual.covariances,"
                   "lv.variances,lv.covariances,means,regressions.",
    "group_partial": "Exempt from --group-equal, e.g. 'x3~1'.",
    "compare_paths": "Which driver of OUTCOME matters most: equal-paths tests, dominance and relative "
                     "weights, rank intervals.",
    "std_lv": "lavaan std.lv: factor variances fixed to 1.",
    "orthogonal": "lavaan orthogonal: uncorrelated factors.",
    "meanstructure": "lavaan meanstructure: intercepts.",
    "information": "expected or observed information.",
    "test": "lavaan's test=: NAME[,NAME] (standard, satorra.bentler, yuan.bentler, yuan.bentler.mplus, "
            "mean.var.adjusted, scaled.shifted, browne.residual.adf, browne.residual.nt, bollen.stine...); "
            "--json adds \"tests\" (lavInspect(fit, \"test\")).",
    "option": "Any other lavaan option as NAME=VALUE, e.g. auto.fix.first=FALSE, fixed.x=FALSE, "
              "model.type=growth (repeatable).",
    "modindices": "Add lavaan's modification indices (mi >= 3.84, largest first) with epc, sepc.lv, "
                  "sepc.all, sepc.nox.",
    "residuals": "Add lavaan's residuals: raw, cor, cor.bentler, normalized or standardized.",
    "as_json": "Print one JSON object.",
}
FIT_DOC = "Fit a structural equation model (lavaan-equal ML) and print lavaan's summary or JSON."

# errors about a command-line option of `survey fit`, not about the data file
_FIT_OPTION_FIELDS = ("estimator", "missing", "se", "group", "group_equal", "group_partial", "bootstrap",
                      "scheduler", "ordered", "parameterization", "options", "information", "test",
                      "model_type", "fixed_x", "meanstructure")


def as_given(exc: Exception, argv: list[str]) -> str:
    """The error line of ``exc`` naming the data file as the user gave it on the command line.

    The readers name a file by its base name (``raw.csv``), which is also what ingest writes in its
    outputs (``exclusions.csv``'s ``source``); on the command line the error names the argument as
    typed (``exports/raw.csv``), whichever command read it. A base name that several arguments share
    stays as it is."""
    from pathlib import Path

    from survey.errors import SurveyInputError

    line = str(exc)
    name = exc.file if isinstance(exc, SurveyInputError) else None
    if not name or Path(name).name != name or not line.startswith(f"{name}: "):
        return line
    given = {a for a in argv if not a.startswith("-") and a != name and Path(a).name == name}
    return given.pop() + line[len(name):] if len(given) == 1 else line


def fit_data(data: str):
    """Read DATA for ``survey fit`` (any format ingest reads); labelled missing codes declared in the file
    (SPSS user-missing values) become NaN; numeric-looking text columns become numbers, the missing-value
    words of R and pandas (``NA``, ``N/A``, ``null``, ``None``: what ``write.csv`` writes for NA) being
    missing in them, as ``read.csv`` reads them. A file that is not the output of ``survey ingest`` carries
    the not-screened warning (shown after the output; with MODEL as NAME@VER the instrument's validation
    replaces these columns)."""
    import pandas as pd

    from survey.ingest.readers import NA_WORDS, NOT_SCREENED, read_raw, screened

    raw = read_raw(data)
    frame = raw.frame.copy()
    for column, codes in raw.user_missing.items():
        if column in frame.columns and codes:
            frame[column] = frame[column].mask(frame[column].isin(list(codes)))
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            values = frame[column]
            text = values.astype("string").str.strip()
            words = text.str.casefold().isin(NA_WORDS).fillna(False).to_numpy(dtype=bool)
            converted = pd.to_numeric(values.mask(words), errors="coerce")
            if converted.notna().sum() == values.mask(words).notna().sum():
                frame[column] = converted
    frame.attrs["survey_warnings"] = [] if screened(raw) else [NOT_SCREENED]
    return frame


def check_columns(frame, data: str, **options: str | None) -> None:
    """The columns named by ``--group`` / ``--weights`` / ``--cluster`` exist in DATA: otherwise one error
    line naming DATA as typed and a few of its columns (issue 18), before any fitting."""
    from survey.errors import SurveyInputError, available_columns

    what = {"group": ("grouping", "group"), "weights": ("sampling weight", "sampling_weights"),
            "cluster": ("cluster", "cluster")}  # the engine's field names (lavaan's arguments)
    for option, column in options.items():
        if column is not None and column not in frame.columns:
            raise SurveyInputError(f"{what[option][0]} column not found in the data; "
                                   f"{available_columns(frame.columns)}", file=data, column=column,
                                   field=what[option][1])


def fit_model(model: str, frame, data: str):
    """MODEL as lavaan syntax: a file; or NAME@VER or an instrument's YAML file (the instrument's model on
    the columns of DATA present, with labelled missing codes set to NaN and reverse-keyed items recoded by
    survey.measure.reverse_key)."""
    from pathlib import Path

    instrument_file = Path(model).suffix.lower() in (".yaml", ".yml")  # an instrument YAML, as elsewhere
    if not instrument_file and (Path(model).is_file() or "@" not in model):
        from survey.sem.syntax.checks import validate_model_file

        return validate_model_file(model), frame
    from survey.errors import SurveyInputError
    from survey.ingest.analysis import analysis_data
    from survey.instrument import lavaan_model, load_instrument
    from survey.measure import instrument_keys, reverse_key

    inst = load_instrument(model)
    ids = {i.id for i in inst.items}
    checked = analysis_data(data, inst)  # validated as ingest validates: out-of-range codes are errors
    frame = frame.copy()
    frame.attrs["survey_warnings"] = list(checked.warnings)  # printed after the output
    for item in checked.items:
        frame[item] = checked.frame[item].to_numpy()
    for item in inst.items:
        codes = list((getattr(inst.scale_of(item.id), "missing", None) or {}).keys())
        if item.id in frame.columns and codes:
            frame[item.id] = frame[item.id].mask(frame[item.id].isin(codes))
    keys, bounds = instrument_keys(inst)
    frame = reverse_key(frame, {k: v for k, v in keys.items() if k in frame.columns}, bounds)
    try:
        syntax = lavaan_model(inst, items=[c for c in frame.columns if c in ids])
    except SurveyInputError as exc:  # the data lack the instrument's items: name the data file
        raise SurveyInputError(f"{exc.message} (the data do not carry {inst.spec}'s items)",
                               file=data, field=exc.field, value=exc.value) from None
    return syntax, frame


def test_option(text: str, options: dict):
    """``--test NAME[,NAME]`` -> survey.fit's ``test=`` (one name: a string; several: lavaan's list);
    refused beside ``--option test=...`` (one test option)."""
    from survey.errors import SurveyInputError

    if "test" in options:
        raise SurveyInputError("give the test once: --test or --option test=..., not both", field="test",
                               value=text)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise SurveyInputError("--test needs NAME[,NAME] (e.g. satorra.bentler)", field="test", value=text)
    return names[0] if len(names) == 1 else names


def json_tests(tests: dict) -> dict:
    """result.tests() as JSON (NaN -> null, numpy scalars and arrays -> numbers and lists)."""
    from survey.sem.results.views import clean

    def value(v):
        if getattr(v, "ndim", 0) or isinstance(v, (list, tuple)):
            return [clean(x) for x in list(v)]
        return clean(v)

    return {name: {k: value(v) for k, v in entry.items()} for name, entry in tests.items()}


def print_data_warnings(frame) -> None:
    """The analysis data's warnings (e.g. not screened), on stderr after the command's output."""
    import sys

    for line in frame.attrs.get("survey_warnings", []):
        print(f"warning: {line}", file=sys.stderr)


def run_fit(model: str, data: str, estimator: str | None = None, ordered: str | None = None,
            missing: str = "listwise", se: str = "default", bootstrap: int | None = None,
            seed: int | None = None, scheduler: str | None = None, group: str | None = None,
            weights: str | None = None, cluster: str | None = None, group_equal: str = "",
            group_partial: str = "", compare_paths: str | None = None, std_lv: bool = False,
            orthogonal: bool = False, meanstructure: bool = False, information: str = "expected",
            option: list[str] | None = None, modindices: bool = False, residuals: str | None = None,
            as_json: bool = False, test: str | None = None, parameterization: str | None = None) -> None:
    """Fit MODEL to DATA and print lavaan's summary (or the JSON of DESIGN.md) on stdout; the data's
    warnings follow on stderr. Bad input raises :class:`survey.errors.SurveyInputError` naming the model
    file, the data file or the option."""
    import json

    from survey.errors import EstimationError, SurveyInputError
    from survey.sem import fit

    frame = fit_data(data)
    syntax, frame = fit_model(model, frame, data)
    check_columns(frame, data, group=group, weights=weights, cluster=cluster)
    if as_json:  # no bootstrap progress bar under --json
        import os

        os.environ["SURVEY_PROGRESS"] = "0"
    boot: dict[str, Any] = {"bootstrap": bootstrap, "seed": seed, "scheduler": scheduler} \
        if (bootstrap or se == "bootstrap") else {}
    from survey.sem.syntax.checks import cli_options

    lavaan_options = cli_options(list(option or []), std_lv=std_lv, orthogonal=orthogonal,
                                 meanstructure=meanstructure, information=information)
    if test is not None:
        lavaan_options["test"] = test_option(test, lavaan_options)
    if parameterization is not None:  # lavaan's parameterization= (sem.no_effect.check_parameterization)
        if "parameterization" in lavaan_options:
            raise SurveyInputError("give the parameterization once: --parameterization or --option "
                                   "parameterization=..., not both", field="parameterization",
                                   value=parameterization)
        lavaan_options["parameterization"] = parameterization
    try:
        result = fit(syntax, frame, estimator=estimator, missing=missing, se=se, group=group, **boot,
                     **({"group_equal": group_equal, "group_partial": group_partial} if group else {}),
                     **lavaan_options,
                     **({"sampling_weights": weights} if weights else {}),
                     **({"cluster": cluster} if cluster else {}),
                     **({"ordered": "all" if ordered.strip() == "all" else
                         [c.strip() for c in ordered.split(",") if c.strip()]} if ordered else {}))
    except SurveyInputError as exc:
        if exc.file is not None or exc.field in _FIT_OPTION_FIELDS:
            raise
        if exc.field == "model":  # a model the estimator refuses: name the model file, not the data
            raise SurveyInputError(exc.message, file=model, value=exc.value) from None
        raise SurveyInputError(exc.message, file=data, row=exc.row, column=exc.column, value=exc.value,
                               field=exc.field) from None
    except EstimationError as exc:  # the data cannot be fitted: name the data file
        raise EstimationError(f"{data}: {exc}") from None
    comparison = None
    if compare_paths:  # rank intervals: bootstrap replicates with --se bootstrap, else Monte Carlo draws
        from survey.sem.compare_fitted import compare_paths_fitted

        comparison = compare_paths_fitted(result, compare_paths, data=None if ordered else frame, seed=seed)
    extra = {}
    if modindices or residuals:  # lavaan's modindices() / residuals(): survey.sem.fit_report
        from survey.sem.fit_report import extra_tables

        extra = extra_tables(result, modindices=modindices, residuals=residuals)
    if as_json:
        out = result.to_dict()
        if comparison is not None:
            out["path_comparison"] = comparison.to_dict()
        if test is not None:  # lavaan's lavInspect(fit, "test"): one entry per test, as result.tests()
            out["tests"] = json_tests(result.tests())
        out.update({k: v["json"] for k, v in extra.items()})
        print(json.dumps(out, ensure_ascii=False, allow_nan=False))
    else:
        print(result.summary())
        if comparison is not None:
            print("\n" + comparison.summary())
        for part in extra.values():
            print(part["text"])
    print_data_warnings(frame)
