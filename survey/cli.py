"""The `survey` command. The contract is in DESIGN.md ("Command line contract").

Each command is a thin wrapper over the public API of its stage. Bad input raises
:class:`survey.errors.SurveyInputError`; :func:`main` prints its one line on stderr and exits with 2,
without a traceback. Commands write their outputs only after everything has been computed, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import sys

import typer

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


def fail(message: str) -> None:
    """Print one line on stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


# ---------------------------------------------------------------- instrument commands


# ---------------------------------------------------------------- simulate


# ---------------------------------------------------------------- ingest and quality


# ---------------------------------------------------------------- reliability


# ---------------------------------------------------------------- fit and invariance


# ---------------------------------------------------------------- paper


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: one-line errors, exit status 2 for bad input."""
    try:
        app(args=argv, standalone_mode=True)
    except SurveyError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        name = getattr(exc, "filename", None) or ""
        typer.echo(f"error: {name}: {exc.strerror or exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
