"""FHIR that an EHR can file (issue 21): R4 4.0.1 checked by validators this project did not write (HL7's R4 JSON
schema, every R4 invariant through fhirpath.js, NLM's UCUM library, medplum's validateResource:
tools/fhir-validate.js, one Node process for every Bundle), the required elements of each US Core 6.1 profile
claimed, every diary field coded, stable identity, the document and transaction Bundles, and the project's code
systems served at their canonical URLs.

The Bundles are built once per backend (module scope) and only read by the tests."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.extensions import db
from api.models import Clinic

from ..conftest import ApiClient, drain, entry, make_world, unavailable
from .test_blocks import block_body, the_example
from .test_decision_and_exports import worked_trial
from .test_payer_packet import DECISION, DOCUMENTATION

TOOLS = Path(__file__).resolve().parents[2] / "tools"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
EVERY_DAILY_FIELD = {
    "pain": {"score": 4, "worst_24h": 7, "least_24h": 2},
    "function": {"interference": 3.5, "steps": 4210, "sleep_hours": 6.5, "odi": 30},
    "stimulation": {"program": "P2 low back", "coverage_percent": 75, "satisfaction": 8},
    "temperature_c": 37.2, "pgic": 2, "note": "Walked to the mailbox twice.", "symptoms": ["itching"],
    "medications": [{"name": "Oxycodone", "dose": 5, "unit": "mg", "route": "oral"},
                    {"name": "fentanyl", "dose": 12, "unit": "mcg/h", "route": "transdermal"},
                    {"name": "gabapentin", "dose": 300, "unit": "mg"}],
}


@pytest.fixture(scope="module")
def exports(app):
    """Bundles of a running SCS trial (twice), an SCS trial before and after its signed decision (collection,
    document, transaction), an intrathecal trial and a medial branch block with its decision."""
    client = app.test_client()
    world = make_world(app, client)
    nurse, physician, patient = world.as_nurse, world.as_physician, world.as_patient
    admin = world.as_admin
    assert admin.patch("/clinic", json={"address": "1200 Riverside Drive\nColumbus, OH 43215",
                                        "npi": "1245319599"}).status_code == 200
    now = datetime.now(UTC).replace(microsecond=0)
    fhir = lambda trial_id, kind="collection": nurse.get(f"/trials/{trial_id}/fhir?type={kind}")  # noqa: E731
    made: dict[str, dict] = {}

    # A running SCS trial with every daily field, exported twice.
    running = world.trial_id
    assert patient.post(f"/trials/{running}/entries", json=entry(now - timedelta(hours=2),
                                                                 **EVERY_DAILY_FIELD)).status_code == 201
    twice = patient.post(f"/trials/{running}/entries", json=entry(now - timedelta(hours=1), medications=[
        {"name": "morphine", "dose": 15, "unit": "mg", "route": "oral"}])).get_json()
    voided = patient.delete(f"/trials/{running}/entries/{twice['id']}", json={"reason": "entered twice"})
    assert voided.status_code == 200
    drain(app)
    first = fhir(running)
    made["running"], made["running_again"] = first.get_json(), fhir(running).get_json()
    made["content_type"] = {"value": first.content_type}

    # The worked SCS example: ended, documented; before and after the signed decision.
    scs = worked_trial(world, app)
    assert nurse.put(f"/trials/{scs}/documentation", json=DOCUMENTATION).status_code == 200
    made["scs_before"] = fhir(scs).get_json()
    assert physician.post(f"/trials/{scs}/decision", json=DECISION).status_code == 201
    for kind in ("collection", "document", "transaction"):
        made[f"scs_signed_{kind}"] = fhir(scs, kind).get_json()
    made["signed_pdf"] = {"data": base64.b64encode(nurse.get(f"/trials/{scs}/decision/signed-report.pdf").data)
                          .decode()}

    # An intrathecal trial: hourly entries with the sedation score, temperature, symptoms and medicines.
    start = now - timedelta(hours=6)
    pump = nurse.post("/trials", json={"patient_id": world.patient_id, "therapy": "intrathecal",
                                       "start_at": start.isoformat(), "end_at": (start + timedelta(hours=24))
                                       .isoformat(), "baseline": {"pain": 8}}).get_json()
    assert nurse.put(f"/trials/{pump['id']}/documentation", json={
        **DOCUMENTATION, "procedures": [{"code": "62323"}], "life_expectancy_months": 18}).status_code == 200
    hourly = [entry(start + timedelta(hours=h), 5 - h // 2, sedation_score=1 + h % 2, temperature_c=36.8,
                    symptoms=["nausea"] if h == 2 else [],
                    medications=[{"name": "morphine", "dose": 0.2, "unit": "mg", "route": "intrathecal"}])
              for h in range(1, 5)]
    assert patient.post(f"/trials/{pump['id']}/entries/batch", json={"entries": hourly}).status_code == 200
    drain(app)
    made["intrathecal"] = fhir(pump["id"]).get_json()

    # A medial branch block: timepoints, then symptoms and a medicine in one of them; decided.
    block_start = now - timedelta(hours=10)
    block = nurse.post("/trials", json=block_body(world, block_start, agent="bupivacaine",
                                                  care_team=[world.nurse_id, world.physician_id])).get_json()
    timepoints = the_example(block_start)
    timepoints[-1].update(symptoms=["positional_headache"],
                          medications=[{"name": "hydrocodone", "dose": 5, "unit": "mg", "route": "oral"}])
    assert patient.post(f"/trials/{block['id']}/entries/batch", json={"entries": timepoints}).status_code == 200
    assert nurse.put(f"/trials/{block['id']}/documentation", json={
        "indications": [{"code": "M47.816"}], "procedures": [{"code": "64493"}]}).status_code == 200
    drain(app)
    assert physician.post(f"/trials/{block['id']}/decision", json={
        "decision": "implant", "rationale": "Relief of 87.5 % lasting past the agent's duration."}).status_code == 201
    made["block"] = fhir(block["id"]).get_json()
    with app.app_context():
        made["clinic"] = {"public_id": db.session.query(Clinic).filter_by(name="Clinic A").one().public_id,
                          "db_id": db.session.query(Clinic).filter_by(name="Clinic A").one().id}
    return made


BUNDLES = ("running", "scs_before", "scs_signed_collection", "scs_signed_document", "scs_signed_transaction",
           "intrathecal", "block")


def resources(bundle: dict, kind: str | None = None) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def code_of(resource: dict) -> str:
    return resource["code"]["coding"][0]["code"]


def observations(bundle: dict, code: str) -> list[dict]:
    return [r for r in resources(bundle, "Observation") if any(c["code"] == code for c in r["code"].get("coding", ()))]


# --- R4 itself, by independent validators ------------------------------------------------------------------

def test_every_bundle_passes_the_r4_schema_every_r4_invariant_and_ucum(exports, tmp_path):
    """One Node run over every Bundle, and over two broken copies that show the validators are not vacuous: an
    element R4 does not have, a broken invariant (pat-1, per-1), a unit that is not UCUM and a missing required
    element (medplum's validator) each fail."""
    if shutil.which("node") is None:
        unavailable("node is not installed: the FHIR validators of tools/package.json need Node 20 or later")
    if not (TOOLS / "node_modules" / "fhirpath").is_dir():
        unavailable("the FHIR validators are not installed: run scripts/bootstrap (npm ci in tools/)")
    broken = json.loads(json.dumps(exports["running"]))
    resources(broken, "Patient")[0]["contact"] = [{"gender": "female"}]  # pat-1: details or an organization
    observations(broken, "72514-3")[0]["valueQuantity"]["code"] = "score points"
    resources(broken, "Procedure")[0]["performedPeriod"] = {"start": "2026-11-05T10:00:00+00:00",
                                                            "end": "2026-11-01T10:00:00+00:00"}  # per-1
    del observations(broken, "itching")[0]["code"]  # Observation.code is 1..1 in R4
    not_r4 = json.loads(json.dumps(exports["running"]))
    not_r4["entry"][0]["resource"]["birthSex"] = "F"  # not an element of R4's Patient
    del not_r4["entry"][0]["resource"]["gender"]  # US Core's Patient: gender 1..1, a name in parts (us-core-6)
    not_r4["entry"][0]["resource"]["name"] = [{"text": "Only Text"}]
    files = []
    for name, bundle in [*((name, exports[name]) for name in BUNDLES), ("broken", broken), ("not_r4", not_r4)]:
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(bundle))
    done = subprocess.run([shutil.which("node"), str(TOOLS / "fhir-validate.js"), *map(str, files)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.startswith("{"), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert {name: report[f"{name}.json"] for name in BUNDLES} == {name: [] for name in BUNDLES}
    said = "\n".join(report["broken.json"])
    assert "pat-1" in said and "per-1" in said and "not a UCUM code" in said
    assert "medplum: Bundle.entry" in said and "code Missing required property" in said
    assert any(problem.startswith("schema:") for problem in report["not_r4.json"])
    us_core = [problem for problem in report["not_r4.json"] if problem.startswith("us-core:")]
    assert any("us-core-6" in p for p in us_core) and any("Patient.gender Missing" in p for p in us_core)
    assert done.returncode == 1  # the broken copies


# --- US Core 6.1 --------------------------------------------------------------------------------------------

def _path(resource: dict, path: str):
    """Values at a dotted path (lists flattened); `a|b` is either."""
    if "|" in path:
        return [v for option in path.split("|") for v in _path(resource, option)]
    values = [resource]
    for name in path.split("."):
        values = [item for value in values if isinstance(value, dict) and name in value
                  for item in (value[name] if isinstance(value[name], list) else [value[name]])]
    return values


# Each US Core 6.1.0 profile's mandatory elements (cardinality 1.. in the profile; us-core-6 for the Patient's
# name; a category of the profile's slice; the value sets its required bindings name).
REQUIRED = {
    "us-core-patient": ["identifier.system", "identifier.value", "name.family|name.given", "gender"],
    "us-core-organization": ["active", "name"],
    "us-core-practitioner": ["identifier.system", "identifier.value", "name.family"],
    "us-core-condition-problems-health-concerns": ["category.coding.code", "code", "subject.reference"],
    "us-core-procedure": ["status", "code", "subject.reference"],
    "us-core-observation-screening-assessment": ["status", "category.coding.code", "code", "subject.reference"],
    "us-core-simple-observation": ["status", "category.coding.code", "code", "subject.reference",
                                   "effectiveDateTime|effectivePeriod"],
    "us-core-body-temperature": ["status", "category.coding.code", "code.coding.code", "subject.reference",
                                 "effectiveDateTime", "valueQuantity.value", "valueQuantity.code"],
    "us-core-diagnosticreport-note": ["status", "category.coding.code", "code.coding.code", "subject.reference",
                                      "effectivePeriod|effectiveDateTime", "issued"],
    "us-core-documentreference": ["status", "type.coding.code", "category.coding.code", "subject.reference",
                                  "content.attachment.contentType", "content.attachment.data"],
}
FIXED = {  # profile -> (path, values one of which must be there)
    "us-core-condition-problems-health-concerns": ("category.coding.code", {"problem-list-item", "health-concern"}),
    "us-core-observation-screening-assessment": ("category.coding.code", {"survey"}),
    "us-core-body-temperature": ("code.coding.code", {"8310-5"}),
    "us-core-documentreference": ("category.coding.code", {"clinical-note"}),
    "us-core-patient": ("gender", {"male", "female", "other", "unknown"}),
}


def test_each_claimed_us_core_profile_has_its_required_elements(exports):
    claimed = set()
    for name in BUNDLES:
        for resource in resources(exports[name]):
            profiles = resource["meta"]["profile"]
            assert len(profiles) == 1 and profiles[0].rsplit("|", 1)[1] in ("4.0.1", "6.1.0"), profiles
            if not profiles[0].startswith(US_CORE):
                assert profiles[0] == f"http://hl7.org/fhir/StructureDefinition/{resource['resourceType']}|4.0.1"
                continue
            profile = profiles[0][len(US_CORE):].split("|")[0]
            claimed.add((resource["resourceType"], profile))
            for path in REQUIRED[profile]:
                assert _path(resource, path), (name, profile, path, resource)
            if profile in FIXED:
                path, allowed = FIXED[profile]
                assert set(map(str, _path(resource, path))) & allowed, (name, profile, resource)
            if resource.get("status") in ("completed", "in-progress") and resource["resourceType"] == "Procedure":
                assert _path(resource, "performedDateTime|performedPeriod|performedString"), "us-core-7"
            if profile == "us-core-body-temperature":
                assert resource["valueQuantity"]["code"] in ("Cel", "[degF]")
    assert claimed == {
        ("Patient", "us-core-patient"), ("Organization", "us-core-organization"),
        ("Practitioner", "us-core-practitioner"), ("Condition", "us-core-condition-problems-health-concerns"),
        ("Procedure", "us-core-procedure"), ("Observation", "us-core-observation-screening-assessment"),
        ("Observation", "us-core-simple-observation"), ("Observation", "us-core-body-temperature"),
        ("DiagnosticReport", "us-core-diagnosticreport-note"), ("DocumentReference", "us-core-documentreference"),
    }


def test_the_patient_has_name_parts_a_gender_and_an_mrn_under_the_clinics_authority(exports):
    patient = resources(exports["scs_before"], "Patient")[0]
    assert patient["gender"] == "unknown"  # the factory's patient was registered before the question existed
    name = patient["name"][0]
    assert name["family"] and name["given"] and name["text"] == " ".join([*name["given"], name["family"]])
    mrn = patient["identifier"][0]
    assert mrn["type"]["coding"][0]["code"] == "MR"
    assert mrn["system"] == f"urn:uuid:{exports['clinic']['public_id']}"  # no database id in it
    assert f":{exports['clinic']['db_id']}:" not in json.dumps(patient)


def test_the_signed_pdf_is_a_us_core_document_reference(exports):
    signed = base64.b64decode(exports["signed_pdf"]["data"])
    document = resources(exports["scs_signed_collection"], "DocumentReference")[0]
    attachment = document["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == signed and attachment["contentType"] == "application/pdf"
    assert document["docStatus"] == "amended" and document["type"]["coding"][0]["code"] == "28570-0"
    report = resources(exports["scs_signed_collection"], "DiagnosticReport")[0]
    assert report["category"][0]["coding"][0]["code"] == "PHY" and report["code"]["coding"][0]["code"] == "28570-0"
    life = observations(exports["intrathecal"], "life-expectancy")[0]
    assert life["effectiveDateTime"] and life["category"][0]["coding"][0]["code"] == "exam"


# --- version, identity and status (findings 4, 5, 6, 8) -----------------------------------------------------

def test_the_content_type_and_meta_state_r4(exports):
    assert exports["content_type"]["value"] == "application/fhir+json; fhirVersion=4.0"
    assert exports["running"]["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/Bundle|4.0.1"]


def test_a_running_trial_is_in_progress_and_its_report_preliminary(exports):
    running = exports["running"]
    procedure = next(p for p in resources(running, "Procedure") if p["code"].get("coding"))
    assert procedure["status"] == "in-progress" and "end" not in procedure["performedPeriod"]
    report = resources(running, "DiagnosticReport")[0]
    assert report["status"] == "preliminary" and "end" not in report["effectivePeriod"]
    assert resources(running, "DocumentReference")[0]["docStatus"] == "preliminary"


def test_a_re_export_keeps_every_id_and_the_report_moves_preliminary_final_amended(exports):
    first, again = exports["running"], exports["running_again"]
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    for bundle in (first, exports["scs_before"], exports["block"]):
        for item in bundle["entry"]:
            resource = item["resource"]
            assert item["fullUrl"] == f"urn:uuid:{resource['id']}"
            if resource["resourceType"] != "Provenance":
                assert {"system": "urn:ietf:rfc:3986", "value": item["fullUrl"]} in resource["identifier"]
    before, after = exports["scs_before"], exports["scs_signed_collection"]
    report_before, report_after = (resources(b, "DiagnosticReport") for b in (before, after))
    assert len(report_before) == len(report_after) == 1 and report_before[0]["id"] == report_after[0]["id"]
    assert (report_before[0]["status"], report_after[0]["status"]) == ("final", "amended")
    shared = {e["fullUrl"] for e in before["entry"]} & {e["fullUrl"] for e in after["entry"]}
    assert len(shared) == len(before["entry"])  # everything exported before the decision is updated, not duplicated


def test_a_voided_entry_stays_marked_entered_in_error(exports):
    running = exports["running"]
    withdrawn = [o for o in observations(running, "diary-entry") if o["status"] == "entered-in-error"]
    assert len(withdrawn) == 1 and len(observations(running, "diary-entry")) == 2
    morphine = next(m for m in resources(running, "MedicationStatement")
                    if m["medicationCodeableConcept"]["text"] == "morphine")
    assert morphine["status"] == "entered-in-error"
    assert all(o["status"] == "entered-in-error" for o in observations(running, "72514-3")
               if o["effectiveDateTime"] == withdrawn[0]["effectiveDateTime"])


def test_the_mrn_system_is_the_clinics_own_setting(world):
    admin = world.as_admin
    assert admin.get("/clinic").get_json()["mrn_system"].startswith("urn:uuid:")
    refused = admin.patch("/clinic", json={"mrn_system": "our ehr"})
    assert refused.status_code == 422 and "mrn_system" in refused.get_json()["errors"]
    assert world.as_nurse.patch("/clinic", json={"mrn_system": "urn:oid:1.2.3"}).status_code == 403
    assert admin.patch("/clinic", json={"mrn_system": "urn:oid:2.16.840.1.113883.3.1234.1"}).status_code == 200
    bundle = world.as_nurse.get(f"/trials/{world.trial_id}/fhir").get_json()
    assert resources(bundle, "Patient")[0]["identifier"][0]["system"] == "urn:oid:2.16.840.1.113883.3.1234.1"
    assert admin.patch("/clinic", json={"mrn_system": None}).get_json()["mrn_system"].startswith("urn:uuid:")


def test_registration_asks_the_administrative_gender(world):
    nurse = world.as_nurse
    body = {"display_name": "Ada Lovelace", "mrn": "MRN-G-1", "date_of_birth": "1960-02-03",
            "email": "ada.g@example.test", "timezone": "America/New_York"}
    refused = nurse.post("/patients", json={**body, "gender": "f"})
    assert refused.status_code == 422 and "gender" in refused.get_json()["errors"]
    created = nurse.post("/patients", json={**body, "gender": "female"})
    assert created.status_code == 201 and created.get_json()["patient"]["gender"] == "female"
    unknown = nurse.post("/patients", json={**body, "mrn": "MRN-G-2", "email": "g2@example.test"}).get_json()
    assert unknown["patient"]["gender"] == "unknown"
    url = f"/patients/{unknown['patient']['id']}"  # one registered before the question: staff correct it
    assert nurse.patch(url, json={"gender": "x"}).get_json()["errors"].keys() == {"gender"}
    corrected = nurse.patch(url, json={"gender": "male"}).get_json()
    assert corrected["gender"] == "male" and corrected["sms_consent"] is False
    assert world.as_patient.patch(url, json={"gender": "female"}).status_code == 403


# --- every diary field, coded (findings 2, 3) ---------------------------------------------------------------

def test_every_daily_field_reaches_a_resource(exports):
    running = exports["running"]
    panel = observations(running, "diary-entry")[0]
    assert panel["note"][0]["text"] == "Walked to the mailbox twice."
    members = {m["reference"] for m in panel["hasMember"]}
    by_url = {e["fullUrl"]: e["resource"] for e in running["entry"]}
    values = {code_of(by_url[url]): by_url[url] for url in members}
    assert set(values) == {"72514-3", "pain-worst-24h", "pain-least-24h", "pain-interference", "41950-7",
                           "sleep-hours", "oswestry-disability-index", "stimulation-program",
                           "stimulation-coverage", "stimulation-satisfaction", "pgic", "8310-5", "itching"}
    assert values["41950-7"]["valueQuantity"] == {"value": 4210, "unit": "steps/day", "system": UCUM, "code": "/d"}
    assert values["8310-5"]["valueQuantity"]["code"] == "Cel" and values["pgic"]["valueInteger"] == 2
    assert values["stimulation-program"]["valueString"] == "P2 low back"
    assert all(v["performer"] == [{"reference": running["entry"][0]["fullUrl"]}] for v in values.values())


def test_medications_are_rxnorm_coded_in_ucum_with_a_patch_as_a_rate_and_reported_by_the_patient(exports):
    running = exports["running"]
    patient = running["entry"][0]["fullUrl"]
    meds = {m["medicationCodeableConcept"]["text"]: m for m in resources(running, "MedicationStatement")}
    oxycodone, fentanyl, gabapentin = meds["Oxycodone"], meds["fentanyl"], meds["gabapentin"]
    assert oxycodone["medicationCodeableConcept"]["coding"] == [{"system": RXNORM, "code": "7804",
                                                                  "display": "oxycodone"}]
    assert fentanyl["medicationCodeableConcept"]["coding"][0]["code"] == "4337"
    assert "coding" not in gabapentin["medicationCodeableConcept"]  # not in the MME table: text only
    assert oxycodone["dosage"][0]["doseAndRate"] == [{"doseQuantity": {"value": 5, "unit": "mg", "system": UCUM,
                                                                       "code": "mg"}}]
    assert fentanyl["dosage"][0]["doseAndRate"] == [{"rateQuantity": {"value": 12, "unit": "mcg/h",
                                                                      "system": UCUM, "code": "ug/h"}}]
    assert oxycodone["dosage"][0]["route"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "26643006",
                                                            "display": "Oral route"}
    assert all(m["informationSource"] == {"reference": patient} for m in meds.values())


def test_the_intrathecal_sedation_score_and_temperature_are_sent(exports):
    pump = exports["intrathecal"]
    assert sorted(o["valueInteger"] for o in observations(pump, "sedation-score")) == [1, 1, 2, 2]
    temperatures = observations(pump, "8310-5")
    assert len(temperatures) == 4 and all(t["meta"]["profile"][0].startswith(f"{US_CORE}us-core-body-temperature")
                                         for t in temperatures)
    morphine = resources(pump, "MedicationStatement")[0]
    assert morphine["dosage"][0]["route"]["coding"][0]["code"] == "72607000"
    assert morphine["medicationCodeableConcept"]["coding"][0]["code"] == "7052"


def test_a_block_keeps_its_symptoms_and_medications_and_speaks_of_the_block(exports):
    block = exports["block"]
    assert [code_of(o) for o in observations(block, "positional_headache")] == ["positional_headache"]
    assert resources(block, "MedicationStatement")[0]["medicationCodeableConcept"]["coding"][0]["code"] == "5489"
    procedures = resources(block, "Procedure")
    assert len(procedures) == 1  # the block is one Procedure: its CPT code and the therapy
    codes = {c["code"] for c in procedures[0]["code"]["coding"]}
    assert codes == {"64493", "medial_branch_block"} and procedures[0]["usedCode"][0]["text"] == "bupivacaine"
    words = json.dumps(block)
    assert "implant" not in words.replace('"code": "implant"', "").lower()
    impression = resources(block, "ClinicalImpression")[0]
    assert impression["code"]["text"] == "Decision after the diagnostic block"
    assert impression["finding"][0]["itemCodeableConcept"]["text"] == "Proceed to ablation or injection"
    outcome = observations(block, "trial-outcome")[0]
    assert outcome["code"]["text"] == "Diagnostic medial branch block: outcome"
    assert "MEDIAL_BRANCH_BLOCK" not in words


# --- the project's code systems (finding 10) --------------------------------------------------------------

def test_every_private_code_is_defined_by_a_code_system_the_app_serves(exports, app):
    client = ApiClient(app.test_client())
    systems: dict[str, set] = {}
    text = json.dumps([exports[name] for name in BUNDLES])
    assert "urn:trial-diary:" not in text

    def walk(node):
        if isinstance(node, dict):
            if "/api/v1/fhir/CodeSystem/" in str(node.get("system", "")) and "code" in node:
                systems.setdefault(node["system"], set()).add(node["code"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([exports[name] for name in BUNDLES])
    assert len(systems) >= 8
    for url, codes in systems.items():
        assert url.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/"))
        served = client.get(url[url.index("/api/v1/"):])
        assert served.status_code == 200 and served.content_type == "application/fhir+json; fhirVersion=4.0"
        system = served.get_json()
        assert system["url"] == url and system["content"] == "complete"
        assert codes <= {c["code"] for c in system["concept"]}, (url, codes)
    assert client.get("/api/v1/fhir/CodeSystem/no-such-system").status_code == 404


# --- document and transaction (finding 7) ---------------------------------------------------------------

def test_the_document_bundle_starts_with_its_composition(exports):
    document = exports["scs_signed_document"]
    assert document["type"] == "document" and document["identifier"]["system"] == "urn:ietf:rfc:3986"
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition" and composition["status"] == "amended"
    assert composition["attester"][0]["mode"] == "legal"
    urls = {e["fullUrl"] for e in document["entry"]}
    referenced = {r["reference"] for s in composition["section"] for r in s["entry"]}
    assert referenced <= urls and len(referenced) > 20
    assert exports["scs_signed_collection"]["type"] == "collection"


def test_the_transaction_bundle_creates_or_updates_by_identifier(exports):
    transaction = exports["scs_signed_transaction"]
    assert transaction["type"] == "transaction"
    requests = {e["resource"]["resourceType"]: e["request"] for e in transaction["entry"]}
    patient = resources(transaction, "Patient")[0]
    mrn = patient["identifier"][0]
    assert requests["Patient"] == {"method": "POST", "url": "Patient",
                                   "ifNoneExist": f"identifier={mrn['system']}|{mrn['value']}"}
    report = next(e for e in transaction["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    assert report["request"] == {"method": "PUT",
                                 "url": f"DiagnosticReport?identifier=urn:ietf:rfc:3986|{report['fullUrl']}"}
    assert {"system": "urn:ietf:rfc:3986", "value": report["fullUrl"]} in report["resource"]["identifier"]
    assert requests["Provenance"]["method"] == "PUT"
    assert all("id" not in e["resource"] for e in transaction["entry"])


def test_the_bundle_type_is_checked(world):
    refused = world.as_nurse.get(f"/trials/{world.trial_id}/fhir?type=searchset")
    assert refused.status_code == 422 and "type" in json.dumps(refused.get_json())


def test_the_openapi_document_lists_the_bundle_types(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = spec["paths"]["/api/v1/trials/{trial_id}/fhir"]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "type")["schema"]["enum"] == [
        "collection", "document", "transaction"]
    assert "application/fhir+json; fhirVersion=4.0" in \
        spec["paths"]["/api/v1/trials/{trial_id}/fhir"]["get"]["responses"]["200"]["content"]
