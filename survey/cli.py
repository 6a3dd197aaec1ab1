"""The `survey` command. The contract is in DESIGN.md ("Command line contract").

Each command is a thin wrapper over the public API of its stage. Bad input raises
:class:`survey.errors.SurveyInputError`; :func:`main` prints its one line on stderr and exits with 2,
without a traceback. Commands write their outputs only after everything has been computed, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import sys

import typer

from survey.cli_fit import FIT_DOC, FIT_HELP, check_columns, run_fit
from survey.cli_fit import fit_data as _fit_data  # the work of `survey fit` (shared with survey.cli_light)
from survey.cli_fit import fit_model as _fit_model
from survey.errors import SurveyError

app = typer.Typer(
    name="survey",
    help="Survey toolkit: instruments, ingestion, data quality, psychometrics, SEM and the paper.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
instrument_app = typer.Typer(help="Versioned questionnaires: list, show, validate, diff, export.",
                             no_args_is_help=True)
app.add_typer(instrument_app, name="instrument")


def _version(value: bool) -> None:
    if value:
        from survey import __version__

        typer.echo(f"survey {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Survey toolkit: instruments, ingestion, data quality, psychometrics, SEM and the paper."""


def fail(message: str) -> None:
    """Print one line on stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


# ---------------------------------------------------------------- instrument commands


@instrument_app.command("list")
def instrument_list() -> None:
    """List the available instruments (name@version)."""
    from survey.instrument import list_instruments

    for spec in list_instruments():
        typer.echo(spec)


@instrument_app.command("show")
def instrument_show(
    spec: str = typer.Argument(..., help="NAME@VER or a YAML file."),
    lavaan: bool = typer.Option(False, "--lavaan", help="Print the generated lavaan model instead."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show an instrument: constructs, items, scales, hypotheses (or its lavaan model)."""
    import json

    from survey.instrument import lavaan_model, load_instrument

    inst = load_instrument(spec)
    if as_json:
        payload = inst.to_dict()
        if lavaan:
            payload["lavaan"] = lavaan_model(inst)
        typer.echo(json.dumps(payload, ensure_ascii=False))
    elif lavaan:
        typer.echo(lavaan_model(inst), nl=False)
    else:
        typer.echo(inst.summary())


@instrument_app.command("validate")
def instrument_validate(file: str = typer.Argument(..., help="Instrument YAML file (or NAME@VER).")) -> None:
    """Validate an instrument file: prints 'FILE: valid' and any warnings; exit 2 when invalid."""
    from survey.instrument import load_instrument

    inst = load_instrument(file)
    typer.echo(f"{file}: valid")
    for warning in inst.warnings:
        typer.echo(f"warning: {warning.message}")


@instrument_app.command("diff")
def instrument_diff(
    a: str = typer.Argument(..., help="Older instrument, NAME@VER or file."),
    b: str = typer.Argument(..., help="Newer instrument, NAME@VER or file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Items added, removed, reworded or re-keyed, and per construct whether scores stay comparable."""
    import json

    from survey.instrument.diff import diff_instruments

    result = diff_instruments(a, b)
    typer.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else result.summary())


@instrument_app.command("export")
def instrument_export(
    spec: str = typer.Argument(..., help="NAME@VER or a YAML file."),
    to: str = typer.Option(..., "--to", help="xlsform, codebook or datapackage."),
    out: str = typer.Option(..., "--out", help="Output file (written atomically)."),
) -> None:
    """Export an instrument as an XLSForm workbook, a Markdown codebook or a Frictionless Data Package."""
    import json

    from survey.instrument import load_instrument
    from survey.instrument.export import to_codebook, to_datapackage, to_xlsform, write_atomic

    formats = ("xlsform", "codebook", "datapackage")
    if to not in formats:
        fail(f"--to: unknown format {to!r}; choose one of {', '.join(formats)}")
    inst = load_instrument(spec)
    if to == "xlsform":
        path = to_xlsform(inst, out)
    elif to == "codebook":
        path = write_atomic(out, to_codebook(inst))
    else:
        path = write_atomic(out, json.dumps(to_datapackage(inst), indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {path}")


# ---------------------------------------------------------------- simulate


@app.command("simulate")
def simulate_command(
    n: str = typer.Option(None, "--n", help="Number of raw rows (respondents, previews and duplicates)."),
    seed: str = typer.Option(None, "--seed", help="Random seed (integer); same seed, same bytes."),
    instrument: str = typer.Option("follow-drivers@1.1.0", "--instrument", help="NAME@VER or a YAML file."),
    fmt: str = typer.Option(None, "--format", help="qualtrics (default; sav for *.sav) | csv | sav."),
    choice_text: bool = typer.Option(False, "--choice-text", help="Write choice labels instead of codes."),
    out: str = typer.Option(None, "--out", help="Output file; FILE.truth.json is written beside it."),
    describe: bool = typer.Option(False, "--describe", help="Print the population model (truth) and exit."),
) -> None:
    """Simulate a raw survey export with known truth (and FILE.truth.json), or --describe the population."""
    from pathlib import Path

    from survey.simulate import DEFAULT_POPULATION, FORMATS, write_simulation

    if describe:
        typer.echo(DEFAULT_POPULATION.describe())
        return
    if n is None or seed is None or out is None:
        fail("simulate needs --n N --seed S --out FILE (or --describe)")
    try:
        n_rows = int(n)
    except ValueError:
        n_rows = 0
    if n_rows < 10 or n_rows > 1_000_000:
        fail(f"--n must be an integer from 10 to 1000000, got {n!r}")
    try:
        seed_value = int(seed)
    except ValueError:
        seed_value = -1
    if seed_value < 0:
        fail(f"--seed must be a non-negative integer, got {seed!r}")
    if fmt is None:
        fmt = "sav" if str(out).lower().endswith(".sav") else "qualtrics"
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if Path(out).is_dir():
        fail(f"--out {out!r} is a directory")
    path, truth = write_simulation(out, n_rows, seed_value, instrument, fmt, choice_text)
    typer.echo(f"wrote {path} and {truth}")


# ---------------------------------------------------------------- ingest and quality


@app.command("ingest")
def ingest_command(
    raw: list[str] = typer.Argument(..., help="Raw export file(s)."),
    instrument: str = typer.Option(..., "--instrument", help="NAME@VER (or one per file)."),
    out: str = typer.Option(..., "--out", help="Output directory."),
    lenient: bool = typer.Option(False, "--lenient", help="Unfixable cells become missing."),
    keep_pii: str = typer.Option("", "--keep-pii", help="PII columns to keep, hashed."),
    salt: str | None = typer.Option(None, "--salt", help="Per-project salt for hashed personal data."),
) -> None:
    """Validate, de-identify, harmonise and screen raw exports into an analytic data set."""
    from pathlib import Path

    from survey.quality import prepare

    if Path(out).exists() and not Path(out).is_dir():
        fail(f"{out}: --out names an existing file, not a folder")
    specs = [s.strip() for s in instrument.split(",") if s.strip()]
    if len(specs) not in (1, len(raw)):
        fail("--instrument: give one NAME@VER, or one per RAW file")
    sources = [(r, specs[0] if len(specs) == 1 else specs[i]) for i, r in enumerate(raw)]
    result = prepare(sources, keep_pii=[c for c in keep_pii.split(",") if c], salt=salt, lenient=lenient,
                    problems_path=Path(out) / "problems.csv")
    result.write(out)
    r = result.report
    typer.echo(f"{r['n_raw']} raw, {r['n_excluded']} excluded, {r['n_analytic']} analytic -> {out}")


@app.command("quality")
def quality_command(
    data: str = typer.Argument(..., help="Data file (any format ingest reads)."),
    items: str | None = typer.Option(None, "--items", help="Comma-separated item columns, in order."),
    instrument: str | None = typer.Option(None, "--instrument", help="NAME@VER: its Likert items, scales."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Careless-responding indices per respondent (longstring, irv, mahad, evenodd, psychsyn) and flags."""
    import json

    from survey.errors import SurveyWarning
    from survey.ingest.analysis import analysis_data, numeric_columns
    from survey.quality import design_from_instrument, design_from_items, quality_report

    if (items is None) == (instrument is None):
        fail("give exactly one of --items COLS and --instrument NAME@VER")
    if instrument is not None:  # validated as ingest validates: an out-of-range code is an error
        checked = analysis_data(data, instrument)
        design = design_from_instrument(checked.instrument, checked.items)
    else:
        cols = [c.strip() for c in str(items).split(",") if c.strip()]
        if not cols:
            fail(f"--items names no column (give COL,COL,... of {data})")
        checked = numeric_columns(data, cols)
        design = design_from_items(cols)
    report = quality_report(checked.frame, design)
    report.warnings += [SurveyWarning("not_screened", w, "quality") for w in checked.warnings]
    if as_json:
        typer.echo(json.dumps(report.to_dict(), allow_nan=False))
    else:  # the JSON's warnings, on stderr after the output, as `survey fit` prints them
        typer.echo(report.summary())
        for warning in report.warnings:
            typer.echo(f"warning: {warning.message}", err=True)


@app.command("weights")
def weights_command(
    data: str = typer.Argument(..., help="Data file (any format ingest reads), one row per respondent."),
    margins: str = typer.Option(..., "--margins", help="MARGINS.yaml: COLUMN: {category: proportion}."),
    out: str = typer.Option(..., "--out", help="W.csv: the rows in order, the id column, `weight` (mean 1)."),
    id_column: str | None = typer.Option(None, "--id", help="Id column to keep (default: respondent_id, "
                                         "ResponseId, _uuid, id or ID when present)."),
    base: str | None = typer.Option(None, "--base-weights", help="Column of design weights to start from."),
    trim_lower: float | None = typer.Option(None, "--trim-lower", help="Trim weights below (mean-1 scale)."),
    trim_upper: float | None = typer.Option(None, "--trim-upper", help="Trim weights above (mean-1 scale)."),
    strict_trim: bool = typer.Option(False, "--strict-trim", help="Repeat trimming until none is outside."),
    maxit: int = typer.Option(100, "--maxit", help="Maximum raking sweeps."),
    epsilon: float = typer.Option(1e-10, "--epsilon", help="Convergence: change of cell totals / N."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Raking weights to population margins (survey::rake), Kish design effect and effective N."""
    import json

    from survey.quality.weights import rake_file

    result = rake_file(data, margins, base_weights=base, maxit=maxit, epsilon=epsilon, trim_lower=trim_lower,
                       trim_upper=trim_upper, strict_trim=strict_trim, id_column=id_column)
    result.write(out)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    else:
        typer.echo(result.summary())
        typer.echo(f"wrote {out}")


# ---------------------------------------------------------------- reliability


def _reliability_inputs(model: str, data: str, keys: str | None, instrument: str | None):
    """Read DATA (any format ingest reads), resolve MODEL (file or NAME@VER), keys and scale bounds.

    Labelled missing codes (the instrument's scale ``missing`` codes, SPSS user-missing values) become NaN.
    """
    from pathlib import Path

    import pandas as pd

    from survey.errors import SurveyInputError
    from survey.ingest.analysis import analysis_data
    from survey.ingest.readers import read_raw
    from survey.instrument import lavaan_model, load_instrument
    from survey.measure import instrument_keys, parse_keys

    raw = read_raw(data)
    frame = raw.frame.copy()
    inst = None
    by_name = not Path(model).is_file() and "@" in model
    if by_name or instrument is not None:  # validated against the instrument as ingest validates
        inst = load_instrument(model if by_name else instrument)
        checked = analysis_data(data, inst)
        frame = checked.frame
    if by_name:
        try:
            syntax = lavaan_model(inst, items=checked.items)
        except SurveyInputError as exc:  # too few of a construct's items in the data: name the data
            raise SurveyInputError(f"{exc.message} (in the data)", file=data) from None
    else:
        syntax = Path(model).read_text(encoding="utf-8")
    key_map: dict[str, int] = {}
    bounds = None
    if inst is not None:
        key_map, bounds = instrument_keys(inst)
        for item in inst.items:
            codes = getattr(inst.scale_of(item.id), "missing", None) or {}
            if item.id in frame.columns and codes:
                frame[item.id] = frame[item.id].mask(frame[item.id].isin(list(codes)))
    for column, codes in raw.user_missing.items():
        if column in frame.columns and codes:
            frame[column] = frame[column].mask(frame[column].isin(list(codes)))
    if keys is not None:
        key_map = parse_keys(Path(keys))
        reversed_items = [i for i, k in key_map.items() if k == -1]
        if bounds is None or not all(i in bounds for i in reversed_items):
            bounds = None  # psych's rule: observed min and max of the keyed items
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype).startswith("str"):
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted
    if inst is not None:
        frame.attrs["survey_warnings"] = list(checked.warnings)  # printed after the output
    return syntax, frame, key_map, bounds


def _print_data_warnings(frame) -> None:
    """The analysis data's warnings (e.g. not screened), on stderr after the command's output."""
    for line in frame.attrs.get("survey_warnings", []):
        typer.echo(f"warning: {line}", err=True)


@app.command("reliability")
def reliability_command(
    model: str = typer.Argument(..., help="lavaan-syntax file, or NAME@VER (measurement part of the "
                                "instrument's model)."),
    data: str = typer.Argument(..., help="Data file (Qualtrics/plain CSV, .sav, .xlsx), responses as "
                               "answered."),
    keys: str = typer.Option(None, "--keys", help="Scoring keys file, psych convention ('-ITEM' = reverse "
                             "keyed); default: the instrument's keys."),
    instrument: str = typer.Option(None, "--instrument", help="NAME@VER whose keys, bounds and missing "
                                   "codes apply when MODEL is a file."),
    ordered: str = typer.Option(None, "--ordered", help="'all' or COL,...: the items as ordered (ordinal "
                                "CFA, WLSMV): ordinal alpha (psych on the polychorics), categorical omega "
                                "(semTools compRelSEM), AVE as semTools AVE() and as Fornell-Larcker."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Alpha (Feldt CI), omega, CR, AVE per construct; HTMT and the Fornell-Larcker matrix."""
    import json

    from survey.errors import EstimationError, SurveyInputError
    from survey.measure import reliability_report
    from survey.sem import fit as sem_fit

    syntax, frame, key_map, bounds = _reliability_inputs(model, data, keys, instrument)
    try:
        if ordered:  # survey.sem.ordinal.reliability
            from survey.measure import reverse_key
            from survey.sem.ordinal.reliability import ordinal_reliability_report

            cols = "all" if ordered.strip() == "all" else [c.strip() for c in ordered.split(",") if c.strip()]
            keyed = reverse_key(frame, {k: v for k, v in key_map.items() if k in frame.columns}, bounds) \
                if key_map else frame  # reverse-keyed items recoded, as the continuous report does
            report = ordinal_reliability_report(syntax, keyed, cols, fit=sem_fit)
        else:
            report = reliability_report(syntax, frame, keys=key_map or None, bounds=bounds, fit=sem_fit)
    except SurveyInputError as exc:
        if exc.file is not None:
            raise
        raise SurveyInputError(exc.message, file=data, row=exc.row, column=exc.column, value=exc.value,
                               field=exc.field) from None
    except EstimationError as exc:  # e.g. too few complete cases: name the data file
        raise EstimationError(f"{data}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        typer.echo(report.summary())
    _print_data_warnings(frame)



# ---------------------------------------------------------------- fit and invariance


@app.command("fit", help=FIT_DOC)
def fit_command(
    model: str = typer.Argument(..., help=FIT_HELP["model"]),
    data: str = typer.Argument(..., help=FIT_HELP["data"]),
    estimator: str = typer.Option(None, "--estimator", help=FIT_HELP["estimator"]),
    ordered: str = typer.Option(None, "--ordered", help=FIT_HELP["ordered"]),
    parameterization: str = typer.Option(None, "--parameterization", help=FIT_HELP["parameterization"]),
    missing: str = typer.Option("listwise", "--missing", help=FIT_HELP["missing"]),
    se: str = typer.Option("default", "--se", help=FIT_HELP["se"]),
    bootstrap: int = typer.Option(None, "--bootstrap", help=FIT_HELP["bootstrap"]),
    seed: int = typer.Option(None, "--seed", help=FIT_HELP["seed"]),
    scheduler: str = typer.Option(None, "--scheduler", help=FIT_HELP["scheduler"]),
    group: str = typer.Option(None, "--group", help=FIT_HELP["group"]),
    weights: str = typer.Option(None, "--weights", help=FIT_HELP["weights"]),
    cluster: str = typer.Option(None, "--cluster", help=FIT_HELP["cluster"]),
    group_equal: str = typer.Option("", "--group-equal", help=FIT_HELP["group_equal"]),
    group_partial: str = typer.Option("", "--group-partial", help=FIT_HELP["group_partial"]),
    compare_paths: str = typer.Option(None, "--compare-paths", help=FIT_HELP["compare_paths"]),
    std_lv: bool = typer.Option(False, "--std-lv", help=FIT_HELP["std_lv"]),
    orthogonal: bool = typer.Option(False, "--orthogonal", help=FIT_HELP["orthogonal"]),
    meanstructure: bool = typer.Option(False, "--meanstructure", help=FIT_HELP["meanstructure"]),
    information: str = typer.Option("expected", "--information", help=FIT_HELP["information"]),
    test: str = typer.Option(None, "--test", help=FIT_HELP["test"]),
    option: list[str] = typer.Option([], "--option", help=FIT_HELP["option"]),
    modindices: bool = typer.Option(False, "--modindices", help=FIT_HELP["modindices"]),
    residuals: str = typer.Option(None, "--residuals", help=FIT_HELP["residuals"]),
    as_json: bool = typer.Option(False, "--json", help=FIT_HELP["as_json"]),
) -> None:
    """Fit a structural equation model (lavaan-equal ML) and print lavaan's summary or JSON.

    The console script parses `fit` with argparse (survey.cli_light, same flags); both call run_fit."""
    run_fit(**locals())


# errors about a command-line option, not about the data file
_OPTION_FIELDS = ("estimator", "group", "steps", "criterion", "adjust", "alpha", "missing", "groups",
                  "parameterization")


@app.command("invariance")
def invariance_command(
    model: str = typer.Argument(..., help="lavaan-syntax file, or NAME@VER (the instrument's model)."),
    data: str = typer.Argument(..., help="Data file (Qualtrics/plain CSV, .sav, .xlsx)."),
    group: str = typer.Option(..., "--group", help="Grouping column."),
    estimator: str = typer.Option("ML", "--estimator", help="ML or MLR (robust)."),
    missing: str = typer.Option("listwise", "--missing", help="listwise, fiml (every analytic respondent, "
                                "lavaan's missing='ml'; with --estimator MLR robust FIML), two.stage or "
                                "robust.two.stage (EM moments; scaled tests)."),
    min_group_size: int = typer.Option(None, "--min-group-size",
                                       help="Leave out groups with fewer analytic cases (with a warning)."),
    groups: str = typer.Option(None, "--groups", help="Comma-separated groups to compare, in this order."),
    partial: bool = typer.Option(True, "--partial/--no-partial",
                                 help="Release constraints by the largest score test when a step fails."),
    max_free: int = typer.Option(3, "--max-free", help="At most this many constraints released per step."),
    steps: str = typer.Option("configural,metric,scalar,strict", "--steps",
                              help="Comma-separated steps to run, in order."),
    criterion: str = typer.Option("chen", "--criterion",
                                  help="Global decision: chen (change in fit, Chen 2007), lrt or both."),
    adjust: str = typer.Option("none", "--adjust",
                               help="none, holm or bonferroni: a step also fails while any adjusted "
                                    "univariate score test of its constraints is significant."),
    alpha: float = typer.Option(0.05, "--alpha", help="Level of the likelihood-ratio and score tests."),
    ordered: str = typer.Option(None, "--ordered", help="'all': the items as ordered (WLSMV), steps "
                                "configural,thresholds,loadings (Wu & Estabrook 2016), partial release by "
                                "the largest expected chi-square decrease."),
    parameterization: str = typer.Option(None, "--parameterization", help="With --ordered: delta (default) "
                                         "or theta (lavaan's parameterization=; no effect without "
                                         "--ordered, as in lavaan)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Measurement invariance: configural -> metric -> scalar -> strict, with partial invariance."""
    import json

    from survey.errors import SurveyInputError
    from survey.progress import quiet_for_json
    from survey.sem.invariance import invariance
    from survey.sem.no_effect import check_parameterization

    param = check_parameterization({"parameterization": parameterization or "delta"},
                                   continuous=not ordered).get("parameterization", "delta")
    frame = _fit_data(data)
    syntax, frame = _fit_model(model, frame, data)
    check_columns(frame, data, group=group)
    with quiet_for_json(as_json):  # --json: progress lines only where stderr is a terminal
        try:
            if ordered:
                from survey.sem.ordinal.route import ordinal_invariance_cli

                result = ordinal_invariance_cli(
                    syntax, frame, group, ordered, estimator, missing, steps, partial=partial,
                    max_free=max_free,
                    groups=[g.strip() for g in groups.split(",") if g.strip()] if groups else None,
                    criterion=criterion, adjust=adjust.lower(), min_group_size=min_group_size,
                    parameterization=param)
            else:
                result = invariance(
                    syntax, frame, group, estimator=estimator, partial=partial, max_free=max_free,
                    steps=[s.strip() for s in steps.split(",") if s.strip()], criterion=criterion,
                    adjust=None if adjust.lower() == "none" else adjust.lower(), alpha=alpha, missing=missing,
                    min_group_size=min_group_size,
                    groups=[g.strip() for g in groups.split(",") if g.strip()] if groups else None,
                )
        except SurveyInputError as exc:
            if exc.file is not None or exc.field in _OPTION_FIELDS + ("ordered",):
                raise
            raise SurveyInputError(exc.message, file=data, row=exc.row, column=exc.column, value=exc.value,
                                   field=exc.field) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False))
    else:
        typer.echo(result.summary())


# ---------------------------------------------------------------- power


@app.command("power")
def power_command(
    model: str = typer.Argument(None, help="lavaan-syntax file, or NAME@VER (the study's population from "
                                "survey.simulate); omit for the analytic RMSEA form."),
    population: str = typer.Option(None, "--population", help="POP.json: {\"lhs op rhs\": value} for every "
                                   "parameter (DESIGN.md)."),
    n: str = typer.Option(None, "--n", help="Sample sizes, comma-separated (fielded N with --pipeline)."),
    replications: int = typer.Option(200, "--replications", help="Monte Carlo replications per N."),
    seed: int = typer.Option(20240601, "--seed", help="Seed: replication r at sample size N draws from "
                             "SeedSequence(seed, (N, r))."),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address (default: env "
                                  "DASK_SCHEDULER_ADDRESS, else a LocalCluster)."),
    workers: int = typer.Option(None, "--workers", help="LocalCluster workers (default: CPUs; 1 = no Dask)."),
    estimator: str = typer.Option("ML", "--estimator", help="Estimator of survey.fit (ML, MLR, MLM)."),
    missing: str = typer.Option(None, "--missing", help="listwise or fiml (default: fiml with --pipeline)."),
    mcar: float = typer.Option(0.0, "--mcar", help="Share of answers deleted completely at random in each "
                               "replication (use with --missing fiml)."),
    compare_paths: str = typer.Option(None, "--compare-paths", help="OUTCOME: power of every pairwise "
                                      "difference of its (standardized) paths, e.g. FOL."),
    invariance: str = typer.Option(None, "--invariance", help="PARAMETER:SHIFT planted in one group, e.g. "
                                   "'x2~1:0.3' (the study: 'PEER2~1:0.6', SD of the latent response)."),
    groups: str = typer.Option("0.5,0.5", "--groups", help="Group proportions for --invariance."),
    planted_group: int = typer.Option(2, "--planted-group", help="Group (1-based) with the planted shift."),
    invariance_test: str = typer.Option("intercepts", "--invariance-test",
                                        help="Constraint tested: intercepts or loadings (base: loadings)."),
    pipeline: bool = typer.Option(False, "--pipeline", help="Simulate raw exports, screen them and fit "
                                  "with FIML: power net of exclusions (MODEL = NAME@VER)."),
    careless: float = typer.Option(None, "--careless", help="Planned share of careless rows (--pipeline)."),
    partial: float = typer.Option(None, "--partial", help="Planned share of partial completes (--pipeline)."),
    nonresponse: float = typer.Option(None, "--nonresponse", help="Planned item non-response (--pipeline)."),
    search: bool = typer.Option(False, "--search", help="Smallest N with power >= --target per hypothesis "
                                "(bisection over N with Monte Carlo)."),
    hypotheses: str = typer.Option(None, "--hypotheses", help="Comma-separated hypotheses (default: the "
                                   "regression paths, compared pairs and the invariance test)."),
    target: float = typer.Option(0.80, "--target", help="Target power."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level."),
    analytic: bool = typer.Option(False, "--analytic", help="Wald and Satorra-Saris power instead of "
                                  "Monte Carlo (MODEL and --population)."),
    rmsea0: float = typer.Option(None, "--rmsea0", help="RMSEA under H0 (analytic RMSEA power)."),
    rmsea1: float = typer.Option(None, "--rmsea1", help="RMSEA under H1."),
    df: float = typer.Option(None, "--df", help="Model degrees of freedom (analytic RMSEA power)."),
    n_groups: int = typer.Option(1, "--n-groups", help="Number of groups (analytic RMSEA power)."),
    checkpoint: str = typer.Option(None, "--checkpoint", help="JSON-lines file of finished replications; "
                                   "a rerun resumes from it."),
    figure: str = typer.Option(None, "--figure", help="Power-curve figure: writes STEM.png and STEM.svg."),
    report: str = typer.Option(None, "--report", help="Report file (.md or .html)."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: on a "
                                  "terminal, off with --json)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Power and sample size: analytic RMSEA and parameter power, Monte Carlo power on Dask, N search."""
    options = dict(locals())
    from survey.power.cli import run_power

    out, text = run_power(**options)
    typer.echo(out if as_json else text)


# ---------------------------------------------------------------- paper


@app.command("paper")
def paper_command(
    config: str = typer.Option(None, "--config", help="Study configuration (default: analysis/paper.yaml "
                               "when it exists, else the built-in defaults)."),
    out: str = typer.Option("reports/paper", "--out",
                            help="Output folder (tables, figures, paper, manifest)."),
) -> None:
    """Run every stage on the study's data and write the paper's tables, figures and text, byte for byte."""
    import time
    from pathlib import Path

    from survey.report.cli import run_paper

    start = time.perf_counter()
    if config is None and Path("analysis/paper.yaml").is_file():
        config = "analysis/paper.yaml"
    if config is not None:  # a bad configuration stops here with its one-line error
        from survey.report.config import load_config

        load_config(config)
    if config is None:
        typer.echo("survey paper: no --config given and no analysis/paper.yaml in this folder: using the "
                   "built-in defaults (the embedded demo study); `survey init` writes a configuration for "
                   "your own export", err=True)
    else:
        typer.echo(f"survey paper: configuration {config}", err=True)
    written = run_paper(config, out, start=start)
    typer.echo(f"survey paper: wrote {len(written)} files to {out} in {time.perf_counter() - start:.1f} s",
               err=True)


@app.command("init")
def init_command(
    folder: str = typer.Argument(..., help="Study folder to create (paper.yaml, data/)."),
    data: str = typer.Option(..., "--data", help="Raw export (Qualtrics/plain CSV, .sav, .xlsx)."),
    instrument: str = typer.Option(..., "--instrument", help="NAME@VER or an instrument YAML file."),
    force: bool = typer.Option(False, "--force", help="Replace an existing paper.yaml."),
) -> None:
    """Start your own study: a folder with a commented paper.yaml for your export."""
    from survey.report.study import init_study

    written = init_study(folder, data, instrument, force=force)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: survey paper --config {written[-1]} --out {written[-1].parent / 'paper'}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: one-line errors, exit status 2 for bad input."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        app(args=args, standalone_mode=True)
    except SurveyError as exc:
        from survey.cli_fit import as_given

        typer.echo(f"error: {as_given(exc, args)}", err=True)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        name = getattr(exc, "filename", None) or ""
        typer.echo(f"error: {name}: {exc.strerror or exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
