"""Pre-trial documentation as a payer reads it: diagnosis and procedure code formats, the NPI check digit.

Pure functions of plain values; the API's schemas and the services call them (docs/payer-packet.md).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# ICD-10-CM: a letter, a digit, a letter or digit, then optionally a dot and up to 4 more (M96.1, G89.4,
# M54.16, G90.50, T85.192A). The dot may be left out by a keyboard: M5416 is stored as M54.16.
_ICD10CM = re.compile(r"^([A-Z][0-9][0-9A-Z])(?:\.?([0-9A-Z]{1,4}))?$")
# CPT Category I (five digits: 63650), Category III (four digits and T: 0784T), HCPCS Level II (a letter and
# four digits: L8680).
_CPT_HCPCS = re.compile(r"^(?:[0-9]{5}|[0-9]{4}T|[A-Z][0-9]{4})$")
_NPI = re.compile(r"^[0-9]{10}$")

MODALITIES = {"mri": "MRI", "ct": "CT", "ct_myelogram": "CT myelogram", "x_ray": "X-ray"}
SCREENING_RESULTS = {
    "negative": "no substance use disorder",
    "in_remission": "substance use disorder in sustained remission",
    "active": "active substance use disorder",
}
DURATION_UNITS = ("weeks", "months")
EARLIEST_DATE = date(1900, 1, 1)
# The latest local date anywhere on Earth (UTC+14): a date a clinic in Kiribati writes today is not "future".
_LATEST_OFFSET = timedelta(hours=14)


def icd10cm(code: str) -> str | None:
    """The code in its dotted, upper-case form, or None when it is not an ICD-10-CM code's shape."""
    match = _ICD10CM.match(code.strip().upper())
    if match is None:
        return None
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def cpt_or_hcpcs(code: str) -> str | None:
    """The code upper-cased, or None when it is not a CPT or HCPCS code's shape."""
    code = code.strip().upper()
    return code if _CPT_HCPCS.match(code) else None


def npi_problem(npi: str) -> str | None:
    """Why `npi` is not a National Provider Identifier, or None.

    The tenth digit is a Luhn check digit computed over the nine others prefixed with 80840 (the NPI
    standard, 45 CFR 162.406): so 1234567893 is valid and 1234567890 is not.
    """
    if not _NPI.match(npi):
        return "Must be 10 digits."
    if not _luhn_valid("80840" + npi):
        return "The check digit does not match (not a valid NPI)."
    return None


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def latest_past_date(moment: datetime) -> date:
    """The latest date a past event (an evaluation, an image) may carry when written at `moment`."""
    return (moment + _LATEST_OFFSET).date()


def months_of(duration: float, unit: str) -> float:
    """A duration in months; 52 weeks make 12 months, so 26 weeks are the 6 months payers ask for."""
    return duration * 12 / 52 if unit == "weeks" else float(duration)
