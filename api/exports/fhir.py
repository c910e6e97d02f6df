"""A trial as a FHIR Bundle (collection), validated with fhir.resources' R4B (4.3) models.

fhir.resources 7+ ships the R4 line as R4B; Patient, Observation, MedicationStatement and Bundle are the
same in R4 (4.0.1) and R4B. Pain scores carry LOINC 72514-3 (0-10 NRS); ODI, pain interference and the
trial evaluation have no LOINC code we can vouch for here, so they use this service's own code system.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from ..domain.therapies import therapy
from . import TrialRecord
from . import blocks as block_fhir

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MEASURES = "urn:trial-diary:measure"
OUTCOMES = "urn:trial-diary:trial-outcome"
SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
NAMESPACE = uuid.UUID("9a3c1f4e-5b7d-4c2a-8e1f-2d6b0a9c7e35")  # stable resource ids: one URN per record


def bundle(record: TrialRecord) -> dict[str, Any]:
    patient_ref = _urn("patient", record.patient.id)
    resources = [_patient(record, patient_ref)]
    # A block: its Procedure, and its timepoints as Observations part of it, in place of the entries' own.
    block = block_fhir.fhir_resources(record, patient_ref) if therapy(record.trial.therapy).is_block else []
    resources += block
    for entry in record.entries:
        if entry.voided_at is not None or block:
            continue
        resources += _entry_resources(entry, patient_ref)
    resources.append(_evaluation(record, patient_ref))
    document = {
        "resourceType": "Bundle", "type": "collection", "timestamp": record.generated_at.isoformat(),
        "identifier": {"system": "urn:trial-diary:trial", "value": str(record.trial.id)},
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in resources],
    }
    return Bundle.model_validate(document).model_dump(mode="json", exclude_none=True)


def _patient(record: TrialRecord, ref: str) -> tuple[str, dict]:
    patient = record.patient
    return ref, {
        "resourceType": "Patient",
        "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                              "code": "MR"}]},
                        "system": f"urn:trial-diary:clinic:{patient.clinic_id}:mrn", "value": patient.mrn}],
        "name": [{"text": patient.display_name}],
        "birthDate": patient.date_of_birth.isoformat(),
    }


def _entry_resources(entry, patient_ref: str) -> list[tuple[str, dict]]:
    when = entry.recorded_at_local.isoformat()
    content = entry.content
    made = [_observation(("pain", entry.id), patient_ref, when, {"system": LOINC, "code": "72514-3",
                          "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"},
                         content["pain"]["score"], "{score}")]
    function = content.get("function") or {}
    if function.get("odi") is not None:
        made.append(_observation(("odi", entry.id), patient_ref, when, {"system": MEASURES, "code": "odi",
                                 "display": "Oswestry Disability Index"}, function["odi"], "%"))
    if function.get("interference") is not None:
        made.append(_observation(("interference", entry.id), patient_ref, when, {
            "system": MEASURES, "code": "pain-interference", "display": "Pain interference with general activity"},
            function["interference"], "{score}"))
    for index, medication in enumerate(content.get("medications") or ()):
        dosage = {"text": " ".join(str(p) for p in (medication["dose"], medication["unit"], medication.get("route"))
                                   if p is not None),
                  "doseAndRate": [{"doseQuantity": {"value": medication["dose"], "unit": medication["unit"]}}]}
        if medication.get("route"):
            dosage["route"] = {"text": medication["route"]}
        made.append((_urn("medication", entry.id, index), {
            "resourceType": "MedicationStatement", "status": "completed",
            "medicationCodeableConcept": {"text": medication["name"]},
            "subject": {"reference": patient_ref}, "effectiveDateTime": when, "dosage": [dosage],
        }))
    return made


def _observation(key: tuple, patient_ref: str, when: str, coding: dict, value, unit: str) -> tuple[str, dict]:
    return _urn(*key), {
        "resourceType": "Observation", "status": "final", "category": [SURVEY],
        "code": {"coding": [coding], "text": coding["display"]},
        "subject": {"reference": patient_ref}, "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def _evaluation(record: TrialRecord, patient_ref: str) -> tuple[str, dict]:
    evaluation = record.evaluation
    metrics = evaluation["metrics"]
    components = [
        {"code": {"coding": [{"system": MEASURES, "code": key}], "text": key.replace("_", " ")},
         "valueQuantity": {"value": metrics[key], "unit": unit, "system": UCUM, "code": unit}}
        for key, unit in (("pain_relief_percent", "%"), ("trial_pain", "{score}"), ("compliance", "1"),
                          ("trial_mme", "mg/d"))
        if metrics.get(key) is not None
    ]
    components += [
        {"code": {"coding": [{"system": MEASURES, "code": f"criterion-{c['name']}"}],
                  "text": f"{c['name'].replace('_', ' ')} ({'required' if c['required'] else 'optional'})"},
         "valueCodeableConcept": {"coding": [{"system": f"{MEASURES}:criterion-status", "code": c["status"]}]}}
        for c in evaluation["criteria"]
    ]
    return _urn("evaluation", record.trial.id, evaluation["id"] or "computed"), {
        "resourceType": "Observation", "status": "final" if evaluation["final"] else "preliminary",
        "code": {"coding": [{"system": MEASURES, "code": "trial-outcome"}],
                 "text": f"{record.trial.therapy.upper()} trial outcome"},
        "subject": {"reference": patient_ref}, "effectiveDateTime": evaluation["evaluated_at"].isoformat(),
        "valueCodeableConcept": {"coding": [{"system": OUTCOMES, "code": evaluation["outcome"]}],
                                 "text": evaluation["outcome"].replace("_", " ")},
        "component": components,
    }


def _urn(*parts) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, ':'.join(map(str, parts)))}"
