"""Every message to a patient is in their stored language: the evening reminder, the block reminders, the push
after their own serious entry, the email after a re-enrollment; the console and the API stay English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from api.extensions import db
from api.models import Notification, Patient, Trial
from api.services import block_reminders, notifications
from tests.conftest import drain, entry
from tests.factories import TrialFactory


def _spanish(app, world) -> None:
    with app.app_context():
        db.session.execute(update(Patient).where(Patient.id == world.patient_id).values(language="es"))
        trial = db.session.get(Trial, world.trial_id)
        trial.timezone, trial.start_at = "UTC", datetime.now(UTC) - timedelta(days=2)
        db.session.commit()


def _rows(app, **filters) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(n.cause, n.subject, n.body) for n in db.session.execute(
            select(Notification).filter_by(**filters).order_by(Notification.id)).scalars()]


def test_pushes_and_emails_to_a_spanish_speaking_patient_are_in_spanish(app, world, monkeypatch):
    _spanish(app, world)
    phone = world.as_patient
    assert phone.post("/me/devices", json={"platform": "android", "token": "phone-android-es-01"}).status_code == 201
    monkeypatch.setitem(app.config, "REMINDER_LOCAL_HOUR", 0)
    with app.app_context():
        assert notifications.send_evening_reminders() == 1
    assert _rows(app, cause="reminder") == [
        ("reminder", "Su diario de la prueba", "Todavía no ha anotado nada hoy. Solo toma un minuto.")]
    phone.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"]))
    drain(app)
    pushes = _rows(app, cause="alert", channel="push")
    assert pushes == [("alert", "Trial Diary", "Ya avisamos a su equipo de atención. Si sus síntomas son graves, "
                                               "llame a emergencias.")]
    staff = _rows(app, cause="alert", channel="email")
    assert staff and all(subject.startswith("[CRITICAL]") for _, subject, _ in staff)  # the care team's: English
    code = world.as_nurse.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    world.client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": "a brand new sentence"})
    [(_, subject, body)] = _rows(app, cause="account")
    assert subject == "Se inició sesión en su cuenta de Trial Diary en un teléfono nuevo"
    assert "llame a su clínica ahora" in body


def test_block_reminders_speak_the_patients_language(app, world):
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        patient.language = "es"
        block = TrialFactory(patient=patient, therapy="medial_branch_block", timezone="UTC",
                             start_at=datetime.now(UTC) - timedelta(minutes=16),
                             end_at=datetime.now(UTC) + timedelta(hours=7), baseline={"pain": 7},
                             target={"region": "lumbar", "side": "left", "levels": ["L4-L5"]}, agent="lidocaine")
        db.session.flush()
        block_reminders.schedule_reminders(block)
        db.session.commit()
    world.as_patient.post("/me/devices", json={"platform": "ios", "token": "ab" * 32})
    with app.app_context():
        assert block_reminders.send_block_reminders() == 1
    assert _rows(app, cause="reminder") == [
        ("reminder", "Su diario del bloqueo",
         "¿Cómo está su dolor ahora? Anótelo en su diario: toma unos segundos.")]
