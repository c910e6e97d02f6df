"""Safety rules of docs/clinical-rules.md §3: which alerts one diary entry raises, and at what severity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .therapies import REGISTRY

SEVERITIES = ("low", "medium", "high", "critical")
RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str


def findings(entry: dict[str, Any], *, baseline_pain: float, therapy: str | None = None) -> list[Finding]:
    """The alerts an entry's content raises; one finding per rule, at the rule's highest severity that fired.
    Only the rules that mean something for `therapy` (the registry's `safety_rules`; every rule when None):
    a lead problem means nothing after a block."""
    found = _all_findings(entry, baseline_pain)
    if therapy is None:
        return found
    applies = REGISTRY[therapy].safety_rules
    return [f for f in found if f.rule in applies]


def _all_findings(entry: dict[str, Any], baseline_pain: float) -> list[Finding]:
    symptoms = set(entry.get("symptoms") or ())
    pain = (entry.get("pain") or {}).get("score")
    temperature = entry.get("temperature_c")
    sedation = entry.get("sedation_score")
    coverage = (entry.get("stimulation") or {}).get("coverage_percent")
    found: list[Finding] = []

    if symptoms & {"new_weakness", "new_numbness", "bladder_bowel_change"}:
        found.append(Finding("neuro_deficit", "critical"))
    if "respiratory_depression" in symptoms or (sedation is not None and sedation >= 3):
        found.append(Finding("respiratory_depression", "critical"))
    infection = (
        (temperature is not None and temperature >= 38.0)
        or bool(symptoms & {"fever", "wound_drainage"})
        or ("neck_stiffness" in symptoms and bool(symptoms & {"fever", "positional_headache"}))
    )
    if infection:
        found.append(Finding("infection", "high"))
    if symptoms & {"positional_headache", "clear_fluid_leak"}:
        found.append(Finding("csf_leak", "high"))
    if "lead_dislodged" in symptoms:
        found.append(Finding("lead_problem", "high"))
    elif symptoms & {"dressing_off", "loss_of_stimulation"} or (coverage is not None and coverage < 50):
        found.append(Finding("lead_problem", "medium"))
    if "urinary_retention" in symptoms:
        found.append(Finding("urinary_retention", "high"))
    if symptoms & {"wound_redness", "wound_swelling"} and not infection:
        found.append(Finding("wound_concern", "medium"))
    if pain is not None and pain >= 8 and pain >= baseline_pain + 2:
        found.append(Finding("pain_spike", "medium"))
    if symptoms & {"nausea", "vomiting", "itching", "excessive_sleepiness"}:
        found.append(Finding("opioid_side_effects", "low"))
    return found


LABELS = {
    "neuro_deficit": "new neurological deficit",
    "respiratory_depression": "respiratory depression or heavy sedation",
    "infection": "possible infection",
    "csf_leak": "possible spinal fluid leak",
    "lead_problem": "problem with the lead or dressing",
    "urinary_retention": "urinary retention",
    "wound_concern": "wound redness or swelling",
    "pain_spike": "pain spike",
    "opioid_side_effects": "opioid side effects",
    "missed_diary": "missed diary day",
}

# Who is told at once, and who after how long without acknowledgement (docs/clinical-rules.md §3). The delays are
# configuration (CRITICAL_ESCALATION_MINUTES, HIGH_ESCALATION_MINUTES); the audiences are policy.
IMMEDIATE_AUDIENCE = {"critical": ("care_team",), "high": ("care_nurses",), "medium": ("care_nurses",), "low": ()}
ESCALATION_AUDIENCE = {"critical": ("care_team", "clinic_physicians"), "high": ("care_physicians",)}


def initials(display_name: str) -> str:
    """"R. Alvarez" -> "R.A.": the most identity a message may carry."""
    return "".join(f"{word[0].upper()}." for word in display_name.replace(".", " ").split() if word[0].isalpha())
