"""A trial's entries as CSV for spreadsheets (one row per entry, current version; voided ones marked)."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from ..domain.therapies import REGISTRY
from ..domain.timeliness import is_late
from . import TrialRecord

COLUMNS = ["entry_id", "client_id", "recorded_at", "received_at", "pain_score", "pain_worst_24h", "pain_least_24h",
           "pain_relief_percent", "interference", "steps", "sleep_hours", "odi", "medications", "symptoms",
           "temperature_c", "sedation_score", "stimulation_program", "stimulation_coverage_percent",
           "stimulation_satisfaction", "pgic", "note", "version", "voided", "void_reason", "late"]


def entries_csv(record: TrialRecord) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    late_after = REGISTRY[record.trial.therapy].late_after  # received later than this: late (domain/timeliness.py)
    for entry in record.entries:
        c = entry.content
        pain, function, stimulation = c["pain"], c.get("function") or {}, c.get("stimulation") or {}
        medications = "; ".join(" ".join(_plain(p) for p in (m["name"], m["dose"], m["unit"], m.get("route")) if p)
                                for m in c.get("medications") or ())
        writer.writerow([_cell(v) for v in (
            entry.id, entry.client_id, entry.recorded_at_local.isoformat(), entry.received_at.isoformat(),
            pain["score"], pain.get("worst_24h"),
            pain.get("least_24h"), pain.get("relief_percent"), function.get("interference"), function.get("steps"),
            function.get("sleep_hours"), function.get("odi"), medications, "; ".join(c.get("symptoms") or ()),
            c.get("temperature_c"), c.get("sedation_score"), stimulation.get("program"),
            stimulation.get("coverage_percent"), stimulation.get("satisfaction"), c.get("pgic"), c.get("note"),
            entry.version, "yes" if entry.voided_at else "no", entry.void_reason,
            "yes" if is_late(entry.recorded_at, entry.received_at, late_after) else "no")])
    return buffer.getvalue()


def _plain(value) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _cell(value) -> str:
    """Text that a spreadsheet could run as a formula is quoted (CSV injection).

    Spreadsheets skip leading whitespace (any Unicode space, NBSP included) and invisible characters before
    deciding that a cell is a formula, and read "-Infinity", "+nan" or "-1_0" as something other than text,
    so only plain decimal numbers may start with "-" or "+"; every other value whose first visible
    character is = + - @ (or that starts with a tab or line break) gets a leading apostrophe.
    """
    if value is None:
        return ""
    text = str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    if text[:1] in _LINE_CONTROL or _first_visible(text) in _FORMULA_START:
        return "'" + text
    return text


def _first_visible(text: str) -> str:
    for ch in text:
        if not (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")):
            return ch
    return ""


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and their full-width forms
_LINE_CONTROL = ("\t", "\r", "\n")
