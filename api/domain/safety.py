"""Safety rules of docs/clinical-rules.md §3: which alerts one diary entry raises, and at what severity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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


def may_be_urgent(entry: dict[str, Any]) -> bool:
    """Whether an entry's content raises a critical or high alert under some therapy (the baseline only matters to a
    medium one): its safety check is queued ahead of the others'."""
    return any(RANK[f.severity] >= RANK["high"] for f in _all_findings(entry, baseline_pain=float("inf")))


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
    "call_back": "the patient asks to be called back",
}
RULES = tuple(LABELS)  # every rule an alert can carry

# What the nurse who reads the alert does first, in a line (the clinic's own protocol decides the rest).
NEXT_ACTIONS = {
    "neuro_deficit": "Call the patient now; new weakness or numbness after a spinal procedure needs a physician's "
                     "assessment today (emergency department if it is progressing).",
    "respiratory_depression": "Call the patient now; if they are hard to wake or breathe slowly, send them to the "
                              "emergency department and tell the physician.",
    "infection": "Call the patient today: check the wound and temperature, and arrange a wound check with the "
                 "physician.",
    "csf_leak": "Call the patient today: ask about a headache that eases lying down and clear fluid at the wound; tell "
                "the physician.",
    "lead_problem": "Call the patient: check the dressing and the stimulation; arrange reprogramming or a lead check.",
    "urinary_retention": "Call the patient today: if they cannot pass urine, they need to be seen now.",
    "wound_concern": "Ask the patient for a photo or a wound check at the next visit; call if it spreads or hurts "
                     "more.",
    "pain_spike": "Call the patient: ask what changed (activity, device, medication) and whether the trial settings "
                  "need a change.",
    "opioid_side_effects": "Review the opioid doses with the patient at the next call.",
    "missed_diary": "Remind the patient to record the day; ask if the phone or the app is the problem.",
    "call_back": "Call the patient back on the number shown.",
}

# The severities each rule can fire at (the tables of docs/clinical-rules.md §3; a call-back request is high).
RULE_SEVERITIES = {
    "neuro_deficit": ("critical",), "respiratory_depression": ("critical",), "infection": ("high",),
    "csf_leak": ("high",), "lead_problem": ("medium", "high"), "urinary_retention": ("high",),
    "wound_concern": ("medium",), "pain_spike": ("medium",), "opioid_side_effects": ("low",),
    "missed_diary": ("low",), "call_back": ("high",),
}

# --- expected findings (docs/clinical-rules.md §3 "Expected findings") ------------------------------------------

# Only a rule that can fire below high may be marked expected; its high firings never are covered.
COVERABLE_RULES = tuple(rule for rule, severities in RULE_SEVERITIES.items()
                        if any(RANK[s] < RANK["high"] for s in severities))
MAX_EXPECTED_DAYS = 30
REASON_MAX = 500


@dataclass(frozen=True)
class Expectation:
    """A rule a nurse marked expected for one trial, until a time; `ended_at` once ended early."""

    rule: str
    until: datetime
    ended_at: datetime | None = None


def expectation_problems(rule: str, until: datetime, reason: str, now: datetime) -> dict[str, str]:
    """Field-by-field reasons why this expected finding may not be made; empty when it may."""
    problems = {}
    if rule not in COVERABLE_RULES:
        problems["rule"] = f"Only a rule that can fire below high may be expected: {', '.join(COVERABLE_RULES)}."
    if (problem := until_problem(until, now)) is not None:
        problems["until"] = problem
    if not 1 <= len(reason.strip()) <= REASON_MAX:
        problems["reason"] = f"Must be 1 to {REASON_MAX} characters."
    return problems


def until_problem(until: datetime, now: datetime) -> str | None:
    """Why an expected finding may not last until `until`: it must be after now and at most 30 days ahead."""
    if until <= now:
        return "Must be after now."
    if until > now + timedelta(days=MAX_EXPECTED_DAYS):
        return f"Must be at most {MAX_EXPECTED_DAYS} days ahead."
    return None


def in_force(expectation: Expectation, now: datetime) -> bool:
    """Not ended (early) when the rule runs."""
    return expectation.ended_at is None or expectation.ended_at > now


def covers_entry(expectations: list[Expectation], rule: str, recorded_at: datetime, now: datetime) -> bool:
    """Whether a finding of `rule` on an entry recorded at `recorded_at` was expected: a finding of that rule in
    force now whose `until` is after the entry's time (an entry recorded before the finding was made is covered)."""
    return any(e.rule == rule and recorded_at < e.until and in_force(e, now) for e in expectations)


def covers_day(expectations: list[Expectation], rule: str, day_end: datetime, now: datetime) -> bool:
    """Whether a missed local day ending at `day_end` was expected: the whole day lies before `until`."""
    return any(e.rule == rule and day_end <= e.until and in_force(e, now) for e in expectations)


def alert_status(severity: str, covered: bool) -> str:
    """`expected` for a covered firing below high; `open` otherwise: a high or critical firing is never covered."""
    return "expected" if covered and RANK[severity] < RANK["high"] else "open"

# Who is told at once, and who after how long without acknowledgement (docs/clinical-rules.md §3). The delays are
# configuration (CRITICAL_ESCALATION_MINUTES, HIGH_ESCALATION_MINUTES); the audiences are policy.
IMMEDIATE_AUDIENCE = {"critical": ("care_team",), "high": ("care_nurses",), "medium": ("care_nurses",), "low": ()}


def told_at_once(status: str, severity: str) -> tuple[str, ...]:
    """Who hears of an alert when it is stored: no one of an expected one (no email, webhook, push or digest)."""
    return IMMEDIATE_AUDIENCE[severity] if status == "open" else ()
ESCALATION_AUDIENCE = {"critical": ("care_team", "clinic_physicians"), "high": ("care_physicians",)}


def initials(display_name: str) -> str:
    """"R. Alvarez" -> "R.A.": the most identity a message may carry."""
    return "".join(f"{word[0].upper()}." for word in display_name.replace(".", " ").split() if word[0].isalpha())
