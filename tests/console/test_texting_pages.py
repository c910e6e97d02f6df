"""The console's texting parts (docs/sms.md): the number and consent at registration and on the patient's page,
a sign-in link sent from there, what the patient texted, and a call-back on the worklist acknowledged as called."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from api.models import Alert, Notification, Patient

from ..api.test_texting import AUTH_TOKEN, _inbound
from .helpers import console_user


def test_texting_on_the_patient_pages_and_a_call_back_on_the_worklist(app, world):
    nurse = console_user(app, world.nurse)
    created = nurse.post("/console/patients/new", page="/console/patients/new", data={
        "display_name": "Ada Lovelace", "mrn": "MRN-TX-1", "date_of_birth": "1960-02-03", "email": "ada@example.test",
        "gender": "female", "timezone": "America/New_York", "mobile_number": "201 555 0144", "sms_consent": "yes"})
    assert created.status_code == 303
    with app.app_context():
        ada = db.session.execute(select(Patient).where(Patient.mrn == "MRN-TX-1")).scalar_one()
        assert (ada.mobile_number, ada.sms_consent_source) == ("+12015550144", "staff")
        ada_id = ada.id
    page = f"/console/patients/{ada_id}"
    html = nurse.get(page).get_data(as_text=True)
    assert "+1 201-555-0144: consent recorded by staff" in html
    refused = nurse.post(f"{page}/texting", page=page, data={"mobile_number": "+44 20 7946 0958", "sms_consent": "yes"})
    assert refused.status_code == 422 and "Not a mobile phone number" in refused.get_data(as_text=True)
    nurse.post(f"{page}/texting", page=page, data={"mobile_number": "201 555 0145"})  # the box unticked: withdrawn
    with app.app_context():
        ada = db.session.get(Patient, ada_id)
        assert ada.mobile_number == "+12015550145" and ada.sms_consent_at is None

    # The world's patient: consent, a sign-in link from the page, a text back, and CALL.
    page = f"/console/patients/{world.patient_id}"
    nurse.post(f"{page}/texting", page=page, data={"mobile_number": "+1 201 555 0123", "sms_consent": "yes"})
    sent = nurse.post(f"{page}/sign-in-link", page=page, follow_redirects=True)
    assert "A sign-in link is on its way" in sent.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Notification.cause).where(Notification.channel == "sms")).scalar() == (
            "sign_in_link")
    app.config["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    try:
        _inbound(world.client, "Is a little swelling normal?", "SM-console-1")
        _inbound(world.client, "CALL", "SM-console-2")
    finally:
        app.config["TWILIO_AUTH_TOKEN"] = ""
    html = nurse.get(page).get_data(as_text=True)
    assert "Is a little swelling normal?" in html and "Call-back requested" in html
    assert "Is a little swelling normal?" in nurse.get(f"/console/trials/{world.trial_id}").get_data(as_text=True)
    worklist = nurse.get("/console/").get_data(as_text=True)
    assert "Call back:" in worklist and "+1 201-555-0123" in worklist
    with app.app_context():
        alert_id = db.session.execute(select(Alert.id).where(Alert.rule == "call_back")).scalar_one()
    done = nurse.post(f"/console/alerts/{alert_id}/acknowledge", data={"note": "Called back", "back": "/console/"},
                      follow_redirects=True)
    assert "Acknowledged: The patient asks to be called back." in done.get_data(as_text=True)
    assert "Call back:" not in nurse.get("/console/").get_data(as_text=True)
