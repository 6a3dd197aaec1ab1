"""The console script's entry point: ``survey fit`` parsed with argparse, every other command by typer.

Start-up is most of a small fit's time (typer, pydantic and rich alone cost about 0.1 s of CPU), so
:func:`main` parses ``fit`` itself, with the flags, defaults and help text of the typer command
(:data:`survey.cli_fit.FIT_HELP`), and calls the same :func:`survey.cli_fit.run_fit`: same output, same
exit status (0; 2 for bad input or a bad flag), same one-line ``error: ...`` messages. Any other command
(and ``survey`` alone, ``--help``, ``--version``) goes to :func:`survey.cli.main`. tests/test_cli_light.py
holds both front ends to the same options and outputs.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from survey.cli_fit import FIT_DOC, FIT_HELP

__all__ = ["fit_parser", "main"]

USAGE = "survey fit [OPTIONS] MODEL DATA"

# (flag, dest, kind, default): kind "str", "int", "flag" (store_true) or "list" (repeatable)
FIT_FLAGS: tuple[tuple[str, str, str, object], ...] = (
    ("--estimator", "estimator", "str", None),  # None: the default (ML; WLSMV with --ordered)
    ("--ordered", "ordered", "str", None),
    ("--parameterization", "parameterization", "str", None),  # None: lavaan's default (delta)
    ("--missing", "missing", "str", "listwise"),
    ("--se", "se", "str", "default"),
    ("--bootstrap", "bootstrap", "int", None),
    ("--seed", "seed", "int", None),
    ("--scheduler", "scheduler", "str", None),
    ("--group", "group", "str", None),
    ("--weights", "weights", "str", None),
    ("--cluster", "cluster", "str", None),
    ("--group-equal", "group_equal", "str", ""),
    ("--group-partial", "group_partial", "str", ""),
    ("--compare-paths", "compare_paths", "str", None),
    ("--std-lv", "std_lv", "flag", False),
    ("--orthogonal", "orthogonal", "flag", False),
    ("--meanstructure", "meanstructure", "flag", False),
    ("--information", "information", "str", "expected"),
    ("--test", "test", "str", None),
    ("--option", "option", "list", []),
    ("--modindices", "modindices", "flag", False),
    ("--residuals", "residuals", "str", None),
    ("--json", "as_json", "flag", False),
)


class _Parser(argparse.ArgumentParser):
    """argparse with click's way of failing: usage, a hint, the error; exit status 2, nothing on stdout."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"Usage: {USAGE}\nTry 'survey fit --help' for help.\n\nError: {message}\n")
        sys.exit(2)


def fit_parser() -> argparse.ArgumentParser:
    """The parser of ``survey fit``: the typer command's arguments and options, with their help."""
    parser = _Parser(prog="survey fit", usage=USAGE, description=FIT_DOC, allow_abbrev=False,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help=FIT_HELP["model"])
    parser.add_argument("data", metavar="DATA", help=FIT_HELP["data"])
    for flag, dest, kind, default in FIT_FLAGS:
        shown = f" [default: {default}]" if default not in (None, "", False, []) else ""
        help_text = FIT_HELP[dest] + shown
        if kind == "flag":
            parser.add_argument(flag, dest=dest, action="store_true", help=help_text)
        elif kind == "list":
            parser.add_argument(flag, dest=dest, action="append", default=[], metavar="TEXT", help=help_text)
        else:
            parser.add_argument(flag, dest=dest, type=int if kind == "int" else str, default=default,
                                metavar="INTEGER" if kind == "int" else "TEXT", help=help_text)
    return parser


def _startup_imports(*modules: str) -> None:
    """Import ``modules`` (for ``fit``: the readers and the SEM pipeline, with numpy and pandas) with the
    cyclic garbage collector paused, then move what they built out of its reach (:func:`gc.freeze`) and
    resume it.

    The imports create some 10^5 long-lived objects (modules, functions, classes) and hardly any garbage;
    each allocation threshold crossed during them starts a collection that walks every tracked object
    again, about a fifth of the process's CPU on a small fit. Frozen objects are never collected (they
    live until exit anyway); objects the command creates are collected as usual.
    """
    import gc
    import importlib

    gc.disable()
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()


def _fit(argv: list[str]) -> None:
    from survey.cli_fit import run_fit

    options = vars(fit_parser().parse_args(argv))  # a bad flag fails before the heavy imports
    _startup_imports("survey.ingest.readers", "survey.sem")
    run_fit(**options)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; exit status 0, or 2 for bad input with a one-line error."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] != "fit":
        _startup_imports("survey.cli")  # typer, click, rich: their start-up with the collector paused
        from survey.cli import main as full

        full(args)
        return
    from survey.errors import SurveyError

    try:
        _fit(args[1:])
    except SurveyError as exc:
        from survey.cli_fit import as_given

        print(f"error: {as_given(exc, args)}", file=sys.stderr)
        sys.exit(2)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        name = getattr(exc, "filename", None) or ""
        print(f"error: {name}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # stdout closed early (`| head`): as click, quietly, status 1
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except KeyboardInterrupt:  # as click reports it
        print("\nAborted!", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
