"""The trial's result in the words a clinician or a payer's reviewer reads: one place for the report and the
console, so that neither ever shows a parameter name such as `max_mme_increase_percent`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain import measures
from ..domain.numbers import reaches
from ..domain.therapies import REGISTRY
from ..domain.timeliness import late_entry_ids, timely_sentence

TITLES = {
    "pain_relief": "Pain relief",
    "function": "Function",
    "analgesic_use": "Analgesic use",
    "side_effects": "Side effects",
    "patient_global_impression": "Patient's global impression of change",
    "peak_relief": "Peak relief",
    "relief_duration": "Duration of relief",
}
STATUS = {"met": "met", "not_met": "not met", "not_assessed": "not assessed"}
OUTCOMES = {"success": "success", "failure": "failure", "insufficient_data": "insufficient data"}


def number(value: Any, places: int = 1) -> str:
    """A figure as a clinician writes it: 50 not 50.0, 57.5, 3.33."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer():
        return str(int(value))
    shown = f"{value:.{places}f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown  # 10 %, not 1 %


def criterion_title(criterion: dict[str, Any]) -> str:
    return TITLES.get(criterion["name"], criterion["name"].replace("_", " ").capitalize())


def criterion_finding(criterion: dict[str, Any]) -> str:
    """What was measured against what threshold, in one sentence (for a table that shows the status beside it)."""
    describe = _SENTENCES.get(criterion["name"])
    if describe:
        return describe(criterion)
    return f"Measured {_plain(criterion['value'])} against {_plain(criterion['threshold'])}."


def _plain(value: Any) -> str:
    """A value of a criterion no sentence knows yet (a therapy added later), without its keys' underscores."""
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {number(v) if _numeric(v) else v}" for k, v in value.items()) or "-"
    return number(value) if value is None or _numeric(value) else str(value)


def criterion_sentence(criterion: dict[str, Any]) -> str:
    """What was measured, against what threshold, and whether it was met, in one sentence."""
    measured = criterion_finding(criterion)
    requirement = "Required" if criterion["required"] else "Reported only (not required by this protocol)"
    return f"{measured} {requirement}: {STATUS[criterion['status']]}."


def outcome_words(outcome: str, therapy: str | None = None) -> str:
    """The outcome as the report and console say it: "positive block" / "negative block" for blocks."""
    if therapy is not None:
        return REGISTRY[therapy].outcome_words(outcome)
    return OUTCOMES.get(outcome, outcome.replace("_", " "))


NEXT_STEPS = {
    "rfa_candidate": "candidate for radiofrequency ablation: two positive medial branch blocks at the same levels",
    "confirmatory_block_due": "a confirmatory medial branch block at the same levels is due",
    "therapeutic_injection_candidate": "candidate for a therapeutic injection",
    "not_indicated": "not indicated: the latest block was negative",
    "pending": "pending: the latest block has no final result yet, or too little data",
}


def next_step_words(step: str) -> str:
    return NEXT_STEPS.get(step, step.replace("_", " "))


def _pain_relief(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return f"No diary data to compare with the baseline; at least {number(c['threshold'])} % relief is asked."
    moved = "fell" if c["value"] >= 0 else "rose"
    return (f"Mean pain {moved} by {number(abs(c['value']))} % from the pre-trial baseline "
            f"(at least {number(c['threshold'])} % relief is asked).")


def _function(c: dict[str, Any]) -> str:
    threshold = c["threshold"] or {}
    asked = (f"an Oswestry Disability Index at least {number(threshold.get('odi'))} points lower, or pain "
             f"interference at least {_points(threshold.get('interference'))} lower, than at baseline")
    value = c["value"] or {}
    if not value:
        return f"No function measure had both a baseline and a trial value (asked: {asked})."
    found = []
    if "odi_improvement" in value:
        found.append(_change("Oswestry Disability Index", value["odi_improvement"], "points"))
    if "interference_improvement" in value:
        found.append(_change("pain interference", value["interference_improvement"], "points"))
    return f"{'; '.join(found)} (asked: {asked})."


def _change(measure: str, improvement: float, unit: str) -> str:
    if improvement >= 0:
        return f"{measure} improved by {number(improvement)} {unit}"
    return f"{measure} worsened by {number(-improvement)} {unit}"


def _analgesic_use(c: dict[str, Any]) -> str:
    threshold = c["threshold"] or {}
    allowed, rise = threshold.get("max_mme"), threshold.get("max_increase_percent")
    rule = ("no rise over the baseline" if not rise else f"at most {number(rise)} % over the baseline")
    if c["value"] is None or allowed is None:
        return (f"Opioid use could not be compared with the baseline (no baseline MME, no diary days, or an hourly "
                f"diary); asked: {rule}.")
    return (f"Opioid use averaged {number(c['value'])} morphine milligram equivalents (MME) a day during the trial "
            f"against at most {number(allowed)} allowed ({rule}).")


def _side_effects(c: dict[str, Any]) -> str:
    value, threshold = c["value"] or {}, c["threshold"] or {}
    sedation = value.get("max_sedation_score")
    parts = [f"highest sedation score {number(sedation)} on the Pasero scale" if sedation is not None
             else "no sedation score recorded"]
    parts.append("respiratory depression reported" if value.get("respiratory_depression")
                 else "no respiratory depression reported")
    said = ", ".join(parts)
    return (f"{said[0].upper()}{said[1:]} (acceptable: sedation at most "
            f"{number(threshold.get('max_sedation_score'))} and no respiratory depression).")


def _pgic(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return f"The patient gave no global impression of change (asked: {number(c['threshold'])} or better on 1-7)."
    return (f"The patient rated their change {number(c['value'])} on the 1 (very much improved) to 7 (very much "
            f"worse) scale (asked: {number(c['threshold'])} or better).")


def _peak_relief(c: dict[str, Any]) -> str:
    if c["value"] is None:
        return (f"No diary timepoint after the block to compare with the pre-block pain; at least "
                f"{number(c['threshold'])} % relief is asked.")
    return (f"The best relief after the block was {number(c['value'])} % of the pre-block pain "
            f"(at least {number(c['threshold'])} % is asked).")


def _relief_duration(c: dict[str, Any]) -> str:
    asked = f"at least {number(c['threshold'], 2)} h is asked, as long as the anaesthetic acts"
    if c["value"] is None:
        return f"No diary timepoint after the block, so no duration of relief ({asked})."
    if not c["value"]:
        return f"Relief did not reach the threshold within the onset window, so no duration counts ({asked})."
    return (f"Relief at or above the threshold lasted until {number(c['value'], 2)} h after the block, without a "
            f"dip below it ({asked}).")


_SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "pain_relief": _pain_relief,
    "function": _function,
    "analgesic_use": _analgesic_use,
    "side_effects": _side_effects,
    "patient_global_impression": _pgic,
    "peak_relief": _peak_relief,
    "relief_duration": _relief_duration,
}


# --- words for the console (and any other screen): protocol parameters, alerts, trial states -------------

PARAMETER_LABELS = {
    "bucket": "Diary kept by",
    "exclude_first_buckets": "Days (or hours) left out at the start",
    "min_pain_relief_percent": "Pain relief asked for (%)",
    "require_function": "Function improvement required",
    "min_odi_improvement": "Oswestry Disability Index improvement asked for (points)",
    "min_interference_improvement": "Pain interference improvement asked for (points)",
    "require_stable_analgesics": "Stable opioid use required",
    "max_mme_increase_percent": "Opioid rise over the baseline allowed (%)",
    "require_acceptable_side_effects": "Acceptable side effects required",
    "max_sedation_score": "Highest acceptable sedation score (Pasero 1-4)",
    "require_pgic": "Patient's global impression required",
    "max_pgic": "Global impression asked for (1-7, this or better)",
    "min_data_buckets": "Fewest days (or hours) of data for a result",
    "min_compliance": "Diary compliance asked for (0-1)",
    # Diagnostic blocks
    "min_relief_percent": "Block: relief asked for (%)",
    "min_relief_hours": "Block: relief must last (hours; by agent when empty)",
    "onset_window_minutes": "Block: relief must begin within (minutes)",
    "min_timepoints": "Block: fewest timepoints for a result",
    "relief_measure": "Block: relief measured from",
}
THERAPY_NAMES = {name: row.title for name, row in REGISTRY.items()}  # from the registry: every therapy has one
THERAPY_IN_A_SENTENCE = {name: row.in_a_sentence for name, row in REGISTRY.items()}  # "an SCS trial"
STATUS_WORDS = {"scheduled": "scheduled", "active": "active", "ended": "ended, awaiting decision",
                "decided": "decided", "cancelled": "cancelled"}
SEVERITY_WORDS = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
DELIVERY_WORDS = {"pending": "waiting to be sent", "sent": "sent", "failed": "failed"}


# The console's form fields by the name they post (and the API's schemas report errors under), for the error
# summary above a form: "Date of birth: Not a valid date.", never "date_of_birth".
FIELD_LABELS = {
    "_schema": "Form", "patient_id": "Patient", "display_name": "Name", "mrn": "Medical record number (MRN)",
    "date_of_birth": "Date of birth", "email": "Email", "gender": "Gender", "language": "Language",
    "mobile_number": "Mobile number", "therapy": "Therapy", "device": "Device", "start_at": "Start",
    "end_at": "End", "timezone": "Timezone", "care_team": "Care team", "agent": "Local anaesthetic",
    "target": "Target", "target.region": "Region", "target.side": "Side", "target.levels": "Levels",
    "baseline": "Baseline", "baseline.pain": "Baseline pain", "baseline.mme": "Baseline daily opioid use (MME)",
    "baseline.odi": "Baseline Oswestry Disability Index", "baseline.interference": "Baseline pain interference",
    "npi": "NPI", "role": "Role", "password": "Password", "url": "Address", "rule": "What is expected",
    "until": "Until", "note": "Note", "rationale": "Rationale", "decision": "Decision", "phone": "Phone",
    "current_password": "Current password", "new_password": "New password", "repeat_password": "New password again",
}


def field_label(name: str) -> str:
    """A form field's name (as posted: "baseline.pain", "protocol.min_compliance") in the words of its label."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name.startswith("protocol."):
        return parameter_label(name.removeprefix("protocol."))
    return name.replace(".", " ").replace("_", " ").strip().capitalize()


def parameter_label(name: str) -> str:
    return PARAMETER_LABELS.get(name, name.replace("_", " ").capitalize())


def parameter_value(value: Any) -> str:
    """A protocol value as read beside a form field: yes/no, day/hour, figures."""
    if isinstance(value, str):
        return {"day": "day", "hour": "hour"}.get(value, value)
    return number(value, 2)


def alert_words(rule: str) -> str:
    from ..domain.safety import LABELS  # the safety rules name their own alerts

    return LABELS.get(rule, rule.replace("_", " ")).capitalize()
def decision_words(decision: str, therapy: str) -> str:
    """The decision as the therapy's registry row says it: a block's decisions speak of ablation or injection, a
    trial's of the permanent device."""
    return REGISTRY[therapy].decision_words(decision)


def protocol_sentences(protocol: dict[str, Any]) -> list[str]:
    """The thresholds in force, each as a sentence a reviewer reads without knowing the protocol's keys."""
    p = protocol
    unit = {"day": "day", "hour": "hour"}.get(p.get("bucket"), "timepoint")
    said: set[str] = {"bucket"}
    sentences = []

    def uses(*keys: str) -> bool:
        said.update(keys)
        return all(k in p for k in keys)

    if uses("min_pain_relief_percent"):
        sentences.append(f"Pain relief of at least {number(p['min_pain_relief_percent'])} % against the baseline "
                         f"(required).")
    if uses("require_function", "min_odi_improvement", "min_interference_improvement"):
        sentences.append(
            f"Function {'must improve' if p['require_function'] else 'is reported (not required)'}: an Oswestry "
            f"Disability Index at least {number(p['min_odi_improvement'])} points lower, or pain interference at "
            f"least {_points(p['min_interference_improvement'])} lower, than at baseline.")
    if uses("require_stable_analgesics", "max_mme_increase_percent"):
        rise = p["max_mme_increase_percent"]
        limit = "no rise over the baseline" if not rise else f"at most {number(rise)} % over the baseline"
        sentences.append(f"Daily opioid use (MME): {limit} "
                         f"({'required' if p['require_stable_analgesics'] else 'reported, not required'}).")
    if uses("require_acceptable_side_effects", "max_sedation_score"):
        sentences.append(f"Side effects: sedation at most {number(p['max_sedation_score'])} on the Pasero scale and "
                         f"no respiratory depression "
                         f"({'required' if p['require_acceptable_side_effects'] else 'reported, not required'}).")
    if uses("require_pgic", "max_pgic"):
        sentences.append(f"Patient's global impression of change {number(p['max_pgic'])} or better on 1-7 "
                         f"({'required' if p['require_pgic'] else 'reported, not required'}).")
    if uses("min_data_buckets", "min_compliance", "exclude_first_buckets"):
        first = p["exclude_first_buckets"]
        left_out = ("none left out" if not first else
                    f"the first {unit} ({'the implant day' if unit == 'day' else 'right after the implant'}) left out"
                    if first == 1 else f"the first {number(first)} {unit}s left out")
        sentences.append(
            f"Enough data: entries on at least {number(p['min_data_buckets'])} {unit}s and on at least "
            f"{number(p['min_compliance'] * 100)} % of the counted {unit}s; {left_out}.")
    # A diagnostic block's thresholds (domain/blocks.py)
    if uses("min_relief_percent"):
        sentences.append(f"Relief of at least {number(p['min_relief_percent'])} % of the pre-block pain (required).")
    if uses("min_relief_hours") and p["min_relief_hours"] is not None:
        sentences.append(f"Relief lasting at least {number(p['min_relief_hours'], 2)} h after the block, as long as "
                         f"the local anaesthetic acts (required).")
    if uses("onset_window_minutes"):
        sentences.append(f"Relief beginning within {number(p['onset_window_minutes'])} minutes of the block.")
    if uses("min_timepoints"):
        sentences.append(f"Enough data: at least {number(p['min_timepoints'])} timepoints recorded after the block.")
    if uses("relief_measure"):
        sentences.append(f"Relief measured from {RELIEF_MEASURES.get(p['relief_measure'], p['relief_measure'])}.")
    # A therapy registered later may carry parameters of its own: still words, never a key.
    for key in (k for k in p if k not in said):
        sentences.append(f"{parameter_label(key)}: {number(p[key]) if _numeric(p[key]) else p[key]}.")
    return sentences


RELIEF_MEASURES = {"score": "the pain score against the pre-block pain",
                   "reported": "the patient's own estimate of relief"}


def _unit(protocol: dict[str, Any]) -> str:
    return {"day": "day", "hour": "hour"}.get(protocol.get("bucket"), "timepoint")


def diary_coverage(evaluation: dict[str, Any]) -> str:
    """How much of the trial the diary covers, against what the protocol asks: "Entries on 3 of 16 counted hours
    (19 %; 50 % asked)." For a block, its timepoints."""
    metrics, protocol = evaluation["metrics"], evaluation["protocol"]
    if "compliance" not in metrics:
        return (f"{number(metrics.get('timepoints', 0))} timepoints recorded after the block "
                f"(at least {number(protocol.get('min_timepoints'))} asked).")
    unit = _unit(protocol)
    return (f"Entries on {number(metrics['data_buckets'])} of {number(metrics['counted_buckets'])} counted {unit}s "
            f"({number(metrics['compliance'] * 100, 0)} %; {number(protocol['min_compliance'] * 100)} % and at least "
            f"{number(protocol['min_data_buckets'])} {unit}s with entries asked).")


def missing_data(evaluation: dict[str, Any]) -> str | None:
    """Why an "insufficient data" result is one, in a sentence: what was missing against what the protocol asks
    ("entries in 19 % of hours; 50 % asked"). None for any other result. It restates the evaluation's figures and
    thresholds; the outcome itself is the evaluation's (domain/trial_rules.py, domain/blocks.py)."""
    if evaluation["outcome"] != "insufficient_data":
        return None
    metrics, protocol = evaluation["metrics"], evaluation["protocol"]
    reasons = []
    if "compliance" in metrics:
        unit = _unit(protocol)
        if not reaches(metrics["compliance"], protocol["min_compliance"]):
            reasons.append(f"entries in {number(metrics['compliance'] * 100, 0)} % of {unit}s; "
                           f"{number(protocol['min_compliance'] * 100)} % asked")
        if metrics["data_buckets"] < protocol["min_data_buckets"]:
            reasons.append(f"entries on {number(metrics['data_buckets'])} {unit}(s); at least "
                           f"{number(protocol['min_data_buckets'])} asked")
    elif metrics.get("timepoints", 0) < protocol.get("min_timepoints", 0):
        reasons.append(f"{number(metrics.get('timepoints', 0))} timepoint(s) recorded; at least "
                       f"{number(protocol['min_timepoints'])} asked")
    unassessed = [criterion_title(c).lower() for c in evaluation["criteria"]
                  if c["required"] and c["status"] == "not_assessed"]
    if unassessed:
        reasons.append(f"not assessable for want of data: {', '.join(unassessed)}")
    return "Insufficient data: " + ("; and ".join(reasons) if reasons else "too few entries") + "."


def _points(value: Any) -> str:
    return f"{number(value)} point" if value == 1 else f"{number(value)} points"


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float)


def diary_timeliness(therapy: str, entries: list[Any]) -> tuple[set[int], str]:
    """The late entries (ids) among a trial's non-voided ones (models.DiaryEntry), and the sentence that states the
    share sent in time: the evidence of a real-time diary that paper cannot give."""
    late_after = REGISTRY[therapy].late_after
    valid = [(e.id, e.recorded_at, e.received_at) for e in entries if e.voided_at is None]
    late = late_entry_ids(valid, late_after)
    return late, timely_sentence(len(valid), len(late), late_after)


NEVER_RECORDED = "Asked, never recorded"


def recorded_measures(record: Any) -> list[tuple[str, str]]:
    """What the patient recorded beyond the evaluation (domain/measures.py), as (measure, summary in words) for the
    trial page and the report: "Sleep", "mean 6.5 h, median 6.5 h, range 5-8 h (6 entries)"; the measures the
    diary asks that the patient never recorded, in one last row."""
    contents = [e.content for e in record.entries if e.voided_at is None]
    found = measures.summaries(record.trial.therapy, contents, record.evaluation["protocol"])
    rows = [(summary.measure.title, _measure_words(summary)) for summary in found if summary.count]
    if unrecorded := [summary.measure.title for summary in found if not summary.count]:
        rows.append((NEVER_RECORDED, "; ".join(unrecorded)))
    return rows


def _measure_words(summary: measures.Summary) -> str:
    unit = summary.measure.unit

    def figure(value: float) -> str:
        shown = f"{value:,.0f}" if unit == "steps" else number(value)
        return f"{shown}{unit}" if unit.startswith("/") or not unit else f"{shown} {unit}"

    entries = f"{summary.count} {'entry' if summary.count == 1 else 'entries'}"
    if summary.count == 1:
        return f"{figure(summary.mean)} ({entries})"
    if summary.measure.highest:
        return f"median {figure(summary.median)}, highest {figure(summary.high)} ({entries})"
    return (f"mean {figure(summary.mean)}, median {figure(summary.median)}, range {figure(summary.low)} to "
            f"{figure(summary.high)} ({entries})")


def chart_description(record: Any) -> str:
    """The text alternative of the trial's charts (exports/charts.py), panel by panel as the registry names them."""
    protocol, baseline = record.evaluation["protocol"], record.trial.baseline
    said = {
        "pain": (f"pain on the 0-10 scale against the baseline of {number(baseline.get('pain'))} and the "
                 f"{number(protocol.get('min_pain_relief_percent'))} % relief threshold"),
        "mme": "opioid use in morphine milligram equivalents against the baseline",
        "function": "function against the baseline",
        "sedation": (f"the highest sedation score (Pasero 1-4) against the highest acceptable, "
                     f"{number(protocol.get('max_sedation_score'))}"),
    }
    panels = REGISTRY[record.trial.therapy].charts
    unit = _unit(protocol)
    return (f"{len(panels)} charts by {unit}: {'; '.join(said.get(p, p) for p in panels)}. The same figures are in "
            f"the diary table below.")
