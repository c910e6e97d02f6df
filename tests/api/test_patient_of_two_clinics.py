"""A person who is a patient of two clinics (issue 18, finding 6): clinic B registering clinic A's patient answers
exactly as for a new patient; the person joins B's record to their one account with B's code and their own
password; one sign-in then reaches both clinics' trials, and each clinic's staff see only their own record.
(The diary page's side: tests/diary/test_patient_of_two_clinics.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import AuditEvent, AuthSession, Clinic, Device, Notification, Patient
from api.services import notifications

from ..conftest import ApiClient, entry, sign_in
from ..factories import PASSWORD, PatientFactory, TrialFactory

ENROLL = "/api/v1/auth/enroll"


def registration(email: str, mrn: str, name: str = "R. Alvarez") -> dict:
    return {"display_name": name, "mrn": mrn, "date_of_birth": "1961-02-03", "email": email,
            "timezone": "America/Chicago"}


def new_trial(staff: ApiClient, patient_id: int) -> int:
    start = datetime.now(UTC) - timedelta(days=1)
    response = staff.post("/trials", json={"patient_id": patient_id, "therapy": "scs", "start_at": start.isoformat(),
                                           "end_at": (start + timedelta(days=7)).isoformat(),
                                           "baseline": {"pain": 7}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def shape(value):
    """The body's structure and types, without its values: what a caller could tell two answers apart by."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


@pytest.fixture
def at_clinic_b(world):
    """Clinic A's patient (world.patient, enrolled, with a trial at A), registered by clinic B's nurse too, with a
    trial at B; B's code not used yet. Returns (B's nurse, B's answer to the registration, B's trial id)."""
    staff_b = world.as_other_nurse
    registered = staff_b.post("/patients", json=registration(world.patient, "B-77", "Rosa Alvarez"))
    assert registered.status_code == 201, registered.get_json()
    body = registered.get_json()
    return staff_b, body, new_trial(staff_b, body["patient"]["id"])


def test_registering_another_clinics_patient_answers_as_a_new_patient_would(world):
    staff_b = world.as_other_nurse
    known = staff_b.post("/patients", json=registration(world.patient.upper(), "B-1"))
    fresh = staff_b.post("/patients", json=registration("someone-new@example.test", "B-2"))
    assert known.status_code == fresh.status_code == 201, known.get_json()
    assert shape(known.get_json()) == shape(fresh.get_json())
    for answer in (known.get_json(), fresh.get_json()):
        assert answer["patient"]["enrolled"] is False and answer["patient"]["goals"] == []
        assert answer["patient"]["mrn"] in ("B-1", "B-2") and answer["enrollment_code"]
    # Nothing of A's record shows: B's record has what B typed.
    assert known.get_json()["patient"]["display_name"] == "R. Alvarez"
    listed = staff_b.get("/patients").get_json()
    assert {p["mrn"] for p in listed} == {"B-1", "B-2"}
    # The same email twice at one clinic is that clinic's own conflict; so is its MRN.
    again = staff_b.post("/patients", json=registration(world.patient, "B-3"))
    assert again.status_code == 409 and "email" in again.get_json()["errors"]


def test_a_care_team_email_is_refused_alike_at_every_clinic(world):
    own_staff = world.as_nurse.post("/patients", json=registration(world.physician, "A-9"))
    other_staff = world.as_nurse.post("/patients", json=registration(world.other_nurse, "A-9"))
    assert own_staff.status_code == other_staff.status_code == 409
    assert own_staff.get_json() == other_staff.get_json()
    assert "email" in own_staff.get_json()["errors"]


def test_the_person_joins_the_second_clinic_with_their_own_password(world, at_clinic_b, app):
    staff_b, registered, trial_b = at_clinic_b
    code, record_b = registered["enrollment_code"], registered["patient"]["id"]
    before = world.as_patient  # a sign-in of A's, opened before
    assert before.get(f"/trials/{trial_b}").status_code == 404  # B's record is not theirs until they use B's code
    assert [t["id"] for t in before.get("/trials").get_json()] == [world.trial_id]

    # A code of B does not replace the person's password: one that is not theirs is refused like a bad code,
    # and the code stays usable.
    refused = world.client.post(ENROLL, json={"enrollment_code": code, "password": "a-password-of-b-staff"})
    bad_code = world.client.post(ENROLL, json={"enrollment_code": "ABCD-EFGH-JKLM", "password": PASSWORD})
    assert refused.status_code == bad_code.status_code == 401
    assert refused.get_json() == bad_code.get_json()
    assert staff_b.get(f"/patients/{record_b}").get_json()["enrolled"] is False
    with app.app_context():  # the refused attempt is in B's trail (who holds a code and tries passwords)
        outcomes = db.session.execute(select(AuditEvent.outcome).where(
            AuditEvent.action == "patient.enroll", AuditEvent.patient_id == record_b)).scalars().all()
        assert outcomes == ["unauthorized"]

    joined = world.client.post(ENROLL, json={"enrollment_code": code, "password": PASSWORD, "language": "es"})
    assert joined.status_code == 200, joined.get_json()
    assert staff_b.get(f"/patients/{record_b}").get_json()["enrolled"] is True
    assert world.client.post(ENROLL, json={"enrollment_code": code, "password": PASSWORD}).status_code == 401

    # Nothing was signed out, the password is the same, and one sign-in reaches both clinics' trials.
    assert before.get("/trials").status_code == 200
    person = sign_in(world.client, world.patient)
    assert sorted(t["id"] for t in person.get("/trials").get_json()) == sorted([world.trial_id, trial_b])
    for trial_id in (world.trial_id, trial_b):
        assert person.get(f"/trials/{trial_id}").status_code == 200
        stored = person.post(f"/trials/{trial_id}/entries", json=entry())
        assert stored.status_code == 201, stored.get_json()
        batch = person.post(f"/trials/{trial_id}/entries/batch", json={"entries": [entry()]})
        assert batch.status_code in (200, 207), batch.get_json()
        assert len(person.get(f"/trials/{trial_id}/entries").get_json()["items"]) == 2
    with app.app_context():
        clinic_of = dict(db.session.execute(select(Patient.id, Patient.clinic_id)).all())
        rows = db.session.execute(select(AuditEvent.patient_id, AuditEvent.clinic_id)
                                  .where(AuditEvent.action == "entry.create")).all()
        assert {patient_id for patient_id, _ in rows} == {world.patient_id, record_b}
        assert all(clinic_id == clinic_of[patient_id] for patient_id, clinic_id in rows)  # each in its clinic's trail


def test_each_clinic_sees_only_its_own_record_trials_and_entries(world, at_clinic_b):
    staff_b, registered, trial_b = at_clinic_b
    record_b = registered["patient"]["id"]
    assert world.client.post(ENROLL, json={"enrollment_code": registered["enrollment_code"],
                                           "password": PASSWORD}).status_code == 200
    person = sign_in(world.client, world.patient)
    for trial_id in (world.trial_id, trial_b):
        assert person.post(f"/trials/{trial_id}/entries", json=entry(note=f"note {trial_id}")).status_code == 201
    staff_a = world.as_nurse
    for staff, own_record, own_trial, foreign_record, foreign_trial in (
            (staff_a, world.patient_id, world.trial_id, record_b, trial_b),
            (staff_b, record_b, trial_b, world.patient_id, world.trial_id)):
        for path in ("/patients/{}", "/trials/{}", "/trials/{}/entries", "/trials/{}/summary"):
            own = own_record if path.startswith("/patients") else own_trial
            foreign = foreign_record if path.startswith("/patients") else foreign_trial
            assert staff.get(path.format(own)).status_code == 200, path
            answer, missing = staff.get(path.format(foreign)), staff.get(path.format(987654))
            assert (answer.status_code, answer.get_json()) == (missing.status_code, missing.get_json()), path
        assert [t["id"] for t in staff.get("/trials").get_json()] == [own_trial]
        listed_records = [p["id"] for p in staff.get("/patients").get_json()]
        assert own_record in listed_records and foreign_record not in listed_records
        listed = staff.get(f"/trials?patient_id={foreign_record}")
        assert listed.status_code == 200 and listed.get_json() == []
        entries = staff.get(f"/trials/{own_trial}/entries").get_json()["items"]
        assert [e["note"] for e in entries] == [f"note {own_trial}"]


def test_a_record_not_yet_joined_is_invisible_to_the_person_and_unwritable(world, at_clinic_b):
    _staff_b, registered, trial_b = at_clinic_b
    person = world.as_patient
    answer, missing = person.post(f"/trials/{trial_b}/entries", json=entry()), \
        person.post("/trials/987654/entries", json=entry())
    assert answer.status_code == missing.status_code == 404 and answer.get_json() == missing.get_json()
    assert person.get(f"/trials?patient_id={registered['patient']['id']}").get_json() == []


def test_a_recovery_code_of_one_clinic_never_opens_the_other_clinics_trials(world, at_clinic_b, app):
    staff_b, registered, trial_b = at_clinic_b
    assert world.client.post(ENROLL, json={"enrollment_code": registered["enrollment_code"],
                                           "password": PASSWORD}).status_code == 200
    # Whoever holds a new code of B (B's staff issued it) replaces the password: account recovery.
    reissued = staff_b.post(f"/patients/{registered['patient']['id']}/enrollment-code").get_json()["enrollment_code"]
    recovered = world.client.post(ENROLL, json={"enrollment_code": reissued, "password": "a-brand-new-password"})
    assert recovered.status_code == 200
    holder = ApiClient(world.client, recovered.get_json()["access_token"])
    assert [t["id"] for t in holder.get("/trials").get_json()] == [trial_b]  # B's only: A's record needs A's code
    assert holder.get(f"/trials/{world.trial_id}").status_code == 404
    with app.app_context():  # every earlier sign-in was ended; A's record waits for A's code
        live = db.session.execute(select(AuthSession).where(AuthSession.revoked_at.is_(None))
                                  .join(Patient, Patient.user_id == AuthSession.user_id)).scalars().all()
        assert len({session.id for session in live}) == 1
    assert world.as_nurse.get(f"/patients/{world.patient_id}").get_json()["enrolled"] is False
    code_a = world.as_nurse.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    assert world.client.post(ENROLL, json={"enrollment_code": code_a,
                                           "password": "a-brand-new-password"}).status_code == 200
    person = sign_in(world.client, world.patient, "a-brand-new-password")
    assert sorted(t["id"] for t in person.get("/trials").get_json()) == sorted([world.trial_id, trial_b])


def test_the_persons_own_settings_are_one_for_both_clinics(world, at_clinic_b):
    staff_b, registered, _trial_b = at_clinic_b
    assert world.client.post(ENROLL, json={"enrollment_code": registered["enrollment_code"],
                                           "password": PASSWORD}).status_code == 200
    person = sign_in(world.client, world.patient)
    assert person.get("/me").get_json()["id"] == world.patient_id  # the first clinic's record
    assert person.patch("/me", json={"goals": ["walk to the mailbox"]}).status_code == 200
    assert person.patch("/me/texting", json={"mobile_number": "+12015550123", "sms_consent": True}).status_code == 200
    for staff, record in ((world.as_nurse, world.patient_id), (staff_b, registered["patient"]["id"])):
        seen = staff.get(f"/patients/{record}").get_json()
        assert seen["goals"] == ["walk to the mailbox"] and seen["sms_consent"] is True


def test_reminders_of_a_record_not_joined_yet_never_reach_the_accounts_phone(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_LOCAL_HOUR", 0)
    with app.app_context():
        person = db.session.get(Patient, world.patient_id).user
        db.session.add(Device(user_id=person.id, platform="android", token="t" * 40))
        record_b = PatientFactory(clinic=db.session.query(Clinic).filter_by(name="Clinic B").one(), user=person,
                                  enrolled_at=None)
        trial_b = TrialFactory(patient=record_b).id
        db.session.commit()
        notifications.send_evening_reminders()
        pushed = lambda: {n.trial_id for n in db.session.query(Notification).filter_by(channel="push")}  # noqa: E731
        assert pushed() == {world.trial_id}  # B's trial: as for a new patient of B (no phone of theirs)
        db.session.query(Notification).delete()
        record_b.enrolled_at = datetime.now(UTC)
        db.session.commit()
        notifications.send_evening_reminders()
        assert pushed() == {world.trial_id, trial_b}
