"""Issue 10: what failed in production (PostgreSQL), under bad input, or on a second look. Every test here runs on
SQLite and on PostgreSQL (the app fixture); each pins one finding."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from api import config as settings
from api import create_app
from api.extensions import db
from api.models import AuditEvent, AuthSession, DiaryEntry, DiaryEntryVersion, EnrollmentCode, EvaluationRequest, Trial
from api.services.evaluations import FAILED_RETRY_SECONDS, request_evaluation, run_evaluations

from ..conftest import ApiClient, drain, entry, sign_in
from ..factories import PatientFactory, TrialFactory

BIG = 2**31


def test_a_year_1_trial_is_refused_and_one_bad_stored_row_never_holds_back_the_others(world, app):
    # Finding 2: at the door...
    start = {"patient_id": world.patient_id, "therapy": "scs", "baseline": {"pain": 8},
             "start_at": "0001-01-01T00:00:00+00:00", "end_at": "2026-11-30T00:00:00+00:00"}
    refused = world.as_nurse.post("/trials", json=start)
    assert refused.status_code == 422 and "start_at" in refused.get_json()["errors"]
    # ...and, for a row that got in anyway (before this check existed), in the worker: per trial.
    with app.app_context():
        bad = TrialFactory(patient=db.session.get(Trial, world.trial_id).patient,
                           start_at=datetime(1, 1, 1, tzinfo=UTC), end_at=datetime(1, 1, 8, tzinfo=UTC))
        db.session.commit()
        bad_id = bad.id
        for trial_id in (bad_id, world.trial_id):
            request_evaluation(trial_id=trial_id, immediately=True)
        db.session.commit()
        stored = run_evaluations(trial_ids=[bad_id, world.trial_id])
        assert [e.trial_id for e in stored] == [world.trial_id]
        waiting = db.session.get(EvaluationRequest, bad_id)
        assert waiting is not None and waiting.dispatched_at is None
        assert waiting.due_at > datetime.now(UTC) + timedelta(seconds=FAILED_RETRY_SECONDS - 60)
        assert db.session.get(EvaluationRequest, world.trial_id) is None


def test_with_the_database_unreachable_requests_get_503_with_retry_after(tmp_path):
    # Finding 4 (the outage and the pool's recovery after a real restart: tests/integration/test_outage.py).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    client = app.test_client()
    for answer in (client.post("/api/v1/auth/login", json={"email": "a@b.test", "password": "whatever-password"}),
                   client.get("/api/v1/readyz")):
        assert answer.status_code == 503, answer.get_json()
    login = client.post("/api/v1/auth/login", json={"email": "a@b.test", "password": "whatever-password"})
    assert login.headers["Retry-After"].isdigit()
    assert login.get_json() == {"code": "service_unavailable", "status": 503,
                                "message": "The service is briefly unavailable; nothing was stored. Try again shortly."}


def test_filters_by_an_unknown_or_foreign_id_are_empty_and_audited_as_refused(world, app):
    # Finding 5: no 500 (the audit row's foreign key), and no existence oracle.
    with app.app_context():
        foreign = PatientFactory()  # another clinic's
        foreign_trial = TrialFactory(patient=foreign)
        db.session.commit()
        foreign_id, foreign_trial_id = foreign.id, foreign_trial.id
    nurse = world.as_nurse
    for path in (f"/trials?patient_id={foreign_id}", "/trials?patient_id=999999",
                 f"/alerts?trial_id={foreign_trial_id}", "/alerts?trial_id=999999"):
        answer = nurse.get(path)
        assert (answer.status_code, answer.get_json()) == (200, []), path
    assert len(nurse.get(f"/trials?patient_id={world.patient_id}").get_json()) == 1
    assert world.as_second_patient.get(f"/trials?patient_id={world.patient_id}").get_json() == []
    with app.app_context():
        refused = db.session.execute(select(AuditEvent.action, AuditEvent.patient_id, AuditEvent.object_id)
                                     .where(AuditEvent.outcome == "not_found")).all()
    assert sorted(refused) == sorted([
        ("trial.list", None, str(foreign_id)), ("trial.list", None, "999999"),
        ("alert.list", None, str(foreign_trial_id)), ("alert.list", None, "999999"),
        ("trial.list", None, str(world.patient_id))])


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("get", f"/trials/{BIG}", None, 404, None),
    ("get", f"/trials/{{trial}}/entries/{BIG}", None, 404, None),
    ("post", f"/alerts/{BIG}/acknowledge", {}, 404, None),
    ("get", f"/trials?patient_id={BIG}", None, 422, "patient_id"),
    ("get", f"/alerts?trial_id={BIG}", None, 422, "trial_id"),
    ("patch", "/trials/{trial}", {"care_team": [BIG]}, 422, "care_team"),
    ("get", "/trials/{trial}/entries?cursor=MjAyNi0xMS0yMVQxMDowMDowMCswMDowMHwyMTQ3NDgzNjQ4", None, 422, "cursor"),
    ("get", "/trials/{trial}?unknown=1", None, 422, "unknown"),
    ("get", "/trials?sort=name", None, 422, "sort"),
    ("get", "/trials/{trial}/entries?updated_since=9999-12-31T23:59:59-14:00", None, 422, "updated_since"),
])
def test_out_of_range_ids_dates_and_unknown_query_parameters_are_4xx(world, method, path, body, status, field):
    # Findings 6 and 17. The cursor above encodes an id of 2^31.
    answer = getattr(world.as_nurse, method)(path.format(trial=world.trial_id), json=body)
    assert answer.status_code == status, answer.get_json()
    if field:
        assert field in answer.get_json()["errors"]


@pytest.mark.parametrize("text", ["before\x00after", "lone \ud800 surrogate"])
def test_text_postgresql_cannot_store_is_refused_naming_its_field(world, text):
    # Finding 6: NUL bytes and lone surrogates, in a note, a medication name, a patient's name, a login.
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    for body, field in ((entry(note=text), "note"),
                        (entry(medications=[{"name": text, "dose": 5, "unit": "mg"}]), "medications")):
        answer = patient.post(url, json=body)
        assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()
    batch = patient.post(f"{url}/batch", json={"entries": [entry(note=text), entry()]}).get_json()["results"]
    assert [r["status"] for r in batch] == ["invalid", "created"] and "note" in batch[0]["errors"]
    named = world.as_nurse.post("/patients", json={"display_name": text, "mrn": "N-1", "date_of_birth": "1950-01-01",
                                                  "email": "n1@example.test", "timezone": "UTC"})
    assert named.status_code == 422 and "display_name" in named.get_json()["errors"]
    login = world.client.post("/api/v1/auth/login", json={"email": world.nurse, "password": text})
    assert login.status_code == 422 and "password" in login.get_json()["errors"]


def test_json_nested_5000_levels_is_400(world):
    nested = "[" * 5000 + "]" * 5000
    for path in (f"/api/v1/trials/{world.trial_id}/entries", "/api/v1/auth/login"):
        answer = world.as_patient.post(path, data=nested, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, path
        assert answer.get_json()["code"] == "bad_request"


@pytest.mark.parametrize(("field", "value"), [
    ("recorded_at", "0001-01-01T00:00:00+14:00"),
    ("recorded_at", "1999-12-31T23:59:59+00:00"),
])
def test_instants_outside_a_sane_range_are_422(world, field, value):
    answer = world.as_patient.post(f"/trials/{world.trial_id}/entries", json={**entry(), field: value})
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_re_enrollment_is_account_recovery(world, app):
    # Finding 8: a nurse issues a new code for an enrolled patient and enrolls with it.
    patient = world.as_patient
    url = f"/trials/{world.trial_id}/entries"
    first = patient.post(url, json=entry(score=3)).get_json()
    code = world.as_nurse.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    taken = world.client.post("/api/v1/auth/enroll", json={"enrollment_code": code, "password": "a-new-password-77"})
    assert taken.status_code == 200
    # Every earlier sign-in of the patient ends at once.
    assert patient.post(url, json=entry()).status_code == 401
    assert patient.get(f"/trials/{world.trial_id}").status_code == 401
    impostor = ApiClient(world.client, taken.get_json()["access_token"])
    second = impostor.post(url, json=entry(score=2)).get_json()
    drain(app)
    with app.app_context():
        entries = {e.id: e.auth_session_id for e in db.session.execute(select(DiaryEntry)).scalars()}
        sessions = {s.id: s for s in db.session.execute(select(AuthSession)).scalars()}
        code_row = db.session.execute(select(EnrollmentCode).order_by(EnrollmentCode.id.desc())).scalars().first()
        # Each entry names the sign-in that wrote it; the new sign-in names the code, the code who issued it.
        assert entries[first["id"]] != entries[second["id"]]
        assert sessions[entries[second["id"]]].enrollment_code_id == code_row.id
        assert code_row.issued_by == world.nurse_id
        assert sessions[entries[first["id"]]].revoked_at is not None
        audit = db.session.execute(select(AuditEvent.action, AuditEvent.actor_user_id, AuditEvent.outcome)
                                   .where(AuditEvent.action.in_(["patient.enrollment_code", "patient.reenroll"]))).all()
        assert sorted(audit) == sorted([("patient.enrollment_code", world.nurse_id, "success"),
                                        ("patient.reenroll", None, "success")])
        from api.models import Notification

        told = db.session.execute(select(Notification).where(Notification.cause == "account")).scalars().one()
        assert (told.destination, told.state) == (world.patient, "sent")
        mail = message_from_bytes((Path(app.config["INSTANCE_PATH"]) / "mail" / f"{told.delivery_id}.eml")
                                  .read_bytes(), policy=policy.default)
        assert "signed out" in mail.get_content() and "call your clinic" in mail.get_content()


def test_a_correction_names_the_sign_in_that_wrote_each_version(world, app):
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    created = patient.post(url, json=entry(score=6)).get_json()
    corrector = sign_in(world.client, world.patient)  # the same patient from a second phone
    corrector.patch(f"{url}/{created['id']}", json={"pain": {"score": 2}})
    with app.app_context():
        current = db.session.get(DiaryEntry, created["id"])
        old = db.session.execute(select(DiaryEntryVersion)).scalars().one()
        assert current.auth_session_id and old.auth_session_id and current.auth_session_id != old.auth_session_id


def test_acknowledging_stops_escalation_and_a_second_acknowledgement_is_a_conflict(world, app):
    # Finding 15.
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_weakness"]))
    drain(app)
    alert = world.as_nurse.get("/alerts").get_json()[0]
    assert alert["escalate_at"] is not None
    done = world.as_nurse.post(f"/alerts/{alert['id']}/acknowledge", json={"note": "Seen in clinic"}).get_json()
    assert done["escalate_at"] is None and done["updated_at"] > alert["updated_at"]
    again = world.as_physician.post(f"/alerts/{alert['id']}/acknowledge", json={"note": "Me too"})
    assert again.status_code == 409
    assert again.get_json()["details"]["acknowledged_by"] == world.nurse_id
    assert world.as_nurse.get("/alerts").get_json()[0]["acknowledgement_note"] == "Seen in clinic"


def test_changing_a_trial_moves_its_updated_at(world):
    before = world.as_nurse.get(f"/trials/{world.trial_id}").get_json()["updated_at"]
    after = world.as_nurse.patch(f"/trials/{world.trial_id}", json={"care_team": [world.nurse_id]}).get_json()
    assert after["updated_at"] > before


def test_the_link_in_messages_follows_the_port_serve_uses(monkeypatch, tmp_path):
    # Finding 16 (the path, /console/trials/{id}, is checked in tests/api/test_alerts.py).
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert settings.load()["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://diary.clinic.example")
    assert settings.load()["PUBLIC_BASE_URL"] == "https://diary.clinic.example"


def test_the_openapi_document_describes_errors_and_batches_as_they_are(client):
    # Findings 7 and 17.
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert (error["code"]["type"], error["status"]["type"]) == ("string", "integer") and "details" in error
    batch = spec["components"]["schemas"]["BatchIn"]["properties"]["entries"]
    assert batch["items"] == {"$ref": "#/components/schemas/EntryIn"}
    wrong_method = client.put("/api/v1/auth/login", json={})
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]


def test_the_callers_address_comes_from_a_trusted_proxy_only(world, app, monkeypatch, tmp_path):
    # Behind a reverse proxy every caller would share its address (one sign-in limit for everyone, audit rows
    # naming the proxy): TRUSTED_PROXIES believes that many proxies' X-Forwarded-For, and nothing else does.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert world.as_nurse.get(f"/trials/{world.trial_id}", headers=dict(forwarded)).status_code == 200
    behind = create_app({**app.config, "TRUSTED_PROXIES": 1})
    token = sign_in(behind.test_client(), world.nurse).token
    assert ApiClient(behind.test_client(), token).get(f"/trials/{world.trial_id}",
                                                       headers=dict(forwarded)).status_code == 200
    with app.app_context():
        addresses = db.session.execute(select(AuditEvent.address).where(AuditEvent.action == "trial.read")
                                       .order_by(AuditEvent.id)).scalars().all()
    assert addresses == ["127.0.0.1", "203.0.113.9"]
