"""Text messages through the API on both backends (docs/sms.md): numbers and consent, reminders by text or push,
quiet hours, the daily cap, the provider's signed callbacks, STOP/START/HELP/CALL, call-backs and sign-in links.
Texts go to the development provider (instance/sms.jsonl); the Twilio wire is tested in tests/integration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from api.errors import Unauthorized
from api.extensions import db
from api.models import Alert, AuditEvent, Clinic, Device, Notification, Patient, ScheduledText, SignInLink, Trial
from api.services import notifications, sign_in_links, texting

from ..conftest import drain, entry
from ..factories import PatientFactory, TrialFactory
from ..texting_helpers import AUTH_TOKEN, NUMBER, assert_no_patient_data, development_texts, zone_at


def _signed(client, path: str, form: dict, token: str = AUTH_TOKEN):
    url = "http://127.0.0.1:8000" + path  # PUBLIC_BASE_URL of the tests' app
    signature = RequestValidator(token).compute_signature(url, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def _inbound(client, body: str, sid: str, number: str = NUMBER):
    return _signed(client, "/api/v1/sms/twilio/inbound",
                   {"MessageSid": sid, "From": number, "To": "+12015550199", "Body": body, "NumSegments": "1"})


def _sms(app, **filters) -> list[Notification]:
    with app.app_context():
        rows = db.session.execute(select(Notification).filter_by(channel="sms", **filters)
                                  .order_by(Notification.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_staff_record_a_mobile_number_and_consent_and_a_bad_number_is_a_422_naming_the_field(world):
    nurse = world.as_nurse
    body = {"display_name": "Rosa Alvarez", "mrn": "MRN-T-1", "date_of_birth": "1958-04-12",
            "email": "rosa@example.test", "timezone": "America/Chicago", "mobile_number": "(201) 555-0123",
            "sms_consent": True}
    created = nurse.post("/patients", json=body).get_json()["patient"]
    assert created["mobile_number"] == NUMBER and created["textable"] is True
    assert created["sms_consent_source"] == "staff" and created["sms_consent_at"]
    for bad in ("+44 20 7946 0958", "12345", "not a number", "+1 999 555 0123"):
        answer = nurse.patch(f"/patients/{created['id']}", json={"mobile_number": bad})
        assert answer.status_code == 422 and "mobile_number" in answer.get_json()["errors"], bad
    assert nurse.patch(f"/patients/{created['id']}", json={"sms_consent": "yes"}).status_code == 422
    withdrawn = nurse.patch(f"/patients/{created['id']}", json={"sms_consent": False}).get_json()
    assert withdrawn["textable"] is False and withdrawn["sms_consent_at"] is None
    assert nurse.patch(f"/patients/{created['id']}", json={"mobile_number": "+34 612 345 678"}
                       ).get_json()["mobile_number"] == "+34612345678"
    # The patient sets their own, and agrees: the consent's source says so.
    patient = world.as_patient
    mine = patient.patch("/me/texting", json={"mobile_number": "201-555-0188", "sms_consent": True}).get_json()
    assert mine == {**mine, "mobile_number": "+12015550188", "sms_consent_source": "patient", "textable": True}
    assert patient.get("/me/texting").get_json()["mobile_number"] == "+12015550188"
    assert nurse.get("/me/texting").status_code == 403
    assert world.as_other_nurse.patch(f"/patients/{world.patient_id}", json={"sms_consent": True}).status_code == 404


def test_the_evening_reminder_is_a_text_without_a_phone_and_a_push_with_one(app, world, texts):
    with app.app_context():
        clinic = db.session.query(Clinic).filter_by(name="Clinic A").one()
        with_phone = PatientFactory(clinic=clinic, timezone=zone_at(12), mobile_number="+12015550177",
                                    sms_consent_at=datetime.now(UTC), display_name="Pedro Phone")
        TrialFactory(patient=with_phone, timezone=zone_at(12))
        db.session.add(Device(user_id=with_phone.user_id, platform="android", token="t" * 40))
        db.session.commit()
        assert notifications.send_evening_reminders() == 2
        assert notifications.send_evening_reminders() == 0  # the next sweep: nothing twice
    sms = _sms(app)
    assert [n.destination for n in sms] == [str(world.patient_id)]
    with app.app_context():
        assert db.session.query(Notification).filter_by(channel="push").count() == 1
        follow_up = db.session.query(ScheduledText).one()
        assert 7150 < (follow_up.due_at - datetime.now(UTC)).total_seconds() <= 7200
    drain(app)
    sent = development_texts(app.config["INSTANCE_PATH"])
    assert [t["to"] for t in sent] == [NUMBER]
    assert sent[0]["body"].startswith("Clinic A: time for today's diary.") and sent[0]["body"].endswith(
        "Reply STOP to stop.")
    assert _sms(app)[0].state == "sent" and _sms(app)[0].provider_id == f"dev-{_sms(app)[0].delivery_id}"

    # Two hours later, still no entry: the follow-up. (The due time is a row: it is made due now.)
    with app.app_context():
        db.session.execute(update(ScheduledText).values(due_at=datetime.now(UTC)))
        db.session.commit()
        assert texting.send_scheduled_texts() == 1
        assert db.session.query(ScheduledText).one().outcome == "queued"
    drain(app)
    bodies = [t["body"] for t in development_texts(app.config["INSTANCE_PATH"])]
    assert "still waiting" in bodies[1]
    assert_no_patient_data(bodies, ["Pedro", "Phone", "MRN"])


def test_a_follow_up_is_skipped_once_an_entry_came(app, world, texts):
    with app.app_context():
        notifications.send_evening_reminders()
    assert world.as_patient.post(f"/trials/{world.trial_id}/entries", json=entry()).status_code == 201
    with app.app_context():
        db.session.execute(update(ScheduledText).values(due_at=datetime.now(UTC)))
        db.session.commit()
        assert texting.send_scheduled_texts() == 0
        assert db.session.query(ScheduledText).one().outcome == "skipped"


def test_quiet_hours_drop_a_stale_reminder_and_hold_a_follow_up_until_eight(app, world, texts):
    with app.app_context():
        db.session.execute(update(Patient).values(timezone=zone_at(23)))
        db.session.execute(update(Trial).values(timezone=zone_at(23)))
        db.session.commit()
        assert notifications.send_evening_reminders() == 0  # 23:00: by 08:00 the day it was for is over
        patient = db.session.get(Patient, world.patient_id)
        row = ScheduledText(key="follow-up:test", kind="follow_up", patient_id=patient.id, trial_id=world.trial_id,
                            due_at=datetime.now(UTC), since_at=datetime.now(UTC) - timedelta(hours=20),
                            stale_at=datetime.now(UTC) + timedelta(hours=20))
        db.session.add(row)
        db.session.commit()
        assert texting.send_scheduled_texts() == 0
        held = db.session.query(ScheduledText).one()
        local = held.due_at.astimezone(ZoneInfo(zone_at(23)))
        assert (local.hour, local.minute, held.done_at) == (8, 0, None)
    assert _sms(app) == []


def test_the_daily_cap_and_an_answer_to_the_patient_that_does_not_count(app, world, texts):
    app.config["SMS_DAILY_LIMIT"] = 2
    nurse = texts
    with app.app_context():  # the patient enrolled: links are for accounts with a password
        assert db.session.get(Patient, world.patient_id).enrolled
    assert nurse.post(f"/patients/{world.patient_id}/sign-in-link").status_code == 202
    assert nurse.post(f"/patients/{world.patient_id}/sign-in-link").status_code == 202
    capped = nurse.post(f"/patients/{world.patient_id}/sign-in-link")
    assert capped.status_code == 409 and "used up" in capped.get_json()["message"]
    assert _inbound(world.client, "help", "SM-help-1").status_code == 200
    assert [n.cause for n in _sms(app)] == ["sign_in_link", "sign_in_link", "reply"]


def test_callbacks_and_inbound_texts_whose_signature_does_not_verify_are_refused(app, world, texts):
    form = {"MessageSid": "SM-forged", "From": NUMBER, "Body": "STOP"}
    client = world.client
    assert client.post("/api/v1/sms/twilio/inbound", data=form).status_code == 403
    assert _signed(client, "/api/v1/sms/twilio/inbound", form, token="a-wrong-token").status_code == 403
    tampered = {**form, "Body": "STOP"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://127.0.0.1:8000/api/v1/sms/twilio/inbound",
                                                               {**form, "Body": "hello"})
    assert client.post("/api/v1/sms/twilio/inbound", data=tampered,
                       headers={"X-Twilio-Signature": signature}).status_code == 403
    assert client.post("/api/v1/sms/twilio/status", data={"MessageSid": "SM1", "MessageStatus": "failed"}
                       ).status_code == 403
    with app.app_context():
        assert db.session.get(Patient, world.patient_id).sms_opted_out_at is None
    app.config["TWILIO_AUTH_TOKEN"] = ""  # nothing to verify with: everything is refused
    assert _signed(client, "/api/v1/sms/twilio/inbound", form, token="").status_code == 403


def test_stop_then_nothing_then_start_help_and_words_for_the_care_team(app, world, texts):
    client = world.client
    answer = _inbound(client, " Stop ", "SM-stop-1")
    assert answer.status_code == 200 and answer.mimetype == "application/xml" and b"<Response>" in answer.data
    assert _inbound(client, " Stop ", "SM-stop-1").status_code == 200  # Twilio sending it again changes nothing
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        assert patient.sms_opted_out_at is not None and not patient.textable
        assert notifications.send_evening_reminders() == 0
    assert texts.post(f"/patients/{world.patient_id}/sign-in-link").status_code == 409
    assert _inbound(client, "START", "SM-start-1").status_code == 200
    with app.app_context():
        assert db.session.get(Patient, world.patient_id).textable
    _inbound(client, "help", "SM-help-2")
    _inbound(client, "Does the dressing stay on in the shower?", "SM-words-1")
    drain(app)
    bodies = [t["body"] for t in development_texts(app.config["INSTANCE_PATH"])]
    assert bodies == ["Clinic A: texts about your diary. Questions? Call +1 201-555-0100. Reply CALL and your care "
                      "team will call you back. Reply STOP to stop."]
    kept = texts.get(f"/patients/{world.patient_id}/messages").get_json()
    assert [(m["keyword"], m["body"]) for m in kept] == [
        (None, "Does the dressing stay on in the shower?"), ("help", "help"), ("start", "START"), ("stop", " Stop ")]
    assert world.as_other_nurse.get(f"/patients/{world.patient_id}/messages").status_code == 404


def test_call_by_text_and_by_the_app_is_one_open_request_on_the_worklist_with_the_number(app, world, texts):
    client = world.client
    _inbound(client, "CALL", "SM-call-1")
    nurse = texts
    rows = nurse.get("/monitoring/trials").get_json()
    row = next(r for r in rows if r["trial_id"] == world.trial_id)
    assert rows[0] is not None and row["call_back"]["mobile_number"] == NUMBER and row["open_alerts"]["high"] == 1
    assert rows[0]["trial_id"] == world.trial_id  # ranked above trials with nothing, and above missed diaries
    phone = world.as_patient
    again = phone.post(f"/trials/{world.trial_id}/call-back")
    assert again.status_code == 200 and again.get_json()["id"] == row["call_back"]["alert_id"]
    _inbound(client, "call", "SM-call-2")
    drain(app)
    bodies = [t["body"] for t in development_texts(app.config["INSTANCE_PATH"])]
    assert "we asked your care team to call you back" in bodies[0] and "you asked us to call you back at" in bodies[1]
    with app.app_context():
        alert = db.session.query(Alert).one()
        assert (alert.rule, alert.severity, alert.status) == ("call_back", "high", "open")
        emails = db.session.query(Notification).filter_by(channel="email", alert_id=alert.id).all()
        assert emails and all("called back" in n.subject for n in emails)
    listed = nurse.get("/call-backs?status=open").get_json()
    assert [(c["id"], c["mobile_number"]) for c in listed] == [(alert.id, NUMBER)]
    done = nurse.post(f"/alerts/{alert.id}/acknowledge", json={"note": "Called; dressing advice given."})
    assert done.status_code == 200
    listed = nurse.get("/call-backs").get_json()
    assert listed[0]["acknowledged_by"] == world.nurse_id and listed[0]["acknowledgement_note"].startswith("Called")
    assert phone.post(f"/trials/{world.trial_id}/call-back").status_code == 201  # a new one, once that was done
    assert nurse.post(f"/trials/{world.trial_id}/call-back").status_code == 403
    assert world.as_second_patient.post(f"/trials/{world.trial_id}/call-back").status_code == 404


def test_delivery_status_callbacks_update_the_row_and_never_go_back(app, world, texts):
    texts.post(f"/patients/{world.patient_id}/sign-in-link")
    drain(app)
    sid = _sms(app)[0].provider_id
    client = world.client
    for status in ("sent", "delivered", "sent"):
        assert _signed(client, "/api/v1/sms/twilio/status", {"MessageSid": sid, "MessageStatus": status}
                       ).status_code == 204
    assert (_sms(app)[0].state, _sms(app)[0].provider_status) == ("sent", "delivered")
    assert _signed(client, "/api/v1/sms/twilio/status", {"MessageSid": "SM-unknown", "MessageStatus": "delivered"}
                   ).status_code == 204
    texts.post(f"/patients/{world.patient_id}/sign-in-link")
    drain(app)
    second = _sms(app)[1]
    _signed(client, "/api/v1/sms/twilio/status", {"MessageSid": second.provider_id, "MessageStatus": "undelivered",
                                                  "ErrorCode": "30003"})
    failed = _sms(app)[1]
    assert (failed.state, failed.provider_status) == ("failed", "undelivered")
    assert failed.last_error == "the carrier did not deliver the text (undelivered, error 30003)"
    assert NUMBER not in failed.last_error


def _token_of(app) -> str:
    body = development_texts(app.config["INSTANCE_PATH"])[-1]["body"]
    return body.split("#token=")[1].split()[0]


def test_a_sign_in_link_works_once_for_fifteen_minutes_and_never_says_whether_a_number_is_known(app, world, texts):
    client = world.client
    known = client.post("/api/v1/auth/sign-in-link", json={"mobile_number": "(201) 555-0123"})
    unknown = client.post("/api/v1/auth/sign-in-link", json={"mobile_number": "+1 201 555 0155"})
    assert known.status_code == unknown.status_code == 202 and known.get_json() == unknown.get_json()
    assert client.post("/api/v1/auth/sign-in-link", json={"mobile_number": "nope"}).status_code == 422
    drain(app)
    assert [t["to"] for t in development_texts(app.config["INSTANCE_PATH"])] == [NUMBER]
    token = _token_of(app)
    assert token not in _sms(app)[0].body  # the text's row holds a placeholder, never the token
    with app.app_context():
        link = db.session.query(SignInLink).one()
        assert link.token_hash != token and token not in link.nonce
    with app.test_request_context():
        user = sign_in_links.redeem(token=token)
        assert user.email == world.patient
        with pytest.raises(Unauthorized, match="used already"):
            sign_in_links.redeem(token=token)
        with pytest.raises(Unauthorized, match="not valid"):
            sign_in_links.redeem(token=token + "x")
    texts.post(f"/patients/{world.patient_id}/sign-in-link")
    drain(app)
    token = _token_of(app)
    with app.test_request_context():
        db.session.execute(update(SignInLink).where(SignInLink.used_at.is_(None)).values(
            created_at=datetime.now(UTC) - timedelta(minutes=16), expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
        with pytest.raises(Unauthorized, match="expired"):
            sign_in_links.redeem(token=token)
    # A link issued before the patient enrolled again no longer works.
    texts.post(f"/patients/{world.patient_id}/sign-in-link")
    drain(app)
    token = _token_of(app)
    code = texts.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    assert client.post("/api/v1/auth/enroll", json={"enrollment_code": code,
                                                     "password": "a-new-long-passphrase"}).status_code == 200
    with app.test_request_context():
        with pytest.raises(Unauthorized, match="no longer works"):
            sign_in_links.redeem(token=token)
    with app.app_context():
        actions = [a.action for a in db.session.query(AuditEvent).order_by(AuditEvent.id)]
        assert actions.count("sign_in_link.issue") == 3 and "sign_in_link.use" in actions


def test_the_clinic_phone_is_validated(world):
    admin = world.as_admin
    assert admin.patch("/clinic", json={"phone": "call us"}).status_code == 422
    assert admin.patch("/clinic", json={"phone": "(201) 555-0100"}).get_json()["phone"] == "+12015550100"
