"""A trial as a FHIR Bundle (collection), validated with fhir.resources' R4B (4.3) models.

fhir.resources 7+ ships the R4 line as R4B; the resources used here are the same in R4 (4.0.1) and R4B.
Pain scores carry LOINC 72514-3 (0-10 NRS); ODI, pain interference, symptoms and the trial evaluation have no
code we can vouch for here, so they use this service's own code systems. The pre-trial documentation is coded
as payers read it: ICD-10-CM Conditions, a CPT Procedure for the trial. The report itself is a DiagnosticReport
whose presentedForm is the PDF (the signed one once the decision exists); the decision is a ClinicalImpression
(it is the physician's assessment of the trial, whichever way it goes: a ServiceRequest would only fit an
implant), and a Provenance carries the signature. See docs/payer-packet.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from ..domain.documentation import MODALITIES, SCREENING_RESULTS
from ..domain.therapies import therapy
from . import TrialRecord
from . import blocks as block_fhir
from .wording import criterion_sentence, criterion_title, decision_words, outcome_words

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
MEASURES = "urn:trial-diary:measure"
OUTCOMES = "urn:trial-diary:trial-outcome"
SYMPTOMS = "urn:trial-diary:symptom"
DECISIONS = "urn:trial-diary:decision"
DOCUMENTATION = "urn:trial-diary:documentation"
SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
NAMESPACE = uuid.UUID("9a3c1f4e-5b7d-4c2a-8e1f-2d6b0a9c7e35")  # stable resource ids: one URN per record
# Metrics as the report prints them (docs/clinical-rules.md §2: relief and MME to 1 decimal, compliance to 3).
ROUNDED = (("pain_relief_percent", "%", 1), ("trial_pain", "{score}", 2), ("compliance", "1", 3),
           ("trial_mme", "mg/d", 1), ("trial_interference", "{score}", 2))
IMAGING_MODALITY = {"mri": "MR", "ct": "CT", "ct_myelogram": "CT", "x_ray": "DX"}
THERAPY = {"scs": "Spinal cord stimulator trial", "intrathecal": "Intrathecal drug delivery trial"}


def bundle(record: TrialRecord) -> dict[str, Any]:
    patient_ref = _urn("patient", record.patient.id)
    organization_ref = _urn("clinic", record.trial.clinic_id)
    resources = [_patient(record, patient_ref), _organization(record, organization_ref)]
    # A block: its Procedure, and its timepoints as Observations part of it, in place of the entries' own.
    block = block_fhir.fhir_resources(record, patient_ref) if therapy(record.trial.therapy).is_block else []
    resources += block
    for entry in record.entries:
        if entry.voided_at is not None or block:
            continue
        resources += _entry_resources(entry, patient_ref)
    conditions = _conditions(record, patient_ref)
    resources += conditions
    resources += _documentation(record, patient_ref, [url for url, _ in conditions])
    evaluation = _evaluation(record, patient_ref)
    resources.append(evaluation)
    practitioner = _signer(record)
    if practitioner:
        resources.append(practitioner)
    report = _diagnostic_report(record, patient_ref, organization_ref, evaluation[0],
                                practitioner[0] if practitioner else None)
    resources.append(report)
    if record.decision is not None:
        impression = _impression(record, patient_ref, evaluation[0], [url for url, _ in conditions],
                                 practitioner[0] if practitioner else None)
        resources.append(impression)
        if practitioner and record.decision.signed:
            resources.append(_provenance(record, [report[0], impression[0]], practitioner[0], organization_ref))
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
        "managingOrganization": {"reference": _urn("clinic", record.trial.clinic_id)},
    }


def _organization(record: TrialRecord, ref: str) -> tuple[str, dict]:
    organization: dict[str, Any] = {"resourceType": "Organization", "active": True, "name": record.clinic_name}
    if record.clinic_npi:
        organization["identifier"] = [{"system": NPI, "value": record.clinic_npi}]
    if record.clinic_address:
        lines = [line.strip() for line in record.clinic_address.splitlines() if line.strip()]
        organization["address"] = [{"text": ", ".join(lines), "line": lines}]
    return ref, organization


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
    for symptom in content.get("symptoms") or ():
        words = symptom.replace("_", " ")
        made.append((_urn("symptom", entry.id, symptom), {
            "resourceType": "Observation", "status": "final", "category": [SURVEY],
            "code": {"coding": [{"system": SYMPTOMS, "code": symptom, "display": words}],
                     "text": f"Symptom reported by the patient: {words}"},
            "subject": {"reference": patient_ref}, "effectiveDateTime": when, "valueBoolean": True,
        }))
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


def _conditions(record: TrialRecord, patient_ref: str) -> list[tuple[str, dict]]:
    """The indication: one Condition per ICD-10-CM code of the documentation."""
    made = []
    for indication in record.documentation.get("indications") or ():
        coding = {"system": ICD10CM, "code": indication["code"]}
        if indication.get("description"):
            coding["display"] = indication["description"]
        made.append((_urn("condition", record.trial.id, indication["code"]), {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "encounter-diagnosis"}]}],
            "code": {"coding": [coding], "text": indication.get("description") or indication["code"]},
            "subject": {"reference": patient_ref},
        }))
    return made


def _documentation(record: TrialRecord, patient_ref: str, conditions: list[str]) -> list[tuple[str, dict]]:
    """The trial procedure (CPT), the conservative care tried, the evaluations and the imaging before it."""
    trial, doc = record.trial, record.documentation
    subject = {"reference": patient_ref}
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "completed" if trial.start_at <= record.generated_at else "preparation",
        "code": {"coding": [{"system": CPT, "code": p["code"], **({"display": p["description"]}
                                                                  if p.get("description") else {})}
                            for p in doc.get("procedures") or ()],
                 "text": THERAPY.get(trial.therapy, trial.therapy.replace("_", " "))},
        "subject": subject, "performedPeriod": {"start": trial.start_at.isoformat(), "end": trial.end_at.isoformat()},
    }
    if not procedure["code"]["coding"]:
        del procedure["code"]["coding"]
    if conditions:
        procedure["reasonReference"] = [{"reference": c} for c in conditions]
    if trial.device:
        procedure["focalDevice"] = [{"manipulated": {"display": trial.device}}]
    made = [(_urn("trial-procedure", trial.id), procedure)]
    for index, treatment in enumerate(doc.get("conservative_treatments") or ()):
        made.append((_urn("conservative", trial.id, index), {
            "resourceType": "Procedure", "status": "completed",
            "category": {"text": "Conservative treatment before the trial"},
            "code": {"text": treatment["treatment"]}, "subject": subject,
            "performedString": f"for {treatment['duration']:g} {treatment['unit']}",
        }))
    if evaluation := doc.get("psychological_evaluation"):
        made.append(_fact(("psych", trial.id), subject, "psychological-evaluation",
                          "Psychological evaluation before an implant", evaluation["date"],
                          {"valueBoolean": evaluation["cleared"],
                           "performer": [{"display": evaluation["clinician"]}],
                           "note": [{"text": "cleared for the implant" if evaluation["cleared"] else "not cleared"}]}))
    if screening := doc.get("substance_use_screening"):
        made.append(_fact(("substance", trial.id), subject, "substance-use-screening", "Substance use screening",
                          screening["date"], {"valueCodeableConcept": {
                              "coding": [{"system": f"{DOCUMENTATION}:screening-result", "code": screening["result"]}],
                              "text": SCREENING_RESULTS[screening["result"]]}}))
    if doc.get("life_expectancy_months") is not None:
        made.append(_fact(("life", trial.id), subject, "life-expectancy", "Estimated life expectancy", None, {
            "valueQuantity": {"value": doc["life_expectancy_months"], "unit": "mo", "system": UCUM, "code": "mo"}}))
    for index, study in enumerate(doc.get("imaging") or ()):
        made.append((_urn("imaging", trial.id, index), {
            "resourceType": "ImagingStudy", "status": "available", "subject": subject, "started": study["date"],
            "modality": [{"system": DICOM, "code": IMAGING_MODALITY[study["modality"]]}],
            "description": " of the ".join(p for p in (MODALITIES[study["modality"]], study.get("region")) if p),
        }))
    return made


def _fact(key: tuple, subject: dict, code: str, text: str, day: str | None, value: dict) -> tuple[str, dict]:
    observation = {"resourceType": "Observation", "status": "final",
                   "code": {"coding": [{"system": DOCUMENTATION, "code": code}], "text": text}, "subject": subject,
                   **value}
    if day:
        observation["effectiveDateTime"] = day
    return _urn(*key), observation


def _evaluation(record: TrialRecord, patient_ref: str) -> tuple[str, dict]:
    evaluation = record.evaluation
    metrics = evaluation["metrics"]
    components = [
        {"code": {"coding": [{"system": MEASURES, "code": key}], "text": key.replace("_", " ")},
         "valueQuantity": {"value": round(metrics[key], places), "unit": unit, "system": UCUM, "code": unit}}
        for key, unit, places in ROUNDED if metrics.get(key) is not None
    ]
    components += [
        {"code": {"coding": [{"system": MEASURES, "code": f"criterion-{c['name']}"}], "text": criterion_title(c)},
         "valueCodeableConcept": {"coding": [{"system": f"{MEASURES}:criterion-status", "code": c["status"]}],
                                  "text": criterion_sentence(c)}}
        for c in evaluation["criteria"]
    ]
    return _urn("evaluation", record.trial.id, evaluation["id"] or "computed"), {
        "resourceType": "Observation", "status": "final" if evaluation["final"] else "preliminary",
        "code": {"coding": [{"system": MEASURES, "code": "trial-outcome"}],
                 "text": f"{record.trial.therapy.upper()} trial outcome"},
        "subject": {"reference": patient_ref}, "effectiveDateTime": evaluation["evaluated_at"].isoformat(),
        "valueCodeableConcept": {"coding": [{"system": OUTCOMES, "code": evaluation["outcome"]}],
                                 "text": outcome_words(evaluation["outcome"])},
        "component": components,
    }


def _signer(record: TrialRecord) -> tuple[str, dict] | None:
    decision = record.decision
    if decision is None:
        return None
    user = record.users.get(decision.physician_id)
    name = decision.signer_name or (user.display_name or user.email if user else "unknown")
    practitioner: dict[str, Any] = {"resourceType": "Practitioner", "active": True, "name": [{"text": name}]}
    if decision.signer_npi:
        practitioner["identifier"] = [{"system": NPI, "value": decision.signer_npi}]
    return _urn("practitioner", decision.physician_id), practitioner


def _diagnostic_report(record: TrialRecord, patient_ref: str, organization_ref: str, evaluation_ref: str,
                       practitioner_ref: str | None) -> tuple[str, dict]:
    decision, evaluation = record.decision, record.evaluation
    signed = decision is not None and decision.signed
    document = (record.signed_pdf() if signed else None) or _rendered(record)
    conclusion = f"Trial outcome: {outcome_words(evaluation['outcome'])}"
    conclusion += " (final evaluation)." if evaluation["final"] else " (interim evaluation)."
    if decision is not None:
        conclusion += f" Decision: {decision_words(decision.decision)}."
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final" if evaluation["final"] or signed else "preliminary",
        "code": {"coding": [{"system": MEASURES, "code": "trial-report"}],
                 "text": f"{THERAPY.get(record.trial.therapy, record.trial.therapy)} report"},
        "subject": {"reference": patient_ref},
        "effectivePeriod": {"start": record.trial.start_at.isoformat(), "end": record.trial.end_at.isoformat()},
        "issued": (decision.decided_at if signed else record.generated_at).isoformat(),
        "performer": [{"reference": organization_ref}],
        "result": [{"reference": evaluation_ref}],
        "conclusion": conclusion,
        "presentedForm": [{
            "contentType": "application/pdf", "language": "en-US", "data": base64.b64encode(document).decode(),
            "size": len(document), "hash": base64.b64encode(hashlib.sha1(document).digest()).decode(),  # noqa: S324
            "title": "Signed trial report" if signed else "Trial report",
        }],
    }
    if practitioner_ref:
        report["resultsInterpreter"] = [{"reference": practitioner_ref}]
    if signed:
        # FHIR's Attachment.hash is SHA-1 by definition; the signature's SHA-256 travels as an identifier.
        report["identifier"] = [{"system": "urn:trial-diary:signed-report-sha256", "value": decision.report_sha256}]
    return _urn("report", record.trial.id, decision.id if signed else "current"), report


def _impression(record: TrialRecord, patient_ref: str, evaluation_ref: str, conditions: list[str],
                practitioner_ref: str | None) -> tuple[str, dict]:
    decision = record.decision
    impression: dict[str, Any] = {
        "resourceType": "ClinicalImpression", "status": "completed",
        "code": {"coding": [{"system": DECISIONS, "code": "implant-decision"}],
                 "text": "Decision on a permanent implant after the trial"},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": decision.decided_at.isoformat(), "date": decision.decided_at.isoformat(),
        "investigation": [{"code": {"text": "Trial diary evaluation"}, "item": [{"reference": evaluation_ref}]}],
        "summary": f"{decision_words(decision.decision)}. {decision.rationale}",
        "finding": [{"itemCodeableConcept": {"coding": [{"system": DECISIONS, "code": decision.decision}],
                                             "text": decision_words(decision.decision)},
                     "basis": decision.rationale}],
    }
    if practitioner_ref:
        impression["assessor"] = {"reference": practitioner_ref}
    if conditions:
        impression["problem"] = [{"reference": c} for c in conditions]
    if decision.attestation:
        impression["note"] = [{"text": decision.attestation}]
    return _urn("decision", decision.id), impression


def _provenance(record: TrialRecord, targets: list[str], practitioner_ref: str,
                organization_ref: str) -> tuple[str, dict]:
    """The electronic signature: who (with NPI), when, what they attested, and the SHA-256 of the signed PDF."""
    decision = record.decision
    signed = {"statement": decision.attestation, "signer": decision.signer_name, "npi": decision.signer_npi,
              "signed_at": decision.decided_at.isoformat(), "report_sha256": decision.report_sha256}
    return _urn("provenance", decision.id), {
        "resourceType": "Provenance",
        "target": [{"reference": t} for t in targets],
        "recorded": decision.decided_at.isoformat(),
        "reason": [{"text": "Physician's decision on a permanent implant, with attestation"}],
        "agent": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                        "code": "author"}]},
                   "who": {"reference": practitioner_ref}, "onBehalfOf": {"reference": organization_ref}}],
        "signature": [{
            "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1",
                      "display": "Author's Signature"}],
            "when": decision.decided_at.isoformat(), "who": {"reference": practitioner_ref},
            "targetFormat": "application/pdf", "sigFormat": "application/json",
            "data": base64.b64encode(json.dumps(signed, sort_keys=True).encode()).decode(),
        }],
    }


def _rendered(record: TrialRecord) -> bytes:
    from .pdf import render  # the report module is heavy (reportlab, matplotlib): loaded when a Bundle needs it

    return render(record)


def _urn(*parts) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, ':'.join(map(str, parts)))}"
