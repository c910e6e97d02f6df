"""Alerts reach the care team by email and webhook from real workers, through outages and crashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time as clock
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from api.extensions import db
from api.models import Alert, Notification

from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import wait_for
from .receivers import SmtpServer, WebhookReceiver

pytestmark = pytest.mark.integration


def _clinic(app, *, nurses=1, physicians=1, off_team_physicians=0) -> dict:
    with app.app_context():
        clinic = ClinicFactory()
        admin = UserFactory(clinic=clinic, role="admin")
        team = [UserFactory(clinic=clinic, role="nurse") for _ in range(nurses)]
        team += [UserFactory(clinic=clinic, role="physician") for _ in range(physicians)]
        others = [UserFactory(clinic=clinic, role="physician") for _ in range(off_team_physicians)]
        patient = PatientFactory(clinic=clinic, timezone="UTC")
        trial = TrialFactory(patient=patient, care_team=team, timezone="UTC")
        db.session.commit()
        return {"trial_id": trial.id, "patient": patient.user.email, "admin": admin.email,
                "team": {u.email for u in team}, "nurses": {u.email for u in team if u.role == "nurse"},
                "others": {u.email for u in others}}


def _smtp_env(smtp: SmtpServer, **extra) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false",
            "WEBHOOK_ALLOW_PRIVATE": "true", "NOTIFICATION_RETRY_BASE_SECONDS": "1",
            "NOTIFICATION_LEASE_SECONDS": "4", **extra}


def _notifications(app, trial_id) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).where(Notification.trial_id == trial_id)
                                  .order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_a_new_weakness_reaches_the_care_team_by_email_and_webhook_then_escalates(pg, workers, client_of, tmp_path):
    def worker_logs():
        return list(tmp_path.glob("*.log"))

    people = _clinic(pg, nurses=2, physicians=1, off_team_physicians=1)
    smtp, hooks = SmtpServer().start(), WebhookReceiver().start()
    try:
        pg.config["WEBHOOK_ALLOW_PRIVATE"] = True
        admin = sign_in(client_of(pg), people["admin"])
        registered = admin.post("/webhooks", json={"url": hooks.url, "description": "pager"}).get_json()
        pg.config["WEBHOOK_ALLOW_PRIVATE"] = False
        # Escalation after 6 s instead of 15 minutes: the same mechanism, driven by configuration.
        workers.start(**_smtp_env(smtp, CRITICAL_ESCALATION_MINUTES="0.1"))
        sent_at = clock.monotonic()
        patient = sign_in(client_of(pg), people["patient"])
        assert patient.post(f"/trials/{people['trial_id']}/entries", headers={"X-Request-ID": "req-weakness-4711"},
                            json=entry(symptoms=["new_weakness"], note="cannot lift my left foot")).status_code == 201

        wait_for(lambda: smtp.recipients() >= people["team"] and hooks.received, 30, message="the first messages")
        assert clock.monotonic() - sent_at < 30
        first_round = [m for _, m in smtp.messages]
        assert all("cannot lift" not in m.get_content() for m in first_round)
        assert all(m["Message-ID"].startswith("<td-") for m in first_round)
        headers, body = hooks.received[0]
        timestamp, digest = (part.split("=", 1)[1] for part in headers["X-TrialDiary-Signature"].split(","))
        expected = hmac.new(registered["secret"].encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, expected)
        payload = json.loads(body)
        assert payload["type"] == "alert.opened" and payload["data"]["rule"] == "neuro_deficit"
        assert payload["id"] == headers["X-TrialDiary-Delivery"]
        assert "cannot lift" not in body.decode()

        # Nobody acknowledges: the care team is told again, and every physician of the clinic.
        wait_for(lambda: smtp.recipients() >= people["team"] | people["others"], 60, message="the escalation")
        escalations = [tos for tos, m in smtp.messages if "Not acknowledged" in m["Subject"]]
        assert {a for tos in escalations for a in tos} == people["team"] | people["others"]
        wait_for(lambda: len(hooks.received) >= 2, 30, message="the escalation webhook")
        assert json.loads(hooks.received[1][1])["type"] == "alert.escalated"
        # The worker's log of the safety check names the API request that caused it, and never the note.
        worker_log = "".join(path.read_text() for path in worker_logs())
        checks = [line for line in worker_log.splitlines() if "diary.entry_stored" in line and "succeeded" in line]
        assert checks and all('"request_id": "req-weakness-4711"' in line for line in checks)
        assert "cannot lift" not in worker_log
    finally:
        smtp.stop()
        hooks.stop()


def test_the_same_rule_five_times_in_a_day_is_one_alert_on_a_real_worker(pg, workers, client_of):
    people = _clinic(pg)
    smtp = SmtpServer().start()
    try:
        workers.start(**_smtp_env(smtp))
        patient = sign_in(client_of(pg), people["patient"])
        # One UTC day, in the past, whatever the time the test runs (the trial's timezone is UTC).
        yesterday = datetime.now(UTC).replace(hour=0, minute=30, second=0, microsecond=0) - timedelta(days=1)
        for n in range(5):
            body = entry(yesterday.replace(minute=n), symptoms=["positional_headache"])
            assert patient.post(f"/trials/{people['trial_id']}/entries", json=body).status_code == 201

        def alert():
            with pg.app_context():
                return db.session.execute(select(Alert).where(Alert.trial_id == people["trial_id"])).scalars().all()

        wait_for(lambda: (rows := alert()) and rows[0].count == 5, 60, message="five entries on one alert")
        assert len(alert()) == 1
        wait_for(lambda: smtp.messages, 30, message="the nurse's email")
        clock.sleep(2)
        assert len(smtp.messages) == 1  # one message for one alert, not five
    finally:
        smtp.stop()


def test_the_mail_server_down_for_a_while_delays_mail_without_losing_it(pg, workers, client_of):
    people = _clinic(pg)
    smtp = SmtpServer()  # not started: the mail server is down
    workers.start(**_smtp_env(smtp))
    patient = sign_in(client_of(pg), people["patient"])
    patient.post(f"/trials/{people['trial_id']}/entries", json=entry(symptoms=["urinary_retention"]))
    failing = wait_for(lambda: [n for n in _notifications(pg, people["trial_id"]) if n.attempts >= 2], 60,
                       message="failed attempts")
    assert failing[0].state == "pending" and "SMTP" in failing[0].last_error
    smtp.start()
    try:
        wait_for(lambda: smtp.messages, 60, message="the mail after the server is back")
        sent = wait_for(lambda: [n for n in _notifications(pg, people["trial_id"]) if n.state == "sent"], 30,
                        message="the notification marked sent")
        assert sent[0].attempts >= 3
        assert smtp.recipients() == people["nurses"]  # a high alert goes to the care team's nurses
    finally:
        smtp.stop()


def test_a_worker_killed_mid_delivery_loses_nothing_and_resends_with_the_same_id(pg, workers, client_of):
    people = _clinic(pg, nurses=1, physicians=0)
    smtp = SmtpServer(hold_first=20).start()  # the first delivery hangs inside the mail exchange
    try:
        doomed = workers.start("doomed", **_smtp_env(smtp))
        patient = sign_in(client_of(pg), people["patient"])
        patient.post(f"/trials/{people['trial_id']}/entries", json=entry(symptoms=["urinary_retention"]))
        assert smtp.entered.wait(60), "the delivery never reached the mail server"
        doomed.kill()
        assert _notifications(pg, people["trial_id"])[0].state == "pending"

        workers.start("successor", **_smtp_env(smtp))
        wait_for(lambda: len(smtp.messages) >= 2, 60, message="the delivery after the crash")
        sent = wait_for(lambda: [n for n in _notifications(pg, people["trial_id"]) if n.state == "sent"], 30,
                        message="the notification marked sent")
        assert len(sent) == 1
        ids = {message["Message-ID"] for _, message in smtp.messages}
        assert ids == {f"<{sent[0].delivery_id}@trial-diary>"}  # the retry carries the same delivery id
        assert {a for tos, _ in smtp.messages for a in tos} == people["team"]
    finally:
        smtp.stop()

