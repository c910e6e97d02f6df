"""The whole story over HTTP: admin -> nurse -> patient and trial -> enrollment -> the diary."""

from datetime import UTC, datetime, timedelta

from api.extensions import db
from api.models import AuditEvent, Clinic, DiaryEntry

from ..conftest import ApiClient, entry, sign_in
from ..factories import ClinicFactory, UserFactory


def test_a_trial_from_the_first_account_to_a_corrected_diary(app, client):
    with app.app_context():
        clinic = ClinicFactory(name="Riverside Pain Center")
        UserFactory(clinic=clinic, role="admin", email="admin@riverside.test")
        other_clinic_nurse = UserFactory(clinic=ClinicFactory(), role="nurse", email="nurse@elsewhere.test")
        db.session.commit()
        other_clinic_nurse_email, clinic_id = other_clinic_nurse.email, clinic.id

    admin = sign_in(client, "admin@riverside.test")
    created = admin.post("/users", json={"email": "Nina@Riverside.test", "role": "nurse",
                                         "password": "a-long-nurse-password", "display_name": "Nina"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["email"] == "nina@riverside.test"
    assert "password" not in created.get_json()
    nurse = sign_in(client, "nina@riverside.test", "a-long-nurse-password")

    patient_response = nurse.post("/patients", json={
        "display_name": "R. Alvarez", "mrn": "A-1001", "date_of_birth": "1961-02-03",
        "email": "ralvarez@example.test", "timezone": "America/Chicago",
    })
    assert patient_response.status_code == 201, patient_response.get_json()
    body = patient_response.get_json()
    code, patient_id = body["enrollment_code"], body["patient"]["id"]
    assert body["patient"]["enrolled"] is False

    start = datetime.now(UTC) - timedelta(days=2)
    trial_response = nurse.post("/trials", json={
        "patient_id": patient_id, "therapy": "scs", "start_at": start.isoformat(),
        "end_at": (start + timedelta(days=7)).isoformat(), "baseline": {"pain": 7.5, "mme": 20},
        "protocol": {"min_pain_relief_percent": 60},
    })
    assert trial_response.status_code == 201, trial_response.get_json()
    trial = trial_response.get_json()
    assert trial["status"] == "active"
    assert trial["timezone"] == "America/Chicago"
    assert trial["protocol"]["min_pain_relief_percent"] == 60
    assert trial["protocol"]["min_compliance"] == 0.7
    entries_url = f"/trials/{trial['id']}/entries"

    # The patient's phone: the code becomes a password; the code is single-use.
    enrolled = client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": "my-phone-password"})
    assert enrolled.status_code == 200, enrolled.get_json()
    assert client.post("/api/v1/auth/enroll", json={"enrollment_code": code,
                                                     "password": "another-password"}).status_code == 401
    patient = ApiClient(client, enrolled.get_json()["access_token"])

    first = entry(score=5, medications=[{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}],
                  symptoms=["wound_redness"], note="Walked to the mailbox.")
    stored = patient.post(entries_url, json=first)
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["pain"] == {"score": 5}
    assert stored.get_json()["recorded_at"] == first["recorded_at"]

    replay = patient.post(entries_url, json=first)
    assert replay.status_code == 200
    assert replay.get_json()["id"] == stored.get_json()["id"]
    changed = patient.post(entries_url, json={**first, "pain": {"score": 9}})
    assert changed.status_code == 409
    assert changed.get_json()["code"] == "conflict"

    batch = [entry(score=3), entry(score=11), entry(score=4), first]
    uploaded = patient.post(f"{entries_url}/batch", json={"entries": batch})
    assert uploaded.status_code == 200
    results = uploaded.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "created", "duplicate"]
    assert "pain" in results[1]["errors"]
    assert results[3]["id"] == stored.get_json()["id"]

    entry_id = stored.get_json()["id"]
    corrected = patient.patch(f"{entries_url}/{entry_id}", json={"pain": {"score": 6, "worst_24h": 8}, "note": None})
    assert corrected.status_code == 200, corrected.get_json()
    assert corrected.get_json()["version"] == 2
    assert corrected.get_json()["pain"] == {"score": 6, "worst_24h": 8}
    assert "note" not in corrected.get_json()
    assert corrected.get_json()["symptoms"] == ["wound_redness"]
    versions = patient.get(f"{entries_url}/{entry_id}/versions").get_json()
    assert versions[0]["content"]["pain"] == {"score": 5}
    # The phone replays its original create after the correction: still the same entry, not a conflict.
    assert patient.post(entries_url, json=first).status_code == 200

    voided_id = results[0]["id"]
    voided = patient.delete(f"{entries_url}/{voided_id}", json={"reason": "Entered twice"})
    assert voided.status_code == 200
    assert voided.get_json()["voided"] is True
    assert patient.delete(f"{entries_url}/{voided_id}?reason=again").get_json()["void_reason"] == "Entered twice"

    listing = nurse.get(entries_url).get_json()
    assert len(listing["items"]) == 3
    assert {e["voided"] for e in listing["items"]} == {True, False}

    # Strangers: another patient of the clinic, a nurse of another clinic: 404 on all of it.
    with app.app_context():
        from ..factories import PatientFactory

        stranger = PatientFactory(clinic=db.session.get(Clinic, clinic_id))
        db.session.commit()
        stranger_email = stranger.user.email
    for outsider in (sign_in(client, stranger_email), sign_in(client, other_clinic_nurse_email)):
        assert outsider.get(f"/trials/{trial['id']}").status_code == 404
        assert outsider.get(entries_url).status_code == 404
        assert outsider.get(f"{entries_url}/{entry_id}").status_code == 404
        assert outsider.post(entries_url, json=entry()).status_code == 404
        assert outsider.patch(f"{entries_url}/{entry_id}", json={"pain": {"score": 1}}).status_code == 404
        assert outsider.delete(f"{entries_url}/{entry_id}?reason=x").status_code == 404
        assert outsider.get(f"/trials/{trial['id']}/evaluations").status_code == 404
    assert sign_in(client, other_clinic_nurse_email).get(f"/patients/{patient_id}").status_code == 404

    with app.app_context():
        assert db.session.query(DiaryEntry).filter_by(trial_id=trial["id"]).count() == 3
        events = db.session.query(AuditEvent).filter_by(patient_id=patient_id).all()
        actions = {(e.action, e.outcome) for e in events}
        assert ("patient.create", "success") in actions
        assert ("trial.create", "success") in actions
        assert ("patient.enroll", "success") in actions
        assert ("entry.create", "success") in actions
        assert ("entry.create", "conflict") in actions
        assert ("entry.batch", "success") in actions
        assert ("entry.correct", "success") in actions
        assert ("entry.void", "success") in actions
        assert ("entry.list", "success") in actions
        assert ("trial.read", "not_found") in actions
        refused = [e for e in events if e.outcome == "not_found"]
        assert refused and all(e.actor_user_id is not None and e.address for e in refused)


def test_patient_data_never_reaches_the_logs(world, app, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    note = "Zebra-unique note about my daughter's wedding"
    patient = world.as_patient
    url = f"/trials/{world.trial_id}/entries"
    created = patient.post(url, json=entry(note=note, symptoms=["new_weakness"])).get_json()
    patient.post(url, json={**entry(note=note), "pain": {"score": "bad"}})  # a refusal echoes nothing sensitive
    patient.patch(f"{url}/{created['id']}", json={"note": note + " (edited)"})
    nurse_created = world.as_nurse.post("/patients", json={
        "display_name": "Quentin Uniquename", "mrn": "MRN-UNIQUE-77", "date_of_birth": "1944-07-04",
        "email": "quentin@example.test", "timezone": "UTC"}).get_json()
    world.client.post("/api/v1/auth/enroll", json={"enrollment_code": nurse_created["enrollment_code"],
                                                   "password": "a-fine-password"})
    world.client.post("/api/v1/auth/login", json={"email": "quentin@example.test", "password": "wrong-password"})
    from ..conftest import drain

    drain(app)
    logged = caplog.text
    assert "Legs" not in logged and "Zebra-unique" not in logged and "wedding" not in logged
    for secret in ("Quentin", "Uniquename", "MRN-UNIQUE-77", "1944-07-04", "quentin@example.test",
                   nurse_created["enrollment_code"], "a-fine-password", world.patient):
        assert secret not in logged, secret
    assert "POST /api/v1/trials/<int:trial_id>/entries 201" in logged  # the logs do say what happened
