"""Texts through a real worker on PostgreSQL, to a local server that speaks Twilio's Messages API, with Twilio's
signed callbacks (docs/sms.md): a reminder by text to a patient without the app and none to one with it, quiet
hours in two timezones, the daily cap, STOP then nothing then START, HELP's answer, CALL on the worklist with its
notification, a sign-in link used once, a forged callback refused, and a broker and provider outage that delays
texts without losing or doubling one. Every text sent is checked for patient data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from api.extensions import db
from api.models import Alert, Device, InboundMessage, Notification, Patient, SignInLink
from api.services import notifications

from ..conftest import sign_in
from ..diary.helpers import DiaryPage
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from ..texting_helpers import assert_no_patient_data, zone_at
from .conftest import PrivateRedis, wait_for
from .test_push import configured
from .twilio_server import TwilioServer

pytestmark = pytest.mark.integration

PUBLIC = "http://127.0.0.1:8000"  # PUBLIC_BASE_URL of the app and the worker: what Twilio is given and signs
ROSA, PEDRO, LENA = "+12015550101", "+12015550102", "+12015550103"


def _world(app) -> dict:
    with app.app_context():
        clinic = ClinicFactory(name="Riverside Pain Clinic", phone="+12015550100")
        nurse = UserFactory(clinic=clinic, role="nurse")
        physician = UserFactory(clinic=clinic, role="physician")
        consented = datetime.now(UTC)
        people = {}
        for name, number, zone, device in (("Rosa Alvarez", ROSA, zone_at(12), False),
                                           ("Pedro Okafor", PEDRO, zone_at(12), True),
                                           ("Lena Whitfield", LENA, zone_at(23), False)):
            patient = PatientFactory(clinic=clinic, display_name=name, timezone=zone, mobile_number=number,
                                     sms_consent_at=consented, sms_consent_source="staff")
            trial = TrialFactory(patient=patient, timezone=zone, care_team=[nurse, physician])
            if device:
                db.session.add(Device(user_id=patient.user_id, platform="android", token="fcm-" + "x" * 60))
            people[number] = {"patient_id": patient.id, "trial_id": trial.id, "name": name, "mrn": patient.mrn,
                              "email": patient.user.email}
        db.session.commit()
        return {"nurse": nurse.email, "patients": people}


def _rows(app, **filters) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).filter_by(**filters).order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def _token(message: dict) -> str:
    return message["Body"].split("#token=")[1].split()[0]


def test_texts_on_a_real_worker_to_a_local_twilio(pg, workers, client_of, tmp_path, caplog):
    twilio = TwilioServer().start()
    broker = PrivateRedis(tmp_path)
    broker.start()
    settings = twilio.settings(SMS_DAILY_LIMIT="2", REMINDER_LOCAL_HOUR="0", NOTIFICATION_RETRY_BASE_SECONDS="1",
                               NOTIFICATION_LEASE_SECONDS="4")
    try:
        world = _world(pg)
        people = world["patients"]
        workers.start(broker=broker.url, **settings)
        client = client_of(pg)
        with configured(pg, {**settings, "SMS_DAILY_LIMIT": 2, "REMINDER_LOCAL_HOUR": 0}):
            # The evening sweep: a text to Rosa (no app), a push to Pedro's phone, nothing to Lena (23:00 there).
            with pg.app_context():
                assert notifications.send_evening_reminders() == 2
            reminder = wait_for(lambda: twilio.to(ROSA), 60, message="Rosa's reminder at Twilio")[0]
            assert reminder["Body"].startswith("Riverside Pain Clinic: time for today's diary.")
            assert reminder["From"] == "+12015550199"
            assert reminder["StatusCallback"] == f"{PUBLIC}/api/v1/sms/twilio/status"
            wait_for(lambda: (tmp_path / "push.jsonl").exists(), 30, message="Pedro's push")
            assert twilio.to(PEDRO) == [] and twilio.to(LENA) == []
            row = wait_for(lambda: [n for n in _rows(pg, channel="sms") if n.state == "sent"], 30,
                           message="the text marked sent")[0]
            assert row.provider_id == reminder["sid"] and row.provider_status == "queued"

            # Twilio reports delivery; a forged report changes nothing.
            assert twilio.status_callback(client, reminder, "undelivered", "30003", token="forged").status_code == 403
            assert twilio.status_callback(client, reminder, "delivered").status_code == 204
            assert _rows(pg, channel="sms")[0].provider_status == "delivered"

            # The daily cap of 2: the reminder and one sign-in link; a second link request sends nothing.
            for _ in range(2):
                assert client.post("/api/v1/auth/sign-in-link", json={"mobile_number": ROSA}).status_code == 202
            link_text = wait_for(lambda: twilio.to(ROSA)[1:], 60, message="the sign-in link text")[0]
            token = _token(link_text)  # used on the diary page, as the texted link's page does
            page = DiaryPage(pg.test_client())
            assert page.post("sign-in/link", {"token": token}).status_code == 200
            assert page.get("me").get_json()["profile"]["language"] == "en"
            again = DiaryPage(pg.test_client()).post("sign-in/link", {"token": token})
            assert again.status_code == 401 and again.get_json()["code"] == "sign_in_link_used"
            # Pedro's link (staff send it), then 16 minutes pass: refused.
            nurse = sign_in(client, world["nurse"])
            assert nurse.post(f"/patients/{people[PEDRO]['patient_id']}/sign-in-link").status_code == 202
            expired = _token(wait_for(lambda: twilio.to(PEDRO), 60, message="Pedro's link")[0])
            with pg.test_request_context():
                db.session.execute(update(SignInLink).where(SignInLink.used_at.is_(None)).values(
                    expires_at=datetime.now(UTC) - timedelta(minutes=1)))
                db.session.commit()
            refused = DiaryPage(pg.test_client()).post("sign-in/link", {"token": expired})
            assert refused.status_code == 401 and refused.get_json()["code"] == "sign_in_link_expired"

            # STOP, then nothing (HELP gets no answer), then START, and HELP is answered.
            assert twilio.inbound(client, PUBLIC, ROSA, "STOP").status_code == 200
            assert twilio.inbound(client, PUBLIC, ROSA, "HELP").status_code == 200
            assert twilio.inbound(client, PUBLIC, ROSA, "start").status_code == 200
            assert twilio.inbound(client, PUBLIC, ROSA, "help").status_code == 200
            help_text = wait_for(lambda: twilio.to(ROSA)[2:], 60, message="HELP's answer")[0]
            assert help_text["Body"] == ("Riverside Pain Clinic: texts about your diary. Questions? Call "
                                         "+1 201-555-0100. Reply CALL and your care team will call you back. "
                                         "Reply STOP to stop.")
            assert twilio.inbound(client, PUBLIC, ROSA, "Fine today, thanks").status_code == 200
            with pg.app_context():
                kept = db.session.execute(select(InboundMessage.keyword).order_by(InboundMessage.id)).scalars().all()
            assert kept == ["stop", "help", "start", "help", None]

            # CALL from Lena at 23:00 her time: on the worklist with her number, the nurse is told, and the
            # answer to her own text goes at once, quiet hours or not.
            assert twilio.inbound(client, PUBLIC, LENA, "Call").status_code == 200
            rows = nurse.get("/monitoring/trials").get_json()
            assert rows[0]["trial_id"] == people[LENA]["trial_id"] and rows[0]["call_back"]["mobile_number"] == LENA
            answer = wait_for(lambda: twilio.to(LENA), 60, message="the answer to CALL")[0]
            assert "we asked your care team to call you back" in answer["Body"]
            with pg.app_context():
                alert = db.session.execute(select(Alert)).scalar_one()
            wait_for(lambda: [n for n in _rows(pg, alert_id=alert.id, channel="email") if n.state == "sent"], 60,
                     message="the nurse's email about the call-back")
            assert (alert.rule, alert.severity) == ("call_back", "high")

        # Outage: the broker and Twilio are down; a text waits as a row, and goes once when both are back.
        broker.stop()
        twilio.stop()
        with configured(pg, settings):
            assert twilio.inbound(client, PUBLIC, PEDRO, "HELP").status_code == 200
        waiting = [n for n in _rows(pg, channel="sms") if n.state == "pending"]
        assert len(waiting) == 1 and waiting[0].attempts == 0
        broker.start()
        wait_for(lambda: _rows(pg, id=waiting[0].id)[0].attempts >= 1, 90, message="an attempt once the broker is back")
        failed_attempt = _rows(pg, id=waiting[0].id)[0]
        assert failed_attempt.state == "pending" and failed_attempt.last_error == "Twilio unreachable (ConnectionError)"
        twilio.start()
        wait_for(lambda: len(twilio.to(PEDRO)) == 2, 60, message="the answer once Twilio is back")
        wait_for(lambda: _rows(pg, id=waiting[0].id)[0].state == "sent", 30, message="marked sent")
        assert len(twilio.to(PEDRO)) == 2 and twilio.to(PEDRO)[1]["Body"].startswith("Riverside Pain Clinic: texts")

        # Nothing about anyone in any text; no number or body in the logs.
        identity = [w for p in people.values() for w in (*p["name"].split(), p["mrn"], p["email"])]
        assert_no_patient_data([m["Body"] for m in twilio.messages], identity)
        logs = caplog.text + "".join(path.read_text() for path in tmp_path.glob("*.log"))
        for secret in (ROSA, PEDRO, LENA, "Fine today", token, twilio.auth_token):
            assert secret not in logs, secret
        assert all(ROSA not in (n.last_error or "") for n in _rows(pg))
        with pg.app_context():
            assert db.session.get(Patient, people[ROSA]["patient_id"]).textable
    finally:
        twilio.stop()
        broker.stop()
