"""The payer packet: pre-trial documentation, readiness, letterhead and NPIs, the signed decision, the report's
layout, and the FHIR resources that carry it all."""

import base64
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from reportlab.lib.units import inch
from reportlab.platypus import SimpleDocTemplate, Table

from api.extensions import db
from api.models import Alert, AuditEvent, Clinic, Trial, User

from .. import pdf_layout
from ..conftest import drain, entry
from ..factories import UserFactory
from .test_decision_and_exports import pdf_text, worked_trial

DOCUMENTATION = {
    "indications": [{"code": "M96.1", "description": "Postlaminectomy syndrome"}, {"code": "m5416"}],
    "procedures": [{"code": "63650", "description": "Percutaneous epidural electrode array (trial lead)"}],
    "conservative_treatments": [{"treatment": "Physical therapy", "duration": 16, "unit": "weeks"},
                                {"treatment": "Gabapentin", "duration": 9, "unit": "months"}],
    "psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Maya Chen, PsyD", "cleared": True},
    "substance_use_screening": {"date": "2026-09-14", "result": "negative"},
    "imaging": [{"date": "2026-07-30", "modality": "mri", "region": "lumbar spine"}],
}
DECISION = {"decision": "implant", "rationale": "57.5 % relief, ODI 14 points better; no complications."}
MARGIN = 0.7 * inch


@pytest.fixture
def who(world):
    """One signed-in client per role for the test (each sign-in verifies an Argon2 hash: slow on purpose)."""

    class Callers:
        def __init__(self):
            self._signed_in = {}

        def __getattr__(self, role):
            if role not in self._signed_in:
                self._signed_in[role] = getattr(world, f"as_{role}")
            return self._signed_in[role]

    return Callers()


def put(caller, path, **kwargs):
    """The shared test client has no put() helper; its generic call does the same."""
    return caller._call("put", path, **kwargs)


def documented(who, trial_id, body=None):
    response = put(who.nurse, f"/trials/{trial_id}/documentation", json=DOCUMENTATION if body is None else body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def letterhead(who):
    admin = who.admin
    assert admin.patch("/clinic", json={"address": "1200 Riverside Drive\nColumbus, OH 43215",
                                        "npi": "1245319599"}).status_code == 200


def test_documentation_is_stored_normalised_and_read_back(world, who, app):
    url = f"/trials/{world.trial_id}/documentation"
    empty = who.nurse.get(url).get_json()
    assert empty["trial_id"] == world.trial_id and empty["updated_at"] is None and "indications" not in empty
    stored = documented(who, world.trial_id)
    assert [i["code"] for i in stored["indications"]] == ["M96.1", "M54.16"]
    assert stored["psychological_evaluation"] == DOCUMENTATION["psychological_evaluation"]
    assert stored["updated_by"] == world.nurse_id
    assert who.physician.get(url).get_json()["imaging"] == DOCUMENTATION["imaging"]
    replaced = put(who.physician, url, json={"indications": [{"code": "G89.4"}]}).get_json()
    assert replaced["indications"] == [{"code": "G89.4"}] and "imaging" not in replaced  # replaced whole
    assert who.patient.get(url).status_code == 403
    assert put(who.patient, url, json=DOCUMENTATION).status_code == 403
    assert who.other_nurse.get(url).status_code == 404
    assert put(who.other_nurse, url, json=DOCUMENTATION).status_code == 404
    assert put(who.nurse, "/trials/999999/documentation", json=DOCUMENTATION).status_code == 404
    with app.app_context():
        audited = {(e.action, e.outcome) for e in db.session.query(AuditEvent).filter_by(patient_id=world.patient_id)}
    assert {("documentation.read", "success"), ("documentation.update", "success"),
            ("documentation.read", "not_found")} <= audited


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=3)).date().isoformat()


INVALID = [  # (body, the path of the field its 422 names, words of the message)
    ({"indications": [{"code": "96.1"}]}, ["indications", "0", "code"], "Not an ICD-10-CM code"),
    ({"indications": [{"code": 961}]}, ["indications", "0", "code"], "Not a valid string"),
    ({"indications": [{"description": "no code"}]}, ["indications", "0", "code"], "Missing data"),
    ({"procedures": [{"code": "6365"}]}, ["procedures", "0", "code"], "Not a CPT or HCPCS code"),
    ({"conservative_treatments": [{"treatment": "PT", "duration": 6, "unit": "years"}]},
     ["conservative_treatments", "0", "unit"], "Must be one of"),
    ({"conservative_treatments": [{"treatment": "PT", "duration": "6", "unit": "months"}]},
     ["conservative_treatments", "0", "duration"], "Not a valid number"),
    ({"conservative_treatments": [{"treatment": "PT", "duration": 0, "unit": "months"}]},
     ["conservative_treatments", "0", "duration"], "greater than or equal to 0.1"),
    ({"psychological_evaluation": {"date": "0001-01-01", "clinician": "Dr. Chen", "cleared": True}},
     ["psychological_evaluation", "date"], "Must not be before 1900-01-01"),
    ({"psychological_evaluation": {"date": "FUTURE", "clinician": "Dr. Chen", "cleared": True}},
     ["psychological_evaluation", "date"], "Must not be in the future"),
    ({"psychological_evaluation": {"date": "2026-02-30", "clinician": "Dr. Chen", "cleared": True}},
     ["psychological_evaluation", "date"], "Not a valid date"),
    ({"psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Chen", "cleared": "yes"}},
     ["psychological_evaluation", "cleared"], "Must be true or false"),
    ({"psychological_evaluation": {"date": "2026-09-14", "cleared": True}},
     ["psychological_evaluation", "clinician"], "Missing data"),
    ({"substance_use_screening": {"date": "2026-09-14", "result": "maybe"}},
     ["substance_use_screening", "result"], "Must be one of"),
    ({"imaging": [{"date": "FUTURE", "modality": "mri"}]}, ["imaging", "0", "date"], "Must not be in the future"),
    ({"imaging": [{"date": "2026-07-30", "modality": "pet"}]}, ["imaging", "0", "modality"], "Must be one of"),
    ({"life_expectancy_months": -1}, ["life_expectancy_months"], "greater than or equal to 0"),
    ({"life_expectancy_months": "24"}, ["life_expectancy_months"], "Not a valid number"),
    ({"indications": [{"code": "M96.1"}] * 21}, ["indications"], "Longer than maximum length 20"),
    ({"surgeon": "Dr. Who"}, ["surgeon"], "Unknown field"),
]


def test_every_documentation_field_is_validated_with_a_422_naming_it(world, who):
    # One world for every case: a world per case would spend its time signing in, not testing.
    for body, path, words in INVALID:
        body = json.loads(json.dumps(body).replace("FUTURE", _future()))
        response = put(who.nurse, f"/trials/{world.trial_id}/documentation", json=body)
        assert response.status_code == 422, (body, response.get_json())
        errors = response.get_json()["errors"]
        for key in path:
            assert key in errors, (body, response.get_json())
            errors = errors[key]
        assert any(words in message for message in errors), (body, errors)
    assert who.nurse.get(f"/trials/{world.trial_id}/documentation").get_json()["updated_at"] is None


def test_readiness_says_what_is_missing_until_nothing_is(world, who):
    url = f"/trials/{world.trial_id}/readiness"
    before = who.physician.get(url).get_json()
    assert before["ready"] is False and before["therapy"] == "scs"
    assert [(i["key"], i["status"]) for i in before["items"]] == [
        ("indication", "missing"), ("procedure", "missing"), ("conservative_treatment", "missing"),
        ("psychological_evaluation", "missing"), ("substance_use_screening", "missing"), ("imaging", "missing")]
    assert "No psychological evaluation documented." in before["missing"]
    documented(who, world.trial_id)
    after = who.nurse.get(url).get_json()
    assert after["ready"] is True and after["missing"] == []
    assert after["items"][2]["detail"] == "Physical therapy for 16 weeks; Gabapentin for 9 months."
    assert who.patient.get(url).status_code == 403
    assert who.other_nurse.get(url).status_code == 404


def test_a_pump_trial_asks_for_life_expectancy(world, who, app):
    start = datetime.now(UTC) - timedelta(hours=2)
    trial = who.nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "intrathecal", "start_at": start.isoformat(),
        "end_at": (start + timedelta(hours=24)).isoformat(), "baseline": {"pain": 8}}).get_json()
    pump = {**DOCUMENTATION, "procedures": [{"code": "62323"}]}
    documented(who, trial["id"], pump)
    missing = who.nurse.get(f"/trials/{trial['id']}/readiness").get_json()
    assert missing["missing"] == ["No life expectancy documented (at least 3 months asked)."]
    documented(who, trial["id"], {**pump, "life_expectancy_months": 18})
    assert who.nurse.get(f"/trials/{trial['id']}/readiness").get_json()["ready"] is True


def test_a_clinic_admin_adjusts_the_readiness_requirements(world, who, app):
    documented(who, world.trial_id, {**DOCUMENTATION, "imaging": [],
                                       "conservative_treatments": [{"treatment": "PT", "duration": 12,
                                                                    "unit": "weeks"}]})
    url = f"/trials/{world.trial_id}/readiness"
    strict = who.nurse.get(url).get_json()
    assert [i["key"] for i in strict["items"] if i["status"] != "documented"] == ["conservative_treatment", "imaging"]
    listed = who.nurse.get("/clinic/readiness-requirements").get_json()
    assert [r["therapy"] for r in listed][:2] == ["scs", "intrathecal"]
    assert listed[0]["effective"]["min_conservative_treatment_months"] == 6 and listed[0]["overrides"] == {}
    body = {"overrides": {"min_conservative_treatment_months": 2, "require_imaging": False}}
    assert put(who.nurse, "/clinic/readiness-requirements/scs", json=body).status_code == 403
    changed = put(who.admin, "/clinic/readiness-requirements/scs", json=body)
    assert changed.status_code == 200 and changed.get_json()["effective"]["require_imaging"] is False
    assert changed.get_json()["defaults"]["require_imaging"] is True
    assert who.nurse.get(url).get_json()["ready"] is True
    # Another clinic keeps the defaults.
    other = who.other_nurse.get("/clinic/readiness-requirements").get_json()
    assert other[0]["effective"]["min_conservative_treatment_months"] == 6
    bad = put(who.admin, "/clinic/readiness-requirements/scs", json={"overrides": {"require_imaging": 0}})
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["overrides"] == {"require_imaging": "Must be true or false."}
    assert put(who.admin, "/clinic/readiness-requirements/laser", json=body).status_code == 404
    assert put(who.admin, "/clinic/readiness-requirements/scs", json={"overrides": {}}).status_code == 200
    assert who.nurse.get(url).get_json()["ready"] is False  # the defaults again


def test_the_admin_sets_the_clinic_letterhead_and_staff_npis(world, who, app):
    admin = who.admin
    changed = admin.patch("/clinic", json={"address": "1200 Riverside Drive\nColumbus, OH 43215",
                                           "npi": "1245319599"})
    assert changed.status_code == 200 and changed.get_json()["npi"] == "1245319599"
    assert who.nurse.get("/clinic").get_json()["address"].startswith("1200 Riverside")
    assert who.nurse.patch("/clinic", json={"npi": "1245319599"}).status_code == 403
    wrong = admin.patch("/clinic", json={"npi": "1245319598"})
    assert wrong.status_code == 422 and wrong.get_json()["errors"] == {
        "npi": ["The check digit does not match (not a valid NPI)."]}
    assert admin.patch("/clinic", json={"npi": "12345"}).get_json()["errors"] == {"npi": ["Must be 10 digits."]}
    assert admin.patch("/clinic", json={"name": "Clinic B"}).status_code == 409
    assert admin.patch("/clinic", json={"clinic_id": 2}).status_code == 422

    url = f"/users/{world.physician_id}"
    assert admin.patch(url, json={"npi": "1234567890"}).get_json()["errors"] == {
        "npi": ["The check digit does not match (not a valid NPI)."]}
    assert admin.patch(url, json={"npi": "1234567893"}).get_json()["npi"] == "1234567893"
    assert admin.patch(url, json={}).status_code == 422
    assert admin.patch(url, json={"role": "admin"}).status_code == 422
    assert who.nurse.patch(url, json={"npi": "1234567893"}).status_code == 403
    with app.app_context():
        stranger = db.session.query(User).filter_by(email=world.ids["other_nurse"]).one().id
        patient_user = db.session.query(User).filter_by(email=world.ids["patient"]).one().id
    assert admin.patch(f"/users/{stranger}", json={"npi": "1234567893"}).status_code == 404
    assert admin.patch(f"/users/{patient_user}", json={"npi": "1234567893"}).status_code == 404
    assert [u["npi"] for u in admin.get("/users").get_json() if u["id"] == world.physician_id] == ["1234567893"]


def test_a_physician_without_an_npi_is_told_why_they_cannot_sign(world, who):
    assert who.admin.patch(f"/users/{world.physician_id}", json={"npi": None}).get_json()["npi"] is None
    refused = who.physician.post(f"/trials/{world.trial_id}/decision", json=DECISION)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "npi_missing" and "NPI" in body["message"] and "admin" in body["message"]
    assert body["errors"] == {"npi": ["Missing from the physician's staff profile."]}
    assert who.nurse.get(f"/trials/{world.trial_id}").get_json()["status"] == "active"  # nothing changed
    who.admin.patch(f"/users/{world.physician_id}", json={"npi": "1234567893"})
    assert who.physician.post(f"/trials/{world.trial_id}/decision", json=DECISION).status_code == 201


def test_the_signature_hash_is_the_sha256_of_the_pdf_it_signs(world, who, app):
    letterhead(who)
    trial_id = worked_trial(world, app)
    documented(who, trial_id)
    decided = who.physician.post(f"/trials/{trial_id}/decision", json=DECISION)
    assert decided.status_code == 201
    signature = decided.get_json()["signature"]
    assert signature["npi"] == "1234567893" and signature["signer_id"] == world.physician_id
    assert signature["statement"].startswith("I attest that I personally reviewed this trial report")
    assert who.nurse.get(f"/trials/{trial_id}/decision").get_json()["signature"] == signature

    signed = who.nurse.get(f"/trials/{trial_id}/decision/signed-report.pdf")
    assert signed.status_code == 200 and signed.mimetype == "application/pdf"
    assert hashlib.sha256(signed.data).hexdigest() == signature["report_sha256"] == signed.headers["X-Content-SHA256"]
    text = "\n".join(pdf_layout.page_texts(signed.data))
    for expected in ("FINAL RESULT: SUCCESS", "Physician attestation", "Electronically signed", "NPI 1234567893",
                     "This document is the signed original", "Clinic NPI 1245319599",
                     "Proceed to a permanent spinal cord stimulator implant"):
        assert expected in text, expected
    # A later copy of the report carries the hash of the signed one.
    later, _ = pdf_text(who.nurse.get(f"/trials/{trial_id}/report.pdf"))
    assert signature["report_sha256"] in later and "Electronically signed" in later
    assert who.nurse.get(f"/trials/{trial_id}/decision/signed-report.pdf").data == signed.data
    assert who.patient.get(f"/trials/{trial_id}/decision/signed-report.pdf").status_code == 403
    assert who.other_nurse.get(f"/trials/{trial_id}/decision/signed-report.pdf").status_code == 404
    assert who.nurse.get(f"/trials/{world.trial_id}/decision/signed-report.pdf").status_code == 404
    # What was signed no longer changes.
    closed = put(who.nurse, f"/trials/{trial_id}/documentation", json=DOCUMENTATION)
    assert closed.status_code == 409 and closed.get_json()["code"] == "trial_closed"


def test_a_decision_on_an_interim_evaluation_says_so_plainly(world, who, app):
    for day in (1, 2):
        who.patient.post(f"/trials/{world.trial_id}/entries",
                              json=entry(datetime.now(UTC) - timedelta(days=day), score=3))
    drain(app)
    assert who.physician.post(f"/trials/{world.trial_id}/decision", json=DECISION).status_code == 201
    text, _ = pdf_text(who.nurse.get(f"/trials/{world.trial_id}/report.pdf"))
    flat = " ".join(text.split())
    assert "RESULT AT DECISION:" in flat and "(interim evaluation)" in flat
    assert "before the trial's planned end" in flat and "rests on the interim evaluation of" in flat
    assert "no final evaluation will follow" in flat
    assert "INTERIM RESULT" not in flat and "FINAL RESULT" not in flat


def test_a_decision_after_the_end_rests_on_the_final_evaluation(world, who, app):
    start = datetime.now(UTC) - timedelta(days=8)
    trial = who.nurse.post("/trials", json={
        "patient_id": world.patient_id, "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=6)).isoformat(), "timezone": "UTC",
        "care_team": [world.nurse_id, world.physician_id], "baseline": {"pain": 8, "mme": 0, "odi": 50}}).get_json()
    for day in range(1, 6):
        who.patient.post(f"/trials/{trial['id']}/entries", json=entry(start + timedelta(days=day, hours=2),
                                                                           score=3))
    # No worker has run: the latest evaluation is none at all. The decision takes the final one first.
    decided = who.physician.post(f"/trials/{trial['id']}/decision", json=DECISION).get_json()
    latest = who.nurse.get(f"/trials/{trial['id']}/evaluations/latest").get_json()
    assert latest["final"] is True and decided["evaluation_id"] == latest["id"]
    text, _ = pdf_text(who.nurse.get(f"/trials/{trial['id']}/report.pdf"))
    assert "FINAL RESULT" in text and "INTERIM" not in text


def test_an_incomplete_packet_says_what_is_missing_on_its_first_page(world, who, app):
    documented(who, world.trial_id, {"indications": [{"code": "M96.1"}], "procedures": [{"code": "63650"}],
                                       "psychological_evaluation": {"date": "2026-09-14", "clinician": "Dr. Chen",
                                                                    "cleared": False}})
    response = who.nurse.get(f"/trials/{world.trial_id}/report.pdf")
    first = " ".join(pdf_layout.page_texts(response.data)[0].split())
    assert "Documentation a payer will ask for is incomplete" in first and "What is missing:" in first
    for missing in ("No conservative treatment documented (at least 6 months).",
                    "Psychological evaluation by Dr. Chen on 2026-09-14: not cleared for the implant.",
                    "No substance use screening documented.", "No imaging documented."):
        assert missing in first, missing
    documented(who, world.trial_id)
    complete = " ".join(pdf_layout.page_texts(who.nurse.get(f"/trials/{world.trial_id}/report.pdf").data)[0]
                        .split())
    assert "What is missing" not in complete and "Pre-trial documentation" in complete


def test_the_overflow_check_finds_text_past_a_cell_border():
    """The check below would pass a broken report if it could not see this."""
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer).build([Table([["a plain string far too long for its narrow cell", "b"]],
                                           colWidths=[80, 80], style=[("GRID", (0, 0), (-1, -1), 0.5, "grey")])])
    found = pdf_layout.overflows(buffer.getvalue(), margin=72)
    assert found and found[0].reason == "crosses a cell's side border"


def test_a_long_report_keeps_every_word_inside_its_cell_and_margins(world, who, app):
    long_words = "Patient reports intermittent burning along the left L5 dermatome; " * 12
    with app.app_context():
        clinic = db.session.query(Clinic).filter_by(name="Clinic A").one()
        clinic.address = "Building C, Floor 4, " * 10 + "\n1200 Riverside Drive\nColumbus, OH 43215-0000"
        clinic.npi = "1245319599"
        trial = db.session.get(Trial, world.trial_id)
        trial.device = "Eight-contact percutaneous lead with external trial stimulator and extension cable " * 2
        nurse_id = world.nurse_id
        day = date.today() - timedelta(days=40)
        for number in range(40):
            db.session.add(Alert(
                clinic_id=clinic.id, trial_id=trial.id, rule="infection" if number % 2 else "wound_concern",
                severity="high", local_day=day + timedelta(days=number), status="acknowledged", count=number + 1,
                acknowledged_at=datetime.now(UTC), acknowledged_by=nurse_id,
                acknowledgement_note=f"ACKNOTE{number}: " + "Called the patient; wound checked in clinic, no pus, "
                                     "dressing changed, antibiotics not started, review tomorrow. " * (number % 5 + 1)))
        long_physician = UserFactory(clinic=clinic, role="physician",
                                     display_name="Dr. Alexandra Konstantinopoulou-Montgomery-Vasquez, MD, PhD")
        trial.care_team_members.append(type(trial.care_team_members[0])(user_id=long_physician.id))
        db.session.commit()
    who.patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3, note=long_words[:2000]))
    drain(app)
    documented(who, world.trial_id, {
        **DOCUMENTATION,
        # As much as the schema lets through: the checklist's cells grow taller than a page.
        "indications": [{"code": f"M96.{n}", "description": f"Postlaminectomy syndrome {n}, " + "x" * 270}
                        for n in range(20)],
        "conservative_treatments": [{"treatment": (f"Treatment {n}: " + "physical therapy and home exercise " * 6)
                                     [:200], "duration": 1, "unit": "weeks"} for n in range(30)],
        "imaging": [{"date": "2026-07-30", "modality": "ct_myelogram", "region": "r" * 100}]})
    decided = who.physician.post(f"/trials/{world.trial_id}/decision",
                                      json={"decision": "repeat_trial", "rationale": (long_words * 7)[:5000]})
    assert decided.status_code == 201
    for path in (f"/trials/{world.trial_id}/report.pdf", f"/trials/{world.trial_id}/decision/signed-report.pdf"):
        document = who.nurse.get(path).data
        texts = pdf_layout.page_texts(document)
        assert len(texts) >= 5
        assert pdf_layout.overflows(document, margin=MARGIN) == []
        images = pdf_layout.page_images(document, scale=1.0)
        assert all(pdf_layout.ink_outside(image, margin_px=int(MARGIN) - 4) == 0 for image in images)
        for number, text in enumerate(texts, start=1):
            assert f"Page {number} of {len(texts)}" in text and "Clinic NPI 1245319599" in text
            if "ACKNOTE" in text:  # a page of the alert table repeats its header row, once, at its top
                assert "Acknowledged" in text and text.count("Severity") == 1
        assert sum("ACKNOTE" in text for text in texts) >= 2
        flat = " ".join(" ".join(texts).split())
        assert "ACKNOTE39" in flat and "require_function" not in flat and "min_pain_relief_percent" not in flat


def test_the_fhir_bundle_carries_the_signed_packet(world, who, app):
    letterhead(who)
    trial_id = worked_trial(world, app)
    # A sixth diary day makes the mean pain 19/6: the Bundle must say 3.17, as the report does.
    world_entry = entry(datetime.fromisoformat("2026-11-05T10:00:00-05:00"), score=2, symptoms=["nausea", "itching"])
    who.patient.post(f"/trials/{trial_id}/entries", json=world_entry)
    drain(app)
    documented(who, trial_id)
    who.physician.post(f"/trials/{trial_id}/decision", json=DECISION)
    signed = who.nurse.get(f"/trials/{trial_id}/decision/signed-report.pdf").data
    response = who.nurse.get(f"/trials/{trial_id}/fhir")
    assert response.status_code == 200
    assert "3.1666" not in response.get_data(as_text=True)
    bundle = response.get_json()
    by_type: dict[str, list] = {}
    for item in bundle["entry"]:
        by_type.setdefault(item["resource"]["resourceType"], []).append(item)
    urls = {item["fullUrl"]: item["resource"] for item in bundle["entry"]}
    code = lambda resource: resource["code"]["coding"][0]["code"]  # noqa: E731
    observations = [i["resource"] for i in by_type["Observation"]]

    outcome = next(o for o in observations if code(o) == "trial-outcome")
    values = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in outcome["component"]
              if "valueQuantity" in c}
    assert values["trial_pain"] == 3.17 and values["compliance"] == 1.0
    assert any("Mean pain fell by" in c["valueCodeableConcept"]["text"] for c in outcome["component"]
               if "valueCodeableConcept" in c)

    symptoms = [o for o in observations if o["code"]["coding"][0]["system"].endswith("/CodeSystem/symptom")]
    assert sorted(code(s) for s in symptoms) == ["itching", "nausea"]
    assert all(s["valueBoolean"] is True for s in symptoms)

    conditions = [i["resource"] for i in by_type["Condition"]]
    assert [(c["code"]["coding"][0]["system"], code(c)) for c in conditions] == [
        ("http://hl7.org/fhir/sid/icd-10-cm", "M96.1"), ("http://hl7.org/fhir/sid/icd-10-cm", "M54.16")]
    trial_procedure = next(i["resource"] for i in by_type["Procedure"] if i["resource"]["code"].get("coding"))
    assert (trial_procedure["code"]["coding"][0]["system"], code(trial_procedure)) == (
        "http://www.ama-assn.org/go/cpt", "63650")
    assert trial_procedure["status"] == "completed"
    assert {r["reference"] for r in trial_procedure["reasonReference"]} == {i["fullUrl"] for i in by_type["Condition"]}
    assert len(by_type["Procedure"]) == 3  # the trial and two conservative treatments
    assert by_type["ImagingStudy"][0]["resource"]["modality"][0]["code"] == "MR"
    facts = {code(o): o for o in observations if o["code"]["coding"][0]["system"].endswith("/documentation")}
    assert facts["psychological-evaluation"]["valueBoolean"] is True
    assert facts["psychological-evaluation"]["effectiveDateTime"] == "2026-09-14"
    assert facts["substance-use-screening"]["valueCodeableConcept"]["coding"][0]["code"] == "negative"

    report = by_type["DiagnosticReport"][0]["resource"]
    form = report["presentedForm"][0]
    assert form["contentType"] == "application/pdf" and base64.b64decode(form["data"]) == signed
    assert base64.b64decode(form["hash"]) == hashlib.sha1(signed).digest()  # FHIR defines Attachment.hash as SHA-1
    named = base64.urlsafe_b64encode(hashlib.sha256(signed).digest()).decode().rstrip("=")
    assert report["status"] == "amended" and report["identifier"][0] == {"system": "urn:ietf:rfc:3986",
                                                                        "value": f"ni:///sha-256;{named}"}
    assert urls[report["result"][0]["reference"]] is outcome
    document = by_type["DocumentReference"][0]["resource"]
    assert base64.b64decode(document["content"][0]["attachment"]["data"]) == signed

    impression = by_type["ClinicalImpression"][0]["resource"]
    assert impression["finding"][0]["itemCodeableConcept"]["coding"][0]["code"] == "implant"
    practitioner = urls[impression["assessor"]["reference"]]
    assert practitioner["identifier"][0] == {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}
    organization = by_type["Organization"][0]["resource"]
    assert organization["identifier"][0]["value"] == "1245319599"
    assert organization["address"][0]["line"][0] == "1200 Riverside Drive"

    provenance = by_type["Provenance"][0]["resource"]
    assert {t["reference"] for t in provenance["target"]} == {by_type["DiagnosticReport"][0]["fullUrl"],
                                                              by_type["ClinicalImpression"][0]["fullUrl"]}
    signature = json.loads(base64.b64decode(provenance["signature"][0]["data"]))
    assert signature["report_sha256"] == hashlib.sha256(signed).hexdigest() and signature["npi"] == "1234567893"
    assert provenance["signature"][0]["who"]["reference"] == impression["assessor"]["reference"]


def test_a_bundle_before_the_decision_carries_the_current_report(world, who, app):
    who.patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=3, symptoms=["fever"]))
    drain(app)
    bundle = who.nurse.get(f"/trials/{world.trial_id}/fhir").get_json()
    types = [item["resource"]["resourceType"] for item in bundle["entry"]]
    assert "ClinicalImpression" not in types and "Provenance" not in types and "Condition" not in types
    report = next(item["resource"] for item in bundle["entry"]
                  if item["resource"]["resourceType"] == "DiagnosticReport")
    assert report["status"] == "preliminary"
    assert base64.b64decode(report["presentedForm"][0]["data"]).startswith(b"%PDF")
