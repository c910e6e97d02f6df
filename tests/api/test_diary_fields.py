"""The API's fields for the diary page: the clinic's phone, the patient's language and goals, `web` devices; each
in the OpenAPI document, validated with a 422 naming the field, audited where it is patient data."""

from __future__ import annotations

import json

from sqlalchemy import select

from api.extensions import db
from api.models import AuditEvent, Device
from tests.diary.test_endpoints import subscription


def test_the_admin_sets_the_clinic_phone(world):
    admin = world.as_admin
    saved = admin.patch("/clinic", json={"phone": "+1 (201) 555-0123"})
    assert saved.status_code == 200 and saved.get_json()["phone"] == "+12015550123"
    patient = world.as_patient.get("/me").get_json()["clinic"]
    assert patient == {"name": "Clinic A", "phone": "+12015550123", "phone_readable": "+1 201-555-0123"}
    for bad in ("call us", "12", "+1 201 555 0123 0123 0123", 2015550123):
        refused = admin.patch("/clinic", json={"phone": bad})
        assert refused.status_code == 422 and "phone" in refused.get_json()["errors"], bad
    assert admin.patch("/clinic", json={"phone": None}).get_json()["phone"] is None
    assert world.as_nurse.patch("/clinic", json={"phone": "+1 201 555 0123"}).status_code == 403


def test_staff_set_the_language_at_registration_and_read_goals(world):
    nurse = world.as_nurse
    base = {"display_name": "Lucía Pérez", "date_of_birth": "1961-02-03", "timezone": "America/Chicago"}
    created = nurse.post("/patients", json={**base, "mrn": "ES-1", "email": "l@example.test", "language": "es"})
    assert created.status_code == 201 and created.get_json()["patient"]["language"] == "es"
    default = nurse.post("/patients", json={**base, "mrn": "EN-1", "email": "e@example.test"}).get_json()
    assert default["patient"]["language"] == "en" and default["patient"]["goals"] == []
    refused = nurse.post("/patients", json={**base, "mrn": "FR-1", "email": "f@example.test", "language": "fr"})
    assert refused.status_code == 422 and "language" in refused.get_json()["errors"]


def test_the_patient_reads_and_changes_their_profile_through_the_api(app, world):
    phone = world.as_patient
    me = phone.get("/me")
    assert me.status_code == 200 and me.get_json()["clinic"]["name"] == "Clinic A"
    changed = phone.patch("/me", json={"goals": ["walk the dog"], "language": "es"})
    assert changed.status_code == 200 and changed.get_json()["goals"] == ["walk the dog"]
    assert phone.patch("/me", json={}).status_code == 422
    assert phone.patch("/me", json={"goals": "walk"}).get_json()["errors"] == {"goals": ["Not a valid list."]}
    assert world.as_nurse.get("/me").status_code == 403
    with app.app_context():
        audited = {(a, p) for a, p in db.session.execute(select(AuditEvent.action, AuditEvent.patient_id))}
    assert ("patient.profile_read", world.patient_id) in audited
    assert ("patient.profile_update", world.patient_id) in audited


def test_enrollment_through_the_api_may_choose_the_language(world, client):
    code = world.as_nurse.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    bad = client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": "a brand new sentence",
                                                   "language": "de"})
    assert bad.status_code == 422 and "language" in bad.get_json()["errors"]
    done = client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": "a brand new sentence",
                                                    "language": "es"})
    assert done.status_code == 200
    assert world.as_nurse.get(f"/patients/{world.patient_id}").get_json()["language"] == "es"


def test_web_devices_take_a_push_subscription_to_a_public_https_endpoint(app, world):
    phone = world.as_patient
    good = subscription()
    first = phone.post("/me/devices", json={"platform": "web", "token": json.dumps(good)})
    assert first.status_code == 201 and first.get_json()["platform"] == "web"
    reordered = json.dumps({"keys": good["keys"], "endpoint": good["endpoint"]})
    assert phone.post("/me/devices", json={"platform": "web", "token": reordered}).status_code == 200  # same one
    problems = {
        "not json at all": "as JSON",
        json.dumps({"endpoint": "http://93.184.215.14/push", "keys": good["keys"]}): "https",
        json.dumps({"endpoint": "https://127.0.0.1/push", "keys": good["keys"]}): "publicly routable",
        json.dumps({"endpoint": "https://169.254.169.254/latest", "keys": good["keys"]}): "publicly routable",
        json.dumps({"endpoint": "https://[::ffff:10.0.0.1]/push", "keys": good["keys"]}): "publicly routable",
        json.dumps({"endpoint": good["endpoint"]}): "no keys",
        json.dumps({"endpoint": good["endpoint"], "keys": {**good["keys"], "p256dh": "AAAA"}}): "p256dh",
        json.dumps({"endpoint": good["endpoint"], "keys": {**good["keys"], "auth": "c2hvcnQ"}}): "auth",
    }
    for token, words in problems.items():
        refused = phone.post("/me/devices", json={"platform": "web", "token": token})
        assert refused.status_code == 422, token
        assert words in refused.get_json()["errors"]["token"][0], (token, refused.get_json())
    with app.app_context():
        assert db.session.execute(select(Device)).scalars().all()[0].token == json.dumps(
            {"endpoint": good["endpoint"], "keys": good["keys"]}, sort_keys=True, separators=(",", ":"))


def test_the_openapi_document_describes_the_new_fields(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "phone" in schemas["ClinicPatchIn"]["properties"] and "phone" in schemas["ClinicOut"]["properties"]
    assert schemas["PatientIn"]["properties"]["language"]["enum"] == ["en", "es"]
    assert {"language", "goals"} <= set(schemas["PatientOut"]["properties"])
    assert "web" in schemas["DeviceIn"]["properties"]["platform"]["enum"]
    assert {"get", "patch"} <= set(document["paths"]["/api/v1/me"])
