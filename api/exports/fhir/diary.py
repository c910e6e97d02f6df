"""Every field of a diary entry as FHIR: a panel Observation for the entry (the patient's note on it, its answers
as members), one Observation per answer, one per symptom, and a MedicationStatement per medicine the patient took,
coded where a standard code exists (terms.py). A voided entry stays, marked entered-in-error, so that an EHR that
filed it learns it was withdrawn. After a block, the entry's pain carries the minutes since the block and the
relief, and the entry is part of the block's Procedure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .identity import Identity, reference, us_core
from .terms import (
    BODY_TEMPERATURE,
    DAILY_STEPS,
    DIARY_MEASURE,
    PAIN_SEVERITY,
    RATE_UNITS,
    RXNORM,
    RXNORM_INGREDIENTS,
    SNOMED,
    SNOMED_ROUTES,
    SURVEY,
    SYMPTOM,
    UCUM_UNITS,
    VITAL_SIGNS,
    coding,
    quantity,
)

SCREENING = us_core("us-core-observation-screening-assessment")
TEMPERATURE = us_core("us-core-body-temperature")


@dataclass(frozen=True)
class Block:
    """What a block adds to its diary's entries: the Procedure they are part of, and how relief is measured."""

    procedure_url: str
    start_at: datetime
    end_at: datetime
    baseline_pain: float
    relief_measure: str  # "score" (against the pre-block pain) or "reported" (the patient's estimate)


@dataclass(frozen=True)
class Context:
    identity: Identity
    base: str  # the canonical base of the project's code systems
    patient: dict[str, str]  # the reference to the Patient


def entry_resources(context: Context, entry, block: Block | None = None) -> list[tuple[str, dict[str, Any]]]:
    content = entry.content
    status = "entered-in-error" if entry.voided_at is not None else "final"
    when = entry.recorded_at_local.isoformat()
    answers = _Answers(context, entry.id, status, when, entry.received_at.isoformat())
    pain = content["pain"]
    in_block = block is not None and block.start_at <= entry.recorded_at <= block.end_at
    answers.add("pain", PAIN_SEVERITY, {"valueQuantity": quantity(pain["score"], "{score}")},
                **({"component": _after_block(context, block, entry, pain),
                    "partOf": [reference(block.procedure_url)]} if in_block else {}))
    measure = lambda code: coding(context.base, DIARY_MEASURE, code)  # noqa: E731
    scored = (("worst_24h", "pain-worst-24h"), ("least_24h", "pain-least-24h"))
    for field, code in scored:
        if pain.get(field) is not None:
            answers.add(code, measure(code), {"valueQuantity": quantity(pain[field], "{score}")})
    if pain.get("relief_percent") is not None:
        answers.add("pain-relief-percent", measure("pain-relief-percent"),
                    {"valueQuantity": quantity(pain["relief_percent"], "%")})
    function = content.get("function") or {}
    if function.get("interference") is not None:
        answers.add("pain-interference", measure("pain-interference"),
                    {"valueQuantity": quantity(function["interference"], "{score}")})
    if function.get("odi") is not None:
        answers.add("odi", measure("oswestry-disability-index"), {"valueQuantity": quantity(function["odi"], "%")})
    if function.get("sleep_hours") is not None:
        answers.add("sleep-hours", measure("sleep-hours"), {"valueQuantity": quantity(function["sleep_hours"], "h")})
    if function.get("steps") is not None:
        answers.add("steps", DAILY_STEPS, {"valueQuantity": quantity(function["steps"], "steps/day", "/d")})
    if content.get("sedation_score") is not None:
        answers.add("sedation-score", measure("sedation-score"), {"valueInteger": content["sedation_score"]})
    if content.get("pgic") is not None:
        answers.add("pgic", measure("pgic"), {"valueInteger": content["pgic"]})
    stimulation = content.get("stimulation") or {}
    if stimulation.get("coverage_percent") is not None:
        answers.add("stimulation-coverage", measure("stimulation-coverage"),
                    {"valueQuantity": quantity(stimulation["coverage_percent"], "%")})
    if stimulation.get("satisfaction") is not None:
        answers.add("stimulation-satisfaction", measure("stimulation-satisfaction"),
                    {"valueQuantity": quantity(stimulation["satisfaction"], "{score}")})
    if stimulation.get("program"):
        answers.add("stimulation-program", measure("stimulation-program"), {"valueString": stimulation["program"]})
    for symptom in content.get("symptoms") or ():
        answers.add(f"symptom:{symptom}", coding(context.base, SYMPTOM, symptom), {"valueBoolean": True})
    if content.get("temperature_c") is not None:
        answers.temperature(content["temperature_c"])

    panel_key = ("entry", entry.id)
    panel: dict[str, Any] = {
        "resourceType": "Observation", "status": status, "category": [SURVEY],
        "code": {"coding": [measure("diary-entry")], "text": "Diary entry"},
        "subject": context.patient, "effectiveDateTime": when, "issued": answers.issued,
        "performer": [context.patient], "hasMember": [reference(url) for url, _ in answers.made],
    }
    if in_block:
        panel["partOf"] = [reference(block.procedure_url)]
    if content.get("note"):
        panel["note"] = [{"authorReference": context.patient, "time": when, "text": content["note"]}]
    made = [context.identity.resource(panel_key, panel, SCREENING), *answers.made]
    panel_ref = reference(made[0][0])
    made += [_medication(context, entry.id, index, medication, status, when, panel_ref)
             for index, medication in enumerate(content.get("medications") or ())]
    return made


class _Answers:
    """The entry's answers as Observations, each a member of the entry's panel."""

    def __init__(self, context: Context, entry_id: int, status: str, when: str, issued: str):
        self.context, self.entry_id, self.status, self.when, self.issued = context, entry_id, status, when, issued
        self.made: list[tuple[str, dict[str, Any]]] = []

    def add(self, key: str, code: dict[str, Any], value: dict[str, Any], **more: Any) -> None:
        self.made.append(self.context.identity.resource(("entry", self.entry_id, key), {
            "resourceType": "Observation", "status": self.status, "category": [SURVEY],
            "code": {"coding": [code], "text": code["display"]}, "subject": self.context.patient,
            "effectiveDateTime": self.when, "issued": self.issued, "performer": [self.context.patient],
            **value, **more,
        }, SCREENING))

    def temperature(self, celsius: float) -> None:
        """US Core Body Temperature: a vital sign, in Cel, measured by the patient."""
        self.made.append(self.context.identity.resource(("entry", self.entry_id, "temperature"), {
            "resourceType": "Observation", "status": self.status, "category": [VITAL_SIGNS],
            "code": {"coding": [BODY_TEMPERATURE], "text": "Body temperature"}, "subject": self.context.patient,
            "effectiveDateTime": self.when, "issued": self.issued, "performer": [self.context.patient],
            "valueQuantity": quantity(celsius, "Cel"),
        }, TEMPERATURE))


def _after_block(context: Context, block: Block, entry, pain: dict[str, Any]) -> list[dict[str, Any]]:
    relief = (pain.get("relief_percent") if block.relief_measure == "reported"
              else (block.baseline_pain - pain["score"]) / block.baseline_pain * 100)
    minutes = (entry.recorded_at - block.start_at).total_seconds() / 60
    components = [{"code": {"coding": [coding(context.base, DIARY_MEASURE, "minutes-after-block")],
                            "text": "minutes after the block"},
                   "valueQuantity": quantity(round(minutes, 1), "min")}]
    if relief is not None:
        components.append({"code": {"coding": [coding(context.base, DIARY_MEASURE, "relief-after-block")],
                                    "text": "relief from the pre-block pain"},
                           "valueQuantity": quantity(round(relief, 1), "%")})
    return components


def _medication(context: Context, entry_id: int, index: int, medication: dict[str, Any], status: str, when: str,
                panel: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """What the patient took: RxNorm ingredient when the MME table knows the generic, the dose (or a patch's rate)
    in UCUM, the route in SNOMED CT, reported by the patient."""
    name = medication["name"].strip()
    concept: dict[str, Any] = {"text": name}
    if (rxcui := RXNORM_INGREDIENTS.get(name.lower())) is not None:
        concept["coding"] = [{"system": RXNORM, "code": rxcui, "display": name.lower()}]
    unit = medication["unit"]
    amount = quantity(medication["dose"], unit, UCUM_UNITS[unit])
    dosage: dict[str, Any] = {
        "text": " ".join(str(p) for p in (medication["dose"], unit, medication.get("route")) if p is not None),
        "doseAndRate": [{"rateQuantity" if unit in RATE_UNITS else "doseQuantity": amount}],
    }
    if route := medication.get("route"):
        dosage["route"] = {"text": route}
        if route in SNOMED_ROUTES:
            code, display = SNOMED_ROUTES[route]
            dosage["route"]["coding"] = [{"system": SNOMED, "code": code, "display": display}]
    return context.identity.resource(("entry", entry_id, "medication", index), {
        "resourceType": "MedicationStatement", "status": "entered-in-error" if status != "final" else "completed",
        "medicationCodeableConcept": concept, "subject": context.patient, "effectiveDateTime": when,
        "dateAsserted": when, "informationSource": context.patient, "derivedFrom": [panel], "dosage": [dosage],
    })
