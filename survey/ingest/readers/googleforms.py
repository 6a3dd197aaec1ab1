"""Google Forms responses (the form's "Download responses (.csv)", or its linked sheet as CSV).

One header row: ``Timestamp`` (the submission time, in the form owner's locale and time zone), then
``Email address`` when the form collects e-mail addresses (personal data: dropped and logged), then
one column per question headed by the question's title as typed in the form; a multiple-choice grid
or checkbox grid gives one column per row, headed ``Title [Row]``. Quizzes add ``Score``. There is
no respondent id. Cells hold the choice's text ("Strongly agree"; a linear scale its number), a
checkbox question its choices joined by ``;``.

The layout is recognised by the first heading (``Timestamp`` or its translation in the languages
Google Forms exports in). Each column's question text is the grid row when there is one, else the
title; :func:`survey.ingest.columns.map_columns` matches it against the instrument's item texts
(whitespace and case ignored, nothing else guessed).
"""

from __future__ import annotations

import re

#: The first heading in the export languages: en, de, fr, es, pt, it, nl, pl, sv, da
TIMESTAMPS = {
    "Timestamp", "Zeitstempel", "Horodateur", "Marca temporal", "Carimbo de data/hora",
    "Informazioni cronologiche", "Tijdstempel", "Sygnatura czasowa", "Tidstämpel", "Tidsstempel",
}
#: The e-mail heading (collected e-mail addresses) in the same languages: personal data
EMAILS = {
    "Email address", "Email Address", "E-Mail-Adresse", "Adresse e-mail", "Dirección de correo electrónico",
    "Endereço de e-mail", "Indirizzo email", "E-mailadres", "Adres e-mail", "E-postadress", "E-mailadresse",
    "Username", "Nom d'utilisateur", "Nutzername",
}
META = TIMESTAMPS | {"Score", "Total score", "Punkte", "Punktzahl", "Puntuación", "Pontuação",
                     "Punteggio"}
PII = EMAILS
_GRID = re.compile(r"^(?P<title>.*\S)\s*\[(?P<row>[^\[\]]+)\]$", re.DOTALL)


def detect(header: list[str]) -> dict | None:
    names = [h.strip() for h in header]
    if not names or names[0] not in TIMESTAMPS:
        return None
    return {
        "format": "googleforms",
        "names": names,
        "skip": 1,
        "import_ids": {},
        "question_text": {n: statement(n) for n in names[1:] if n not in META and n not in PII},
    }


def statement(heading: str) -> str:
    """The statement a heading asks about: the grid row of ``Title [Row]``, else the heading."""
    m = _GRID.match(heading)
    return m.group("row").strip() if m else heading
