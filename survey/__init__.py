"""survey: why people follow creators on short-video platforms.

One sub-package per pipeline stage, data flowing one way:
instrument -> ingest -> quality -> measure -> sem -> report.
"""

from __future__ import annotations

from survey.errors import EstimationError, SurveyError, SurveyInputError, SurveyWarning

__all__ = ["EstimationError", "SurveyError", "SurveyInputError", "SurveyWarning", "__version__", "cfa", "fit",
           "growth"]


def __getattr__(name: str):
    """Lazy attributes (PEP 562): ``survey.fit`` -> ``survey.sem.fit`` and ``__version__``, so that
    ``import survey`` stays light."""
    if name == "fit":
        from survey.sem import fit

        return fit
    if name == "__version__":  # importlib.metadata costs a tenth of a second: only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("follow-drivers")
        except PackageNotFoundError:  # running from a source tree that is not installed
            return "0.0.0+source"
    if name == "sem":  # the subpackage, callable as lavaan's sem()
        import survey.sem

        return survey.sem
    if name in ("cfa", "growth"):  # lavaan's cfa()/growth() defaults; survey.sem(...) is callable itself
        from survey.sem import wrappers

        return getattr(wrappers, name)
    raise AttributeError(f"module 'survey' has no attribute {name!r}")
