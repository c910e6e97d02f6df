"""Safety alerts, routing and escalation, digests, reminders and the worklist, through the API."""

from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

from api.extensions import db
from api.models import Alert, Notification, Trial, User

from ..conftest import drain, entry
from ..factories import TrialFactory, UserFactory


def notifications(app, **filters) -> list[Notification]:
    with app.app_context():
        rows = db.session.query(Notification).filter_by(**filters).order_by(Notification.id).all()
        db.session.expunge_all()
        return rows


def test_a_critical_entry_tells_the_whole_care_team_at_once(world, app):
    world.as_patient.post(f"/trials/{world.trial_id}/entries",
                          json=entry(symptoms=["new_weakness"], note="Legs feel heavy since lunch"))
    drain(app)
    alerts = world.as_nurse.get("/alerts").get_json()
    assert [(a["rule"], a["severity"], a["status"], a["count"]) for a in alerts] == [
        ("neuro_deficit", "critical", "open", 1)]
    sent = notifications(app, cause="alert")
    assert {(n.recipient_user_id, n.channel, n.state) for n in sent} == {
        (world.nurse_id, "email", "sent"), (world.physician_id, "email", "sent")}
    for notification in sent:
        mail = message_from_bytes((Path(app.config["INSTANCE_PATH"]) / "mail" /
                                   f"{notification.delivery_id}.eml").read_bytes(), policy=policy.default)
        assert mail["Message-ID"] == f"<{notification.delivery_id}@trial-diary>"
        text = mail.get_content()
        assert "Legs feel heavy" not in text and "Patient" in text and world.patient not in text
        assert f"http://127.0.0.1:8000/console/trials/{world.trial_id}" in text
    # The care team sees what was sent.
    listed = world.as_nurse.get(f"/trials/{world.trial_id}/notifications").get_json()
    assert {n["state"] for n in listed} == {"sent"} and len(listed) == 2


def test_the_same_rule_five_times_a_day_is_one_alert(world, app):
    # Noon yesterday in the trial's timezone: one local day, in the past, whatever the time the test runs.
    zone = ZoneInfo("America/New_York")
    yesterday = datetime.now(zone).date() - timedelta(days=1)
    morning = datetime.combine(yesterday, time(12), tzinfo=zone)
    for minutes in range(0, 50, 10):
        world.as_patient.post(f"/trials/{world.trial_id}/entries",
                              json=entry(morning + timedelta(minutes=minutes), symptoms=["vomiting"]))
    drain(app)
    drain(app)  # a second pass finds nothing new: nothing is counted twice
    alerts = world.as_nurse.get(f"/alerts?trial_id={world.trial_id}").get_json()
    assert [(a["rule"], a["count"]) for a in alerts] == [("opioid_side_effects", 5)]
    assert notifications(app, cause="alert") == []  # low: the digest, not a message each


def test_high_alerts_go_to_nurses_then_physicians_if_unacknowledged(world, app):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(temperature_c=38.6))
    drain(app)
    assert {n.recipient_user_id for n in notifications(app, cause="alert")} == {world.nurse_id}
    _due_now(app)
    drain(app)
    with app.app_context():
        from api.services.notifications import escalate_due_alerts

        assert escalate_due_alerts() == 1
        assert escalate_due_alerts() == 0
    drain(app)
    escalated = [n for n in notifications(app, cause="alert") if n.data["type"] == "alert.escalated"]
    assert {n.recipient_user_id for n in escalated} == {world.physician_id}


def test_an_acknowledged_critical_alert_does_not_escalate(world, app):
    with app.app_context():
        from api.models import Clinic

        other_physician = UserFactory(clinic=db.session.query(Clinic).filter_by(name="Clinic A").one(),
                                      role="physician")
        db.session.commit()
        other_physician_id = other_physician.id
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(sedation_score=4))
    drain(app)
    alert = world.as_nurse.get("/alerts?status=open").get_json()[0]
    assert alert["rule"] == "respiratory_depression"
    acknowledged = world.as_nurse.post(f"/alerts/{alert['id']}/acknowledge", json={"note": "Called, fine now"})
    assert acknowledged.get_json()["status"] == "acknowledged"
    assert world.as_physician.post(f"/alerts/{alert['id']}/acknowledge", json={}).status_code == 409
    assert world.as_physician.get("/alerts").get_json()[0]["acknowledgement_note"] == "Called, fine now"
    assert world.as_other_nurse.post(f"/alerts/{alert['id']}/acknowledge", json={}).status_code == 404
    # The worklist row keeps saying it for the rest of the trial's local day: who and when.
    row = next(r for r in world.as_nurse.get("/monitoring/trials").get_json() if r["trial_id"] == world.trial_id)
    with app.app_context():
        zone = ZoneInfo(db.session.get(Trial, world.trial_id).timezone)
        nurse_name = db.session.get(User, world.nurse_id).display_name
    today = datetime.now(UTC).astimezone(zone).date().isoformat()
    said = [{"acknowledged_at": acknowledged.get_json()["acknowledged_at"], "by": nurse_name}]
    assert row["critical_acknowledged_today"] == (said if alert["local_day"] == today else [])
    _due_now(app)
    with app.app_context():
        from api.services.notifications import escalate_due_alerts

        assert escalate_due_alerts() == 0
    assert other_physician_id not in {n.recipient_user_id for n in notifications(app)}


def test_an_unacknowledged_critical_alert_reaches_every_physician_of_the_clinic(world, app):
    with app.app_context():
        from api.models import Clinic

        on_call = UserFactory(clinic=db.session.query(Clinic).filter_by(name="Clinic A").one(), role="physician")
        db.session.commit()
        on_call_id = on_call.id
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["bladder_bowel_change"]))
    drain(app)
    _due_now(app)
    with app.app_context():
        from api.services.notifications import escalate_due_alerts

        escalate_due_alerts()
    escalated = {n.recipient_user_id for n in notifications(app) if n.data.get("type") == "alert.escalated"}
    assert escalated == {world.nurse_id, world.physician_id, on_call_id}


def test_a_lead_problem_that_worsens_the_same_day_raises_the_alert(world, app):
    url = f"/trials/{world.trial_id}/entries"
    world.as_patient.post(url, json=entry(symptoms=["dressing_off"]))
    drain(app)
    world.as_patient.post(url, json=entry(symptoms=["lead_dislodged"]))
    drain(app)
    alerts = world.as_nurse.get("/alerts").get_json()
    assert [(a["rule"], a["severity"], a["count"]) for a in alerts] == [("lead_problem", "high", 2)]
    stages = [(n.data["severity"], n.recipient_user_id) for n in notifications(app, cause="alert")]
    assert stages == [("medium", world.nurse_id), ("high", world.nurse_id)]


def test_corrected_and_voided_entries(world, app):
    url = f"/trials/{world.trial_id}/entries"
    created = world.as_patient.post(url, json=entry()).get_json()
    drain(app)
    assert world.as_nurse.get("/alerts").get_json() == []
    world.as_patient.patch(f"{url}/{created['id']}", json={"symptoms": ["urinary_retention"]})
    drain(app)
    assert [a["rule"] for a in world.as_nurse.get("/alerts").get_json()] == ["urinary_retention"]


def test_webhooks_are_registered_by_admins_and_receive_alert_notifications(world, app):
    admin = world.as_admin
    refused = admin.post("/webhooks", json={"url": "https://127.0.0.1/hook"})
    assert refused.status_code == 422 and "url" in refused.get_json()["errors"]
    assert admin.post("/webhooks", json={"url": "http://pager.example.com/hook"}).status_code == 422
    assert world.as_nurse.post("/webhooks", json={"url": "https://pager.example.com/hook"}).status_code == 403
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        created = admin.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "description": "pager"})
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert created.status_code == 201 and len(created.get_json()["secret"]) > 30
    assert "secret" not in admin.get("/webhooks").get_json()[0]
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["clear_fluid_leak"]))
    drain(app)
    hooks = notifications(app, channel="webhook")
    assert len(hooks) == 1 and hooks[0].data["rule"] == "csf_leak"
    assert hooks[0].state == "failed"  # the address is now refused (private networks not allowed)


def test_the_final_evaluation_is_sent_to_the_care_team(world, app):
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(score=2))
    world.as_nurse.patch(f"/trials/{world.trial_id}", json={"end_at": datetime.now(UTC).isoformat()})
    drain(app)
    finals = notifications(app, cause="evaluation")
    assert {n.recipient_user_id for n in finals} == {world.nurse_id, world.physician_id}
    assert all(n.state == "sent" and "final result" in n.subject for n in finals)


def test_missed_diary_days_the_daily_digest_and_the_evening_reminder(world, app):
    with app.app_context():
        from api.models import Trial
        from api.services import alerts
        from api.services import notifications as service

        trial = db.session.get(Trial, world.trial_id)
        trial.timezone = "UTC"
        trial.start_at = datetime.now(UTC).replace(hour=10, minute=0) - timedelta(days=3)
        db.session.commit()
        assert alerts.raise_missed_diaries() == 2  # the two whole days after the implant day
        assert alerts.raise_missed_diaries() == 0
        app.config["DIGEST_HOUR_UTC"] = 0
        assert service.send_daily_digests() == 1  # the nurse; physicians get no digest
        assert service.send_daily_digests() == 0
        app.config["REMINDER_LOCAL_HOUR"] = 0
        assert service.send_evening_reminders() == 0  # no device yet
    assert world.as_patient.post("/me/devices", json={"platform": "ios", "token": "abcdef123456"}).status_code == 201
    assert world.as_patient.post("/me/devices", json={"platform": "ios", "token": "abcdef123456"}).status_code == 200
    with app.app_context():
        assert service.send_evening_reminders() == 1
    world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry())
    drain(app)
    pushed = (Path(app.config["INSTANCE_PATH"]) / "push.jsonl").read_text()
    assert "not recorded today" in pushed and "abcdef123456" not in pushed
    digest = notifications(app, cause="digest")[0]
    assert "missed diary day" in digest.body and digest.recipient_user_id == world.nurse_id
    app.config["DIGEST_HOUR_UTC"], app.config["REMINDER_LOCAL_HOUR"] = 13, 19


def test_the_worklist_puts_what_needs_attention_first(world, app):
    now = datetime.now(UTC)
    with app.app_context():
        from api.models import Patient, Trial

        base = db.session.get(Trial, world.trial_id)
        patient = db.session.get(Patient, world.patient_id)
        nurse = base.care_team_members[0].user

        def trial(**fields):
            made = TrialFactory(patient=patient, care_team=[nurse], timezone="UTC", **fields)
            db.session.flush()
            return made.id

        ids = {
            "quiet_ends_soon": trial(start_at=now - timedelta(hours=20), end_at=now + timedelta(hours=5)),
            "quiet_ends_later": trial(start_at=now - timedelta(days=1), end_at=now + timedelta(days=6)),
            "high": trial(start_at=now - timedelta(days=2), end_at=now + timedelta(days=5)),
            "critical": trial(start_at=now - timedelta(days=2), end_at=now + timedelta(days=6)),
            "missed": trial(start_at=now - timedelta(days=4), end_at=now + timedelta(days=4)),
            "scheduled": trial(start_at=now + timedelta(days=1), end_at=now + timedelta(days=8)),
            "ended_awaiting_decision": trial(start_at=now - timedelta(days=9), end_at=now - timedelta(days=1)),
            "cancelled": trial(start_at=now - timedelta(days=2), end_at=now + timedelta(days=5), closure="cancelled"),
        }
        db.session.commit()
        base.closure = "cancelled"
        db.session.commit()
    patient_client = world.as_patient
    recent = now - timedelta(minutes=5)
    for name in ids:
        if name not in ("scheduled", "cancelled", "missed"):
            patient_client.post(f"/trials/{ids[name]}/entries", json=entry(recent, score=3))
    patient_client.post(f"/trials/{ids['high']}/entries", json=entry(recent, symptoms=["urinary_retention"]))
    patient_client.post(f"/trials/{ids['critical']}/entries", json=entry(recent, symptoms=["new_numbness"]))
    drain(app)
    with app.app_context():
        from api.services.alerts import raise_missed_diaries

        raise_missed_diaries()
    rows = world.as_nurse.get("/monitoring/trials").get_json()
    order = {trial_id: name for name, trial_id in ids.items()}
    assert [order[r["trial_id"]] for r in rows] == [
        "critical", "high", "missed", "ended_awaiting_decision", "quiet_ends_soon", "quiet_ends_later", "scheduled"]
    critical = rows[0]
    assert (critical["open_alerts"]["critical"], critical["open_alerts"]["high"]) == (1, 0)
    assert (critical["day"], critical["of"], critical["latest_pain"]) == (3, 8, 4)  # the numbness entry, sent last
    assert critical["outcome"] == "insufficient_data" and critical["last_entry_at"]
    assert rows[2]["missed_diary_days"] >= 1
    assert world.as_physician.get("/monitoring/trials?mine=true").get_json() == []
    assert world.as_other_nurse.get("/monitoring/trials").get_json() == []
    assert world.as_patient.get("/monitoring/trials").status_code == 403


def _due_now(app):
    with app.app_context():
        db.session.query(Alert).filter(Alert.escalate_at.isnot(None)).update(
            {"escalate_at": datetime.now(UTC) - timedelta(seconds=1)})
        db.session.commit()
