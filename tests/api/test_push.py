"""The patient's phones: a serious alert from their own entry tells them (once per alert and phone), a
deactivated phone gets nothing, a token is one patient's at a time, and a misconfigured provider fails
the push with a reason. Delivery to real providers: tests/integration/test_push.py."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from api.extensions import db
from api.models import Device, Notification, Trial
from api.services import notifications as service

from ..conftest import drain, entry

ALERT_BODY = "Your care team has been notified. If your symptoms are severe, call emergency services."


def _pushes(app, **filters) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).filter_by(channel="push", **filters)
                                  .order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def _devices(app) -> dict[str, Device]:
    with app.app_context():
        rows = db.session.execute(select(Device).order_by(Device.id)).scalars().all()
        db.session.expunge_all()
        return {d.token: d for d in rows}


def _register(client, token: str, platform: str = "android"):
    return client.post("/me/devices", json={"platform": platform, "token": token})


def test_a_critical_entry_tells_the_patients_active_phones_without_naming_the_symptom(world, app):
    assert _register(world.as_patient, "phone-android-0001").status_code == 201
    assert _register(world.as_patient, "phone-ios-0002", "ios").status_code == 201
    with app.app_context():
        old = db.session.execute(select(Device).where(Device.token == "phone-ios-0002")).scalar_one()
        old.active, old.deactivated_at = False, datetime.now(UTC)
        db.session.commit()
    world.as_patient.post(f"/trials/{world.trial_id}/entries",
                          json=entry(symptoms=["new_weakness"], note="left leg numb since noon"))
    drain(app)
    pushes = _pushes(app)
    android = _devices(app)["phone-android-0001"]
    assert [(p.cause, p.destination, p.state, p.recipient_user_id is not None) for p in pushes] == [
        ("alert", str(android.id), "sent", True)]
    push = pushes[0]
    assert (push.subject, push.body, push.data) == ("Trial Diary", ALERT_BODY,
                                                    {"type": "alert", "trial_id": world.trial_id})
    assert push.alert_id is not None and push.key == f"alert:{push.alert_id}:patient:device:{android.id}"
    written = [json.loads(line) for line in
               (Path(app.config["INSTANCE_PATH"]) / "push.jsonl").read_text().splitlines()]
    mine = [w for w in written if w["data"].get("delivery_id") == push.delivery_id]
    assert mine and mine[0]["data"] == {"delivery_id": push.delivery_id, "type": "alert",
                                        "trial_id": world.trial_id}
    assert "numb" not in json.dumps(mine) and "phone-android-0001" not in json.dumps(mine)
    # The care team sees the patient's push among the trial's notifications.
    listed = world.as_nurse.get(f"/trials/{world.trial_id}/notifications").get_json()
    assert any(n["channel"] == "push" and n["state"] == "sent" for n in listed)


def test_medium_and_low_alerts_do_not_push_and_a_raise_to_high_pushes_once(world, app):
    _register(world.as_patient, "phone-android-0003")
    url = f"/trials/{world.trial_id}/entries"
    world.as_patient.post(url, json=entry(symptoms=["wound_redness", "nausea"]))  # medium and low
    drain(app)
    assert _pushes(app) == []
    world.as_patient.post(url, json=entry(symptoms=["dressing_off"]))  # lead_problem, medium
    drain(app)
    assert _pushes(app) == []
    world.as_patient.post(url, json=entry(symptoms=["lead_dislodged"]))  # the same alert, now high
    world.as_patient.post(url, json=entry(symptoms=["lead_dislodged"]))  # counted on it, no new push
    drain(app)
    pushes = _pushes(app)
    assert len(pushes) == 1 and pushes[0].body == ALERT_BODY
    alerts = world.as_nurse.get(f"/alerts?trial_id={world.trial_id}").get_json()
    lead = next(a for a in alerts if a["rule"] == "lead_problem")
    assert (lead["severity"], lead["count"], pushes[0].alert_id) == ("high", 3, lead["id"])


def test_a_token_belongs_to_one_patient_and_registering_it_again_reactivates_it(world, app):
    def rows():
        with app.app_context():
            found = db.session.execute(select(Device.active, Device.deactivated_at.is_not(None))
                                       .where(Device.token == "shared-phone-token").order_by(Device.id)).all()
            return [tuple(row) for row in found]

    assert _register(world.as_patient, "shared-phone-token").status_code == 201
    assert _register(world.as_second_patient, "shared-phone-token").status_code == 201  # the phone changed hands
    assert rows() == [(False, True), (True, False)]  # (active, deactivated) of the first, then the second patient
    assert _register(world.as_patient, "shared-phone-token").status_code == 200  # back with the first patient
    assert rows() == [(True, False), (False, True)]


def test_the_evening_reminder_skips_deactivated_phones(world, app):
    _register(world.as_patient, "phone-android-0004")
    _register(world.as_patient, "phone-ios-0005", "ios")
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        trial.timezone = "UTC"
        trial.start_at = datetime.now(UTC) - timedelta(days=2)
        gone = db.session.execute(select(Device).where(Device.token == "phone-ios-0005")).scalar_one()
        gone.active = False
        db.session.commit()
        app.config["REMINDER_LOCAL_HOUR"] = 0
        try:
            assert service.send_evening_reminders() == 1
            assert service.send_evening_reminders() == 0  # once per trial, day and phone
        finally:
            app.config["REMINDER_LOCAL_HOUR"] = 19
    assert [p.destination for p in _pushes(app)] == [str(_devices(app)["phone-android-0004"].id)]


def test_a_push_to_a_provider_that_is_not_configured_fails_with_the_reason(world, app):
    _register(world.as_patient, "phone-android-0006")
    _register(world.as_patient, "phone-ios-0007", "ios")
    saved = app.config["PUSH_PROVIDER"]
    try:
        app.config["PUSH_PROVIDER"] = "native"  # FCM and APNs settings are empty in tests
        world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["urinary_retention"]))
        drain(app)
        app.config["PUSH_PROVIDER"] = "pigeon"
        world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry(symptoms=["new_numbness"]))
        drain(app)
    finally:
        app.config["PUSH_PROVIDER"] = saved
    assert [(p.state, p.last_error) for p in _pushes(app)] == [
        ("failed", "FCM is not configured: set FCM_SERVICE_ACCOUNT_FILE"),
        ("failed", "APNs is not configured: set APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC"),
        ("failed", "no push provider named 'pigeon' (expected one of development, fcm, apns, native)"),
        ("failed", "no push provider named 'pigeon' (expected one of development, fcm, apns, native)"),
    ]
    assert all(d.active for d in _devices(app).values())  # a configuration error is not the phone's fault
