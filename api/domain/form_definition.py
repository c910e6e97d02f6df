"""A therapy's diary form as the page receives it, with its red flags derived from the safety rules.

Which answers are red flags is never listed twice: each option of a choice or checklist is put alone into an
entry and run through `safety.findings` for the therapy (docs/clinical-rules.md §3). An answer whose finding is
critical means "call emergency services, then the clinic"; high means "call the clinic now" (safety.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from . import forms
from .safety import RANK, findings
from .therapies import REGISTRY

RED_FLAG_SEVERITIES = ("critical", "high")
# No pain spike can fire from a lone answer: the baseline is put above anything a score can reach.
_NO_PAIN_SPIKE = 100.0


def answer_severity(therapy: str, path: str, value: Any) -> str | None:
    """The highest severity the safety rules give an entry holding only this answer, for this therapy."""
    entry: dict[str, Any] = {"pain": {"score": 0}}
    if path == "symptoms":
        entry["symptoms"] = [value]
    else:
        head, _, tail = path.partition(".")
        entry[head] = {**entry.get(head, {}), tail: value} if tail else value
    found = findings(entry, baseline_pain=_NO_PAIN_SPIKE, therapy=therapy)
    return max((f.severity for f in found), key=RANK.__getitem__, default=None)


@cache
def definition(therapy: str) -> dict[str, Any]:
    """The form of `therapy`'s diary: its kind, its fields and, per field, the answers that are red flags."""
    row = REGISTRY[therapy]
    fields = []
    for field in row.form.fields:
        described = field.describe()
        flags = {}
        for option in field.options:
            severity = answer_severity(therapy, field.path, option.value)
            if severity in RED_FLAG_SEVERITIES:
                flags[str(option.value)] = severity
        if flags:
            described["red_flags"] = flags
        fields.append(described)
    return {"therapy": therapy, "title": row.patient_title, "kind": row.form.kind, "fields": fields,
            "medicines": {"names": list(forms.MEDICINE_NAMES), "units": list(forms.MEDICINE_UNITS),
                          "routes": list(forms.MEDICINE_ROUTES)}}


def red_flags(therapy: str) -> dict[str, list[dict[str, Any]]]:
    """The when-to-call page's lists: the answers of `therapy`'s form that are critical, and those that are high."""
    grouped: dict[str, list[dict[str, Any]]] = {severity: [] for severity in RED_FLAG_SEVERITIES}
    for field in definition(therapy)["fields"]:
        words = {str(o["value"]): o["words"] for o in field.get("options", ())}
        for value, severity in field.get("red_flags", {}).items():
            grouped[severity].append({"path": field["path"], "value": value, "words": words[value]})
    return grouped
