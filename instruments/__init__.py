"""Versioned questionnaires, shipped inside the package as ``survey._instruments`` (package data).

Layout: ``<name>/<semver>.yaml`` plus ``<name>/CHANGELOG.md``. Load them with
``survey.instrument.load_instrument("name@version")``.
"""
