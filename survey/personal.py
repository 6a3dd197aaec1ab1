"""Personal data typed into answer fields, masked wherever a value is shown (errors, problem lists).

Values that look like an e-mail address, an IPv4/IPv6 address or a phone number (7 to 15 digits, E.164,
with the usual separators) are replaced by a marker (``<e-mail>``, ``<IP address>``, ``<phone number>``),
so that an error line or ``problems.csv`` never repeats them. Used by :mod:`survey.errors` (every
:class:`~survey.errors.SurveyInputError` value) and :mod:`survey.ingest.safe`; imports nothing of the
package.
"""

from __future__ import annotations

import re

__all__ = ["mask_personal"]

# an e-mail address ends in a top-level domain of letters: "follow-drivers@1.1.0" (NAME@VER) is not one
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_IPV6 = re.compile(
    r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){0,6}"
)
# a phone number: 7 to 15 digits (E.164), optionally with a leading + and the usual separators
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DECIMAL = re.compile(r"^\d+\.\d+$")  # 3.14159265: a number with a decimal point, not a phone number
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().\-/]{5,}\d(?![\w.])")


def mask_personal(text: str) -> str:
    """Replace what looks like an e-mail address, IP address or phone number by a marker (``<e-mail>``)."""
    text = _EMAIL.sub("<e-mail>", text)
    text = _IPV4.sub("<IP address>", text)
    text = _IPV6.sub("<IP address>", text)

    def phone(m: re.Match[str]) -> str:
        found = m.group(0)
        if _DATE.match(found.strip()) or _DECIMAL.match(found.strip()):
            return found
        digits = sum(ch.isdigit() for ch in found)
        marked = found.startswith(("+", "(")) or any(ch in found for ch in " -/().")
        return "<phone number>" if (7 <= digits <= 15 and marked) or 10 <= digits <= 15 else found

    return _PHONE.sub(phone, text)
