"""The trial as a FHIR R4 (4.0.1) Bundle: a `collection` by default, a `document` (a Composition first: the signed
packet as one clinical document) or a `transaction` (conditional requests by identifier, postable to a FHIR server).

Resources claim US Core 6.1.0 profiles where one fits (Patient, Organization, Practitioner, Condition, Procedure,
Observation, DiagnosticReport, DocumentReference); the others claim their R4 definition. See
docs/payer-packet.md for what each resource carries and which codes are standard.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from ...domain.documentation import MODALITIES, SCREENING_RESULTS
from ...domain.therapies import REGISTRY
from .. import TrialRecord
from ..blocks import target_words
from ..wording import criterion_sentence, criterion_title, outcome_words
from . import terms
from .diary import Block, Context, entry_resources
from .identity import Identity, reference, us_core
from .terms import (
    CONDITION_CATEGORY,
    CPT,
    DIAGNOSTIC_SECTION,
    DICOM,
    EXAM,
    ICD10CM,
    NPI,
    PROCEDURE_NOTE,
    SURVEY,
    THERAPY,
    URI,
    US_CORE_DOCUMENT_CATEGORY,
    coding,
    quantity,
)

CONTENT_TYPE = "application/fhir+json; fhirVersion=4.0"
BUNDLE_TYPES = ("collection", "document", "transaction")
# Metrics as the report prints them (docs/clinical-rules.md §2: relief and MME to 1 decimal, compliance to 3).
ROUNDED = (("pain_relief_percent", "%", "%", 1), ("trial_pain", "{score}", "{score}", 2), ("compliance", "1", "1", 3),
           ("trial_mme", "mg/d", "mg/d", 1), ("trial_interference", "{score}", "{score}", 2))
IMAGING_MODALITY = {"mri": "MR", "ct": "CT", "ct_myelogram": "CT", "x_ray": "DX"}
PROCEDURE_STATUS = {"scheduled": "preparation", "active": "in-progress", "ended": "completed",
                    "decided": "completed"}
NAME_PREFIXES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof"})
# Reference data an EHR already holds is created only when absent; the trial's own data is created or updated.
CREATE_IF_ABSENT = frozenset({"Patient", "Organization", "Practitioner"})


def bundle(record: TrialRecord, bundle_type: str = "collection") -> dict[str, Any]:
    export = _TrialExport(record)
    resources = export.resources()
    if bundle_type == "document":
        return export.document(resources)
    if bundle_type == "transaction":
        return export.transaction(resources)
    return export.wrap("collection", resources)


def name_parts(full: str) -> dict[str, Any]:
    """A name as one line ("Dr. Maya Chen, PsyD") in FHIR's parts: the last word is taken for the family name,
    the words before it for the given names; the whole line stays as text."""
    head, _, suffix = full.partition(",")
    words = head.split()
    name: dict[str, Any] = {"use": "official", "text": full.strip()}
    if words and words[0].rstrip(".").lower() in NAME_PREFIXES and len(words) > 1:
        name["prefix"] = [words.pop(0)]
    if words:
        name["family"] = words[-1]
    if len(words) > 1:
        name["given"] = words[:-1]
    if suffix.strip():
        name["suffix"] = [suffix.strip()]
    return name


class _TrialExport:
    def __init__(self, record: TrialRecord):
        self.record = record
        self.trial = record.trial
        self.therapy = REGISTRY[record.trial.therapy]
        self.clinic = record.patient.clinic
        self.identity = Identity(self.clinic.public_id)
        self.base = record.fhir_base
        self.patient_url = self.identity.url("patient", record.patient.id)
        self.organization_url = self.identity.url("organization")
        self.patient = reference(self.patient_url)
        self.status = self.trial.status_at(record.generated_at)
        self.sections: dict[str, list[str]] = {}  # the document's sections: title -> fullUrls

    # --- the whole ----------------------------------------------------------------------------------------

    def resources(self) -> list[tuple[str, dict[str, Any]]]:
        record = self.record
        made = [self._patient(), self._organization()]
        conditions = self._conditions()
        procedure = self._procedure([url for url, _ in conditions])
        made += self._section("Indications and pre-trial documentation", [
            *conditions, procedure, *self._conservative_treatments(), *self._documentation_facts(),
            *self._imaging()])
        block = self._block(procedure[0]) if self.therapy.is_block else None
        context = Context(self.identity, self.base, self.patient)
        diary = [made for entry in record.entries for made in entry_resources(context, entry, block)]
        made += self._section("Trial diary", diary)
        evaluation = self._evaluation()
        practitioner = self._signer()
        report = self._diagnostic_report(evaluation[0], practitioner)
        made += self._section("Result", [evaluation, report, self._document_reference(report, practitioner)])
        if practitioner:
            made.append(practitioner)
        if record.decision is not None:
            impression = self._impression(evaluation[0], [url for url, _ in conditions], practitioner)
            decision = [impression]
            if practitioner and record.decision.signed:
                decision.append(self._provenance([report[0], impression[0]], practitioner[0]))
            made += self._section("Decision", decision)
        return made

    def _section(self, title: str, made: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
        self.sections[title] = [url for url, _ in made]
        return made

    def wrap(self, bundle_type: str, resources: list[tuple[str, dict]], **more: Any) -> dict[str, Any]:
        return {
            "resourceType": "Bundle", "id": self.identity.uuid("bundle", bundle_type, self.trial.id),
            "meta": {"profile": [f"http://hl7.org/fhir/StructureDefinition/Bundle|{terms.FHIR_VERSION}"],
                     "lastUpdated": self.record.generated_at.isoformat()},
            "identifier": self.identity.identifier("bundle", bundle_type, self.trial.id),
            "type": bundle_type, "timestamp": self.record.generated_at.isoformat(),
            "entry": [{"fullUrl": url, "resource": resource, **more.get(url, {})} for url, resource in resources],
        }

    def document(self, resources: list[tuple[str, dict]]) -> dict[str, Any]:
        """The packet as one clinical document: the Composition first, its sections pointing at the rest."""
        report = next(r for _, r in resources if r["resourceType"] == "DiagnosticReport")
        decision, signed = self.record.decision, self._signed()
        author = next((url for url, r in resources if r["resourceType"] == "Practitioner"), self.organization_url)
        version = (report["status"], self.record.evaluation["id"], decision.id if decision else None)
        composition: dict[str, Any] = {
            "resourceType": "Composition", "identifier": self.identity.identifier("composition", self.trial.id),
            "status": {"preliminary": "preliminary", "final": "final", "amended": "amended"}[report["status"]],
            "type": {"coding": [PROCEDURE_NOTE], "text": f"{self.therapy.title} report"},
            "category": [{"coding": [{"system": US_CORE_DOCUMENT_CATEGORY, "code": "clinical-note",
                                      "display": "Clinical Note"}]}],
            "subject": self.patient, "date": (decision.decided_at if signed else self.record.generated_at).isoformat(),
            "author": [reference(author)], "title": f"{self.therapy.title} report",
            "custodian": reference(self.organization_url),
            "section": [{"title": title, "entry": [reference(url) for url in urls]}
                        for title, urls in self.sections.items() if urls],
        }
        if signed:
            composition["attester"] = [{"mode": "legal", "time": decision.decided_at.isoformat(),
                                        "party": reference(author)}]
        made = self.identity.resource(("composition", self.trial.id), composition)
        document = self.wrap("document", [made, *resources])
        # A document's identity changes with its version: a new report status or decision is a new document.
        document["identifier"] = self.identity.identifier("document", self.trial.id, *version)
        return document

    def transaction(self, resources: list[tuple[str, dict]]) -> dict[str, Any]:
        """Conditional requests: reference data (patient, clinic, signer) created only when no resource has its
        identifier (the MRN, the NPI); the trial's own resources created or updated by their identifier."""
        requests = {}
        stripped = []
        for url, resource in resources:
            kind = resource["resourceType"]
            resource = {k: v for k, v in resource.items() if k != "id"}  # the server names what it creates
            identifier = (resource.get("identifier") or [None])[0]
            if kind == "Provenance":  # no identifier in R4: the signature's own id, created once
                request = {"method": "PUT", "url": f"Provenance/{url.removeprefix('urn:uuid:')}"}
            elif kind in CREATE_IF_ABSENT:
                request = {"method": "POST", "url": kind, "ifNoneExist": _search(identifier)}
            else:
                request = {"method": "PUT", "url": f"{kind}?{_search({'system': URI, 'value': url})}"}
            requests[url] = {"request": request}
            stripped.append((url, resource))
        return self.wrap("transaction", stripped, **requests)

    # --- who -----------------------------------------------------------------------------------------------

    def _patient(self) -> tuple[str, dict]:
        patient = self.record.patient
        return self.identity.resource(("patient", patient.id), {
            "resourceType": "Patient",
            "identifier": [{"use": "usual", "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR",
                "display": "Medical record number"}]},
                "system": self.clinic.mrn_identifier_system, "value": patient.mrn,
                "assigner": reference(self.organization_url, self.record.clinic_name)}],
            "active": True, "name": [name_parts(patient.display_name)], "gender": patient.gender,
            "birthDate": patient.date_of_birth.isoformat(),
            "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}]}}],
            "managingOrganization": reference(self.organization_url),
        }, us_core("us-core-patient"))

    def _organization(self) -> tuple[str, dict]:
        organization: dict[str, Any] = {"resourceType": "Organization", "active": True,
                                        "name": self.record.clinic_name}
        if self.record.clinic_npi:
            organization["identifier"] = [{"system": NPI, "value": self.record.clinic_npi}]
        if self.clinic.phone:
            organization["telecom"] = [{"system": "phone", "value": self.clinic.phone, "use": "work"}]
        if self.record.clinic_address:
            lines = [line.strip() for line in self.record.clinic_address.splitlines() if line.strip()]
            organization["address"] = [{"text": ", ".join(lines), "line": lines}]
        return self.identity.resource(("organization",), organization, us_core("us-core-organization"))

    def _signer(self) -> tuple[str, dict] | None:
        decision = self.record.decision
        if decision is None:
            return None
        user = self.record.users.get(decision.physician_id)
        name = decision.signer_name or (user.display_name or user.email if user else "unknown")
        practitioner: dict[str, Any] = {"resourceType": "Practitioner", "active": True, "name": [name_parts(name)]}
        npi = decision.signer_npi or (user.npi if user else None)
        if npi:
            practitioner["identifier"] = [{"system": NPI, "value": npi}]
        return self.identity.resource(("practitioner", decision.physician_id), practitioner,
                                      us_core("us-core-practitioner"))

    # --- before the trial ---------------------------------------------------------------------------------

    def _conditions(self) -> list[tuple[str, dict]]:
        """The indication: one problem-list Condition per ICD-10-CM code of the documentation."""
        made = []
        for indication in self.record.documentation.get("indications") or ():
            code = {"system": ICD10CM, "code": indication["code"]}
            if indication.get("description"):
                code["display"] = indication["description"]
            made.append(self.identity.resource(("condition", self.trial.id, indication["code"]), {
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                               "code": "active", "display": "Active"}]},
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed",
                    "display": "Confirmed"}]},
                "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item",
                                          "display": "Problem List Item"}]}],
                "code": {"coding": [code], "text": indication.get("description") or indication["code"]},
                "subject": self.patient,
            }, us_core("us-core-condition-problems-health-concerns")))
        return made

    def _procedure(self, conditions: list[str]) -> tuple[str, dict]:
        """The trial, or the block: one Procedure, coded with the CPT codes documented and the therapy."""
        trial, doc = self.trial, self.record.documentation
        codes = [{"system": CPT, "code": p["code"], **({"display": p["description"]} if p.get("description") else {})}
                 for p in doc.get("procedures") or ()]
        procedure: dict[str, Any] = {
            "resourceType": "Procedure",
            "code": {"coding": [*codes, coding(self.base, terms.THERAPY_CODES, trial.therapy)],
                     "text": self.therapy.title},
            "subject": self.patient,
        }
        if self.therapy.is_block:
            given = trial.start_at <= self.record.generated_at
            procedure["status"] = ("completed" if given else "preparation") if trial.closure != "cancelled" else (
                "stopped" if given else "not-done")
            if given:
                procedure["performedDateTime"] = trial.start_at.isoformat()
            target = trial.target or {}
            procedure["bodySite"] = [{"text": target_words(target)}]
            if trial.agent:
                procedure["usedCode"] = [{"coding": [coding(self.base, terms.LOCAL_ANAESTHETIC, trial.agent)],
                                          "text": trial.agent}]
        else:
            procedure["status"] = self._procedure_status()
            if procedure["status"] in ("in-progress", "completed", "stopped"):
                period = {"start": trial.start_at.isoformat()}
                if procedure["status"] == "completed":
                    period["end"] = min(trial.end_at, trial.closed_at or trial.end_at).isoformat()
                elif procedure["status"] == "stopped" and trial.closed_at:
                    period["end"] = trial.closed_at.isoformat()
                procedure["performedPeriod"] = period
            if trial.device:
                procedure["focalDevice"] = [{"manipulated": {"display": trial.device}}]
        if conditions:
            procedure["reasonReference"] = [reference(c) for c in conditions]
        return self.identity.resource(("trial-procedure", trial.id), procedure, us_core("us-core-procedure"))

    def _procedure_status(self) -> str:
        """preparation before the start, in-progress while the diary runs, completed once it ended or was decided;
        a cancelled trial stopped (or was not done, when cancelled before it started)."""
        if self.status == "cancelled":
            return "stopped" if self.trial.start_at <= (self.trial.closed_at or self.record.generated_at) \
                else "not-done"
        return PROCEDURE_STATUS[self.status]

    def _block(self, procedure_url: str) -> Block:
        return Block(procedure_url, self.trial.start_at, self.trial.end_at, self.trial.baseline["pain"],
                     self.record.evaluation["protocol"]["relief_measure"])

    def _conservative_treatments(self) -> list[tuple[str, dict]]:
        return [self.identity.resource(("conservative", self.trial.id, index), {
            "resourceType": "Procedure", "status": "completed",
            "category": {"text": "Conservative treatment before the trial"},
            "code": {"text": treatment["treatment"]}, "subject": self.patient,
            "performedString": f"for {treatment['duration']:g} {treatment['unit']}",
        }, us_core("us-core-procedure")) for index, treatment in enumerate(
            self.record.documentation.get("conservative_treatments") or ())]

    def _documentation_facts(self) -> list[tuple[str, dict]]:
        doc, made = self.record.documentation, []
        fact = lambda code: {"coding": [coding(self.base, terms.DOCUMENTATION, code)],  # noqa: E731
                             "text": terms.DOCUMENTATION.display(code)}
        screening = us_core("us-core-observation-screening-assessment")
        if evaluation := doc.get("psychological_evaluation"):
            made.append(self.identity.resource(("psych", self.trial.id), {
                "resourceType": "Observation", "status": "final", "category": [SURVEY],
                "code": fact("psychological-evaluation"), "subject": self.patient,
                "effectiveDateTime": evaluation["date"], "performer": [{"display": evaluation["clinician"]}],
                "valueBoolean": evaluation["cleared"],
                "note": [{"text": "cleared for the implant" if evaluation["cleared"] else "not cleared"}],
            }, screening))
        if screening_result := doc.get("substance_use_screening"):
            made.append(self.identity.resource(("substance", self.trial.id), {
                "resourceType": "Observation", "status": "final", "category": [SURVEY],
                "code": fact("substance-use-screening"), "subject": self.patient,
                "effectiveDateTime": screening_result["date"],
                "valueCodeableConcept": {"coding": [coding(self.base, terms.SCREENING_RESULT,
                                                           screening_result["result"])],
                                         "text": SCREENING_RESULTS[screening_result["result"]]},
            }, screening))
        if doc.get("life_expectancy_months") is not None:
            estimated = self.record.documentation_updated_at or self.record.generated_at
            made.append(self.identity.resource(("life", self.trial.id), {
                "resourceType": "Observation", "status": "final", "category": [EXAM],
                "code": fact("life-expectancy"), "subject": self.patient,
                "effectiveDateTime": estimated.isoformat(),
                "valueQuantity": quantity(doc["life_expectancy_months"], "mo"),
            }, us_core("us-core-simple-observation")))
        return made

    def _imaging(self) -> list[tuple[str, dict]]:
        return [self.identity.resource(("imaging", self.trial.id, index), {
            "resourceType": "ImagingStudy", "status": "available", "subject": self.patient,
            "started": study["date"],
            "modality": [{"system": DICOM, "code": IMAGING_MODALITY[study["modality"]]}],
            "description": " of the ".join(p for p in (MODALITIES[study["modality"]], study.get("region")) if p),
        }) for index, study in enumerate(self.record.documentation.get("imaging") or ())]

    # --- the result ------------------------------------------------------------------------------------------

    def _evaluation(self) -> tuple[str, dict]:
        """One outcome Observation per trial, preliminary until the final evaluation: a re-export updates it."""
        evaluation = self.record.evaluation
        metrics = evaluation["metrics"]
        components = [
            {"code": {"coding": [coding(self.base, terms.TRIAL_EVALUATION, key)],
                      "text": terms.METRICS[key]},
             "valueQuantity": quantity(round(metrics[key], places), unit, code)}
            for key, unit, code, places in ROUNDED if metrics.get(key) is not None
        ]
        components += [
            {"code": {"coding": [coding(self.base, terms.TRIAL_EVALUATION, f"criterion-{c['name']}")],
                      "text": criterion_title(c)},
             "valueCodeableConcept": {"coding": [coding(self.base, terms.CRITERION_STATUS, c["status"])],
                                      "text": criterion_sentence(c)}}
            for c in evaluation["criteria"]
        ]
        outcome = coding(self.base, terms.TRIAL_OUTCOME, evaluation["outcome"])
        outcome["display"] = outcome_words(evaluation["outcome"], self.trial.therapy)
        return self.identity.resource(("evaluation", self.trial.id), {
            "resourceType": "Observation", "status": "final" if evaluation["final"] else "preliminary",
            "category": [THERAPY],
            "code": {"coding": [coding(self.base, terms.TRIAL_EVALUATION, "trial-outcome")],
                     "text": f"{self.therapy.title}: outcome"},
            "subject": self.patient, "effectiveDateTime": evaluation["evaluated_at"].isoformat(),
            "valueCodeableConcept": {"coding": [outcome], "text": outcome["display"]},
            "component": components,
        }, us_core("us-core-simple-observation"))

    def _signed(self) -> bool:
        return self.record.decision is not None and self.record.decision.signed

    def _report_status(self) -> str:
        """preliminary until the final evaluation, final with it, amended once the decision is signed on it (the
        decision and signature are added to a final report); a decision signed on an interim evaluation makes the
        report final (no final evaluation follows a decision)."""
        final = self.record.evaluation["final"]
        if self._signed():
            return "amended" if final else "final"
        return "final" if final else "preliminary"

    def _report_pdf(self) -> tuple[bytes, str]:
        signed = self._signed()
        document = (self.record.signed_pdf() if signed else None) or _rendered(self.record)
        return document, "Signed trial report" if signed else "Trial report"

    def _attachment(self) -> dict[str, Any]:
        document, title = self._report_pdf()
        return {"contentType": "application/pdf", "language": "en-US", "data": base64.b64encode(document).decode(),
                "size": len(document),
                "hash": base64.b64encode(hashlib.sha1(document).digest()).decode(),  # noqa: S324 (FHIR's SHA-1)
                "title": title, "creation": self._issued()}

    def _issued(self) -> str:
        return (self.record.decision.decided_at if self._signed() else self.record.generated_at).isoformat()

    def _diagnostic_report(self, evaluation_url: str, practitioner: tuple[str, dict] | None) -> tuple[str, dict]:
        """One report per trial (a re-export updates it): preliminary, then final, then amended when signed."""
        decision, evaluation = self.record.decision, self.record.evaluation
        conclusion = f"Trial outcome: {outcome_words(evaluation['outcome'], self.trial.therapy)}"
        conclusion += " (final evaluation)." if evaluation["final"] else " (interim evaluation)."
        if decision is not None:
            conclusion += f" Decision: {self.therapy.decision_words(decision.decision)}."
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport", "status": self._report_status(),
            "category": [{"coding": [{"system": DIAGNOSTIC_SECTION, "code": "PHY",
                                      "display": "Physician (Hx. Dx, admission note, etc.)"}]}],
            "code": {"coding": [PROCEDURE_NOTE, coding(self.base, terms.TRIAL_EVALUATION, "trial-report")],
                     "text": f"{self.therapy.title} report"},
            "subject": self.patient,
            "effectivePeriod": self._period(), "issued": self._issued(),
            "performer": [reference(self.organization_url)], "result": [reference(evaluation_url)],
            "conclusion": conclusion, "presentedForm": [self._attachment()],
        }
        if practitioner:
            report["resultsInterpreter"] = [reference(practitioner[0])]
        if self._signed():
            # FHIR's Attachment.hash is SHA-1 by definition; the signed PDF's SHA-256 travels as an identifier, a
            # URI naming the bytes by their hash (RFC 6920: ni:///sha-256;<base64url>).
            digest = base64.urlsafe_b64encode(bytes.fromhex(decision.report_sha256)).decode().rstrip("=")
            report["identifier"] = [{"system": URI, "value": f"ni:///sha-256;{digest}"}]
        return self.identity.resource(("report", self.trial.id), report, us_core("us-core-diagnosticreport-note"))

    def _period(self) -> dict[str, str]:
        """The trial's diary window; open while it runs, closed at the planned end or at an earlier decision."""
        period = {"start": self.trial.start_at.isoformat()}
        if self.status not in ("scheduled", "active"):
            period["end"] = min(self.trial.end_at, self.trial.closed_at or self.trial.end_at).isoformat()
        return period

    def _document_reference(self, report: tuple[str, dict], practitioner: tuple[str, dict] | None) \
            -> tuple[str, dict]:
        """The report's PDF (the signed one once signed) as US Core's DocumentReference: what an EHR files."""
        status = report[1]["status"]
        return self.identity.resource(("document-reference", self.trial.id), {
            "resourceType": "DocumentReference", "status": "current", "docStatus": status,
            "type": {"coding": [PROCEDURE_NOTE], "text": f"{self.therapy.title} report"},
            "category": [{"coding": [{"system": US_CORE_DOCUMENT_CATEGORY, "code": "clinical-note",
                                      "display": "Clinical Note"}]}],
            "subject": self.patient, "date": self._issued(),
            "author": [reference(practitioner[0] if practitioner else self.organization_url)],
            "custodian": reference(self.organization_url),
            **({"authenticator": reference(practitioner[0])} if practitioner and self._signed() else {}),
            "description": report[1]["conclusion"],
            "content": [{"attachment": report[1]["presentedForm"][0]}],
            "context": {"period": self._period(), "related": [reference(report[0])]},
        }, us_core("us-core-documentreference"))

    # --- the decision ----------------------------------------------------------------------------------------

    def _impression(self, evaluation_url: str, conditions: list[str],
                    practitioner: tuple[str, dict] | None) -> tuple[str, dict]:
        decision = self.record.decision
        words = self.therapy.decision_words(decision.decision)
        impression: dict[str, Any] = {
            "resourceType": "ClinicalImpression", "status": "completed",
            "code": {"coding": [coding(self.base, terms.DECISION, "trial-decision")],
                     "text": self.therapy.decision_question},
            "subject": self.patient,
            "effectiveDateTime": decision.decided_at.isoformat(), "date": decision.decided_at.isoformat(),
            "investigation": [{"code": {"text": "Trial diary evaluation"}, "item": [reference(evaluation_url)]}],
            "summary": f"{words}. {decision.rationale}",
            "finding": [{"itemCodeableConcept": {
                "coding": [{**coding(self.base, terms.DECISION, decision.decision), "display": words}],
                "text": words}, "basis": decision.rationale}],
        }
        if practitioner:
            impression["assessor"] = reference(practitioner[0])
        if conditions:
            impression["problem"] = [reference(c) for c in conditions]
        if decision.attestation:
            impression["note"] = [{"text": decision.attestation}]
        return self.identity.resource(("decision", decision.id), impression)

    def _provenance(self, targets: list[str], practitioner_url: str) -> tuple[str, dict]:
        """The electronic signature: who (with NPI), when, what they attested, and the SHA-256 of the signed PDF."""
        decision = self.record.decision
        signed = {"statement": decision.attestation, "signer": decision.signer_name, "npi": decision.signer_npi,
                  "signed_at": decision.decided_at.isoformat(), "report_sha256": decision.report_sha256}
        return self.identity.resource(("provenance", decision.id), {
            "resourceType": "Provenance",
            "target": [reference(t) for t in targets],
            "recorded": decision.decided_at.isoformat(),
            "reason": [{"text": f"{self.therapy.decision_question}, signed with an attestation"}],
            "agent": [{"type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author",
                "display": "Author"}]},
                "who": reference(practitioner_url), "onBehalfOf": reference(self.organization_url)}],
            "signature": [{
                "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1",
                          "display": "Author's Signature"}],
                "when": decision.decided_at.isoformat(), "who": reference(practitioner_url),
                "targetFormat": "application/pdf", "sigFormat": "application/json",
                "data": base64.b64encode(json.dumps(signed, sort_keys=True).encode()).decode(),
            }],
        })


def _search(identifier: dict[str, str]) -> str:
    return f"identifier={identifier['system']}|{identifier['value']}"


def _rendered(record: TrialRecord) -> bytes:
    from ..pdf import render  # the report module is heavy (reportlab, matplotlib): loaded when a Bundle needs it

    return render(record)
