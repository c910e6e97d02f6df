"""Pushes reach local FCM and APNs servers that speak each protocol and check the credentials; a dead token
deactivates its device; a busy provider is retried; nothing in a push names the patient."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from api.channels.push import close_providers
from api.extensions import db
from api.models import Device, Notification, Trial
from api.services import notifications as service

from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import wait_for
from .push_servers import ApnsServer, FcmServer

pytestmark = pytest.mark.integration

ANDROID_TOKEN = "fcm-" + "a1B2c3D4e5" * 15  # FCM registration tokens are long and opaque
IOS_TOKEN = "9f" * 32  # APNs device tokens are 32 bytes in hex
NOTE = "cannot feel my toes since the dressing change"


@pytest.fixture
def servers(tmp_path):
    fcm, apns = FcmServer(tmp_path).start(), ApnsServer(tmp_path).start()
    yield fcm, apns
    close_providers()  # this process's connections: the servers then stop at once
    fcm.stop()
    apns.stop()


def push_settings(fcm: FcmServer, apns: ApnsServer, **overrides) -> dict[str, str]:
    return {"PUSH_PROVIDER": "native", "FCM_SERVICE_ACCOUNT_FILE": str(fcm.service_account_file()),
            "FCM_ENDPOINT": fcm.url, "APNS_KEY_FILE": str(apns.key_file), "APNS_KEY_ID": apns.key_id,
            "APNS_TEAM_ID": apns.team_id, "APNS_TOPIC": apns.topic, "APNS_ENDPOINT": apns.url,
            "APNS_CA_FILE": str(apns.ca_file), **overrides}


@contextmanager
def configured(app, settings: dict):
    """The settings in this (in-process) app's config, as the environment would give them."""
    typed = {k: float(v) if k.endswith("_SECONDS") else v for k, v in settings.items()}
    saved = {k: app.config.get(k) for k in typed}
    app.config.update(typed)
    try:
        yield
    finally:
        app.config.update(saved)


def _patient_with_phones(app, client_of) -> dict:
    """A clinic, a patient on an active UTC trial, and their two phones registered through the API."""
    with app.app_context():
        clinic = ClinicFactory()
        team = [UserFactory(clinic=clinic, role="nurse"), UserFactory(clinic=clinic, role="physician")]
        patient = PatientFactory(clinic=clinic, timezone="UTC", display_name="Rosa Alvarez", mrn="MRN-PUSH-4711")
        trial = TrialFactory(patient=patient, care_team=team, timezone="UTC")
        db.session.commit()
        people = {"trial_id": trial.id, "patient": patient.user.email, "patient_user_id": patient.user_id,
                  "identity": ["Rosa", "Alvarez", "R.A.", "MRN-PUSH-4711", patient.user.email, "1958-04-12"]}
    phone = sign_in(client_of(app), people["patient"])
    for platform, token in (("android", ANDROID_TOKEN), ("ios", IOS_TOKEN)):
        assert phone.post("/me/devices", json={"platform": platform, "token": token}).status_code == 201
    people["phone"] = phone
    return people


def _rows(app, **filters) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).filter_by(channel="push", **filters)
                                  .order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def _devices(app) -> dict[str, Device]:
    with app.app_context():
        rows = db.session.execute(select(Device)).scalars().all()
        db.session.expunge_all()
        return {d.platform: d for d in rows}


def _remind(app) -> int:
    """The evening sweep, due now (the reminder hour is set to midnight)."""
    with app.app_context(), configured(app, {"REMINDER_LOCAL_HOUR": 0}):
        return service.send_evening_reminders()


def _deliver_all(app) -> dict[int, str]:
    with app.app_context():
        ids = [n.id for n in db.session.execute(select(Notification).where(Notification.state == "pending"))
               .scalars()]
        db.session.rollback()
        return {i: service.deliver(notification_id=i) for i in ids}


def _assert_no_patient_data(raw: bytes, people: dict) -> None:
    text = raw.decode()
    for value in (*people["identity"], NOTE, "toes"):
        assert value not in text, value


def test_a_reminder_and_an_alert_reach_fcm_and_apns_from_a_real_worker(servers, pg, workers, client_of, tmp_path):
    # `servers` first: they stop after the worker, which holds a connection to each
    fcm, apns = servers
    people = _patient_with_phones(pg, client_of)
    workers.start(**push_settings(fcm, apns), NOTIFICATION_RETRY_BASE_SECONDS="1", NOTIFICATION_LEASE_SECONDS="4")

    # The evening sweep writes one reminder per phone; the worker's beat dispatches and delivers them.
    assert _remind(pg) == 2
    wait_for(lambda: fcm.messages and apns.received, 60, message="the reminder at both providers")
    reminders = {n.destination: n for n in _rows(pg, cause="reminder")}
    devices = _devices(pg)
    wait_for(lambda: {n.state for n in _rows(pg, cause="reminder")} == {"sent"}, 30, message="reminders sent")

    message = fcm.messages[0]["body"]["message"]
    assert message["token"] == ANDROID_TOKEN
    assert message["notification"] == {"title": "Your trial diary",
                                       "body": "You have not recorded today yet. It takes a minute."}
    android_row = reminders[str(devices["android"].id)]
    assert message["data"] == {"type": "reminder", "trial_id": str(people["trial_id"]),
                               "delivery_id": android_row.delivery_id}
    assert fcm.messages[0]["headers"]["Authorization"].removeprefix("Bearer ") in fcm.issued

    push = apns.received[0]
    ios_row = reminders[str(devices["ios"].id)]
    assert push["token"] == IOS_TOKEN
    assert push["payload"] == {"aps": {"alert": {"title": "Your trial diary",
                                                 "body": "You have not recorded today yet. It takes a minute."},
                                       "sound": "default"},
                               "type": "reminder", "trial_id": people["trial_id"], "delivery_id": ios_row.delivery_id}
    assert push["headers"]["apns-topic"] == apns.topic and push["headers"]["apns-push-type"] == "alert"
    assert uuid.UUID(push["headers"]["apns-id"]).version == 5  # derived from the delivery id: same on a retry
    assert push["claims"]["iss"] == apns.team_id

    # A critical entry: the care team is told (email), and the patient's phones say so.
    assert people["phone"].post(f"/trials/{people['trial_id']}/entries",
                                json=entry(symptoms=["new_weakness"], note=NOTE)).status_code == 201
    wait_for(lambda: len(fcm.messages) >= 2 and len(apns.received) >= 2, 60, message="the alert push")
    alert_body = "Your care team has been notified. If your symptoms are severe, call emergency services."
    assert fcm.messages[1]["body"]["message"]["notification"] == {"title": "Trial Diary", "body": alert_body}
    assert fcm.messages[1]["body"]["message"]["data"]["type"] == "alert"
    assert apns.received[1]["payload"]["aps"]["alert"] == {"title": "Trial Diary", "body": alert_body}
    assert apns.received[1]["payload"]["type"] == "alert"
    wait_for(lambda: {n.state for n in _rows(pg)} == {"sent"} and len(_rows(pg)) == 4, 30, message="all sent")
    assert {n.alert_id is not None for n in _rows(pg, cause="alert")} == {True}

    # One OAuth grant and one APNs provider token served all four pushes (each cached by the worker).
    assert len(fcm.grants) == 1 and fcm.grants[0]["iss"] == fcm.client_email
    assert len(apns.provider_tokens) == 1
    for raw in [m["raw"] for m in fcm.messages] + [p["raw"] for p in apns.received]:
        _assert_no_patient_data(raw, people)
    worker_log = "".join(path.read_text() for path in tmp_path.glob("*.log"))
    assert ANDROID_TOKEN not in worker_log and IOS_TOKEN not in worker_log and NOTE not in worker_log


@pytest.mark.parametrize("provider_says", ["fcm 404 UNREGISTERED", "fcm 400 INVALID_ARGUMENT",
                                           "apns 410 Unregistered", "apns 400 BadDeviceToken"])
def test_a_token_the_provider_reports_unregistered_deactivates_the_device(pg, client_of, servers, provider_says):
    fcm, apns = servers
    people = _patient_with_phones(pg, client_of)
    provider, status, _ = provider_says.split()
    dead, alive = ("android", "ios") if provider == "fcm" else ("ios", "android")
    server, token = (fcm, ANDROID_TOKEN) if provider == "fcm" else (apns, IOS_TOKEN)
    (server.unregistered if status in ("404", "410") else server.malformed).add(token)
    with configured(pg, push_settings(fcm, apns)):
        assert _remind(pg) == 2
        _deliver_all(pg)
        devices = _devices(pg)
        assert not devices[dead].active and devices[dead].deactivated_at is not None
        assert devices[alive].active
        failed = [n for n in _rows(pg) if n.state == "failed"]
        assert [n.destination for n in failed] == [str(devices[dead].id)]
        assert failed[0].last_error == "the device is no longer registered with the push service"
        assert token not in failed[0].last_error

        # The next sweep skips the dead phone; registering its token again brings it back.
        with pg.app_context():
            db.session.execute(delete(Notification))
            db.session.commit()
        assert _remind(pg) == 1
        assert people["phone"].post("/me/devices", json={"platform": dead, "token": token}).status_code == 200
        assert _devices(pg)[dead].active and _devices(pg)[dead].deactivated_at is None
        with pg.app_context():
            db.session.execute(delete(Notification))
            db.session.commit()
        assert _remind(pg) == 2


def test_a_busy_provider_is_retried_with_the_backoff_then_sent(pg, client_of, servers):
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    fcm.failures = apns.failures = 1  # each answers its next message with 503
    with configured(pg, push_settings(fcm, apns, NOTIFICATION_RETRY_BASE_SECONDS="30")):
        assert _remind(pg) == 2
        before = datetime.now(UTC)
        assert set(_deliver_all(pg).values()) == {"pending"}
        for row in _rows(pg):
            assert row.attempts == 1 and "503" in row.last_error
            assert (row.next_attempt_at - before).total_seconds() >= 29  # the existing backoff
        assert set(_deliver_all(pg).values()) == {"sent"}
    assert fcm.answers == [503, 200] and [s for s, _ in apns.answers] == [503, 200]
    assert {(n.state, n.attempts, n.last_error) for n in _rows(pg)} == {("sent", 2, None)}
    assert [m["body"]["message"]["data"]["delivery_id"] for m in fcm.messages] == [
        n.delivery_id for n in _rows(pg) if n.destination == str(_devices(pg)["android"].id)]


def test_a_provider_that_does_not_answer_is_retried(pg, client_of, servers):
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    settings = push_settings(fcm, apns)
    fcm.stop()
    apns.stop()
    with configured(pg, settings):
        assert _remind(pg) == 2
        assert set(_deliver_all(pg).values()) == {"pending"}
    errors = sorted(n.last_error for n in _rows(pg))
    assert errors == ["APNs unreachable (ConnectError)", "FCM token endpoint unreachable"]
    assert all(n.state == "pending" and n.attempts == 1 for n in _rows(pg))


def test_refused_credentials_fail_the_push_and_keep_the_device(pg, client_of, servers, tmp_path, caplog):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    # Keys the servers do not know: the token endpoint refuses the assertion, APNs the provider token.
    wrong_account = fcm.service_account_file(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                             name="wrong-account.json")
    wrong_key = tmp_path / "AuthKey_WRONG.p8"
    wrong_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with configured(pg, push_settings(fcm, apns, FCM_SERVICE_ACCOUNT_FILE=str(wrong_account),
                                      APNS_KEY_FILE=str(wrong_key))):
        assert _remind(pg) == 2
        assert set(_deliver_all(pg).values()) == {"failed"}
    assert sorted(n.last_error for n in _rows(pg)) == ["APNs refused the credentials (403 InvalidProviderToken)",
                                                       "FCM refused the service account (invalid_grant)"]
    assert all(d.active for d in _devices(pg).values())
    assert fcm.grants == [] and fcm.messages == [] and apns.received == []
    assert "refused" in caplog.text
    assert ANDROID_TOKEN not in caplog.text and IOS_TOKEN not in caplog.text


def test_the_apns_certificate_is_verified(pg, client_of, servers):
    """Without the test CA, the self-signed APNs server is not trusted: nothing is sent, the push waits."""
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    with configured(pg, push_settings(fcm, apns, APNS_CA_FILE="")):
        _remind(pg)
        _deliver_all(pg)
    ios = next(n for n in _rows(pg) if n.destination == str(_devices(pg)["ios"].id))
    assert (ios.state, ios.last_error) == ("pending", "APNs unreachable (ConnectError)")
    assert apns.answers == []


def test_push_provider_fcm_sends_every_platform_through_fcm_and_apns_only_ios(pg, client_of, servers):
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    with configured(pg, push_settings(fcm, apns, PUSH_PROVIDER="fcm")):
        _remind(pg)
        assert set(_deliver_all(pg).values()) == {"sent"}
    assert sorted(m["body"]["message"]["token"] for m in fcm.messages) == sorted([ANDROID_TOKEN, IOS_TOKEN])
    with pg.app_context():
        db.session.execute(delete(Notification))
        db.session.commit()
    with configured(pg, push_settings(fcm, apns, PUSH_PROVIDER="apns")):
        _remind(pg)
        _deliver_all(pg)
    assert [p["token"] for p in apns.received] == [IOS_TOKEN]
    android = next(n for n in _rows(pg) if n.destination == str(_devices(pg)["android"].id))
    assert (android.state, android.last_error) == ("failed", "PUSH_PROVIDER=apns delivers to iOS devices only")


def test_push_payloads_carry_only_the_type_the_trial_and_the_delivery_id(pg, client_of, servers):
    """Whatever a notification row holds (here, as if a caller added the initials), the wire gets less."""
    fcm, apns = servers
    people = _patient_with_phones(pg, client_of)
    with pg.app_context():
        trial = db.session.get(Trial, people["trial_id"])
        for device in db.session.execute(select(Device)).scalars():
            service._add(f"test:{device.id}", trial, "reminder", "push", device.user_id, str(device.id),
                         "Trial Diary", "A message", {"type": "reminder", "trial_id": trial.id,
                                                      "patient_initials": "R.A.", "note": NOTE})
        db.session.commit()
    with configured(pg, push_settings(fcm, apns)):
        assert set(_deliver_all(pg).values()) == {"sent"}
    assert set(fcm.messages[0]["body"]["message"]["data"]) == {"type", "trial_id", "delivery_id"}
    assert set(apns.received[0]["payload"]) == {"aps", "type", "trial_id", "delivery_id"}
    for raw in (fcm.messages[0]["raw"], apns.received[0]["raw"]):
        _assert_no_patient_data(raw, people)
        assert json.loads(raw)  # well-formed JSON on the wire


def _new_day_of_reminders(app) -> None:
    with app.app_context():
        db.session.execute(delete(Notification))
        db.session.commit()
    assert _remind(app) == 2


def test_the_fcm_access_token_is_kept_until_shortly_before_it_expires(pg, client_of, servers):
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    with configured(pg, push_settings(fcm, apns, PUSH_PROVIDER="fcm")):
        fcm.expires_in = 3599
        _new_day_of_reminders(pg)
        assert set(_deliver_all(pg).values()) == {"sent"}
        assert len(fcm.grants) == 1  # two messages, one token
        close_providers()
        fcm.expires_in = 120  # inside google-auth's refresh margin (3 min 45 s): never reused
        _new_day_of_reminders(pg)
        assert set(_deliver_all(pg).values()) == {"sent"}
        assert len(fcm.grants) == 1 + 2


def test_a_revoked_fcm_token_fails_that_push_and_the_next_one_gets_a_new_token(pg, client_of, servers, caplog):
    fcm, apns = servers
    _patient_with_phones(pg, client_of)
    with configured(pg, push_settings(fcm, apns, PUSH_PROVIDER="fcm")):
        _new_day_of_reminders(pg)
        assert set(_deliver_all(pg).values()) == {"sent"}  # both with the first token
        fcm.issued.clear()  # the server forgets it, as after a key was revoked
        _new_day_of_reminders(pg)
        with pg.app_context():
            ids = sorted(n.id for n in db.session.execute(select(Notification).where(
                Notification.state == "pending")).scalars())
            assert service.deliver(notification_id=ids[0]) == "failed"
            assert service.deliver(notification_id=ids[1]) == "sent"
    failed = next(n for n in _rows(pg) if n.id == ids[0])
    assert failed.last_error == "FCM refused the credentials (401 UNAUTHENTICATED)"
    assert len(fcm.grants) == 2 and fcm.answers == [200, 200, 401, 200]
    assert ANDROID_TOKEN not in caplog.text and IOS_TOKEN not in caplog.text
