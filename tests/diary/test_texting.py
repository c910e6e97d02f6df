"""Text messages on the diary page (docs/sms.md, docs/diary-page.md): a texted sign-in link opens a diary cookie
session once (never an API token), and a used, expired or withdrawn one says so in the patient's language;
"call me back" from the page; the patient's mobile number and consent to texts. Every text these tests send is
checked for patient data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from api.extensions import db, limiter
from api.i18n import page_texts
from api.models import Alert, AuditEvent, AuthSession, Patient, SignInLink, User
from tests.conftest import drain
from tests.console.helpers import console_user
from tests.texting_helpers import assert_no_patient_data, development_texts

from .helpers import DiaryPage, diary_page

LINK = "http://127.0.0.1:8000/diary/sign-in/link#token="  # PUBLIC_BASE_URL of the tests' app


def _texted_link(app, staff, patient_id: int) -> str:
    """Staff text the patient a sign-in link; the token of the address in the text that went out."""
    assert staff.post(f"/patients/{patient_id}/sign-in-link").status_code == 202
    drain(app)
    body = development_texts(app.config["INSTANCE_PATH"])[-1]["body"]
    address = next(word for word in body.split() if word.startswith("http"))
    assert address.startswith(LINK), address
    return address.removeprefix(LINK)


def _identity(app, patient_id: int) -> list[str]:
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        return [patient.display_name, *patient.display_name.split(), patient.mrn, patient.user.email]


def test_a_texted_link_opens_a_diary_session_once_and_never_an_api_token(app, world, texts, caplog):
    caplog.set_level(logging.DEBUG)
    token = _texted_link(app, texts, world.patient_id)
    page = DiaryPage(app.test_client())
    shell = page.client.get("/diary/sign-in/link")  # where the link lands: the diary's shell, which posts the token
    assert shell.status_code == 200 and shell.mimetype == "text/html" and token not in shell.get_data(as_text=True)

    opened = page.post("sign-in/link", {"token": token})
    assert opened.status_code == 200 and opened.get_json() == {"signed_in": True}
    assert page.cookie() is not None and "access_token" not in opened.get_data(as_text=True)
    assert page.get("me").get_json()["profile"]["language"] == "en"
    with app.app_context():
        kinds = db.session.execute(select(AuthSession.kind).join(User).where(User.email == world.patient)).scalars()
        assert list(kinds) == ["diary"]  # a cookie session, and no API sign-in (tokens) was opened

    again = DiaryPage(app.test_client())
    used = again.post("sign-in/link", {"token": token})
    assert used.status_code == 401 and used.get_json()["code"] == "sign_in_link_used"
    assert used.get_json()["details"] == {"language": "en"} and again.cookie() is None
    forged = again.post("sign-in/link", {"token": token[:-2] + "xx"})
    assert forged.status_code == 401 and forged.get_json()["code"] == "sign_in_link_not_valid"
    assert forged.get_json().get("details") is None  # a made-up token learns nothing about anyone
    assert again.post("sign-in/link", {}).get_json()["errors"] == {"token": ["Missing data for required field."]}
    assert again.post("sign-in/link", {"token": "x"}, headers={"X-Diary-Request": ""}).status_code == 403

    with app.app_context():
        uses = db.session.execute(select(AuditEvent.outcome, AuditEvent.patient_id)
                                  .where(AuditEvent.action == "sign_in_link.use").order_by(AuditEvent.id)).all()
    assert uses == [("success", world.patient_id), ("unauthorized", world.patient_id), ("unauthorized", None)]
    assert not [r for r in caplog.records if token in r.getMessage()], "the link's token reached a log"
    assert_no_patient_data([t["body"] for t in development_texts(app.config["INSTANCE_PATH"])],
                           _identity(app, world.patient_id))


def test_an_expired_link_or_one_sent_before_a_re_enrollment_is_refused_in_the_patients_language(app, world, texts):
    with app.app_context():
        db.session.execute(update(Patient).where(Patient.id == world.patient_id).values(language="es"))
        db.session.commit()
    token = _texted_link(app, texts, world.patient_id)
    assert "abra su diario con este enlace" in development_texts(app.config["INSTANCE_PATH"])[-1]["body"]
    with app.app_context():
        db.session.execute(update(SignInLink).values(created_at=datetime.now(UTC) - timedelta(minutes=16),
                                                     expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        db.session.commit()
    page = DiaryPage(app.test_client())
    expired = page.post("sign-in/link", {"token": token})
    assert expired.status_code == 401 and expired.get_json()["code"] == "sign_in_link_expired"
    assert expired.get_json()["details"] == {"language": "es"} and page.cookie() is None

    token = _texted_link(app, texts, world.patient_id)
    code = texts.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    assert DiaryPage(app.test_client()).post("enroll", {"enrollment_code": code, "password": "a brand new sentence",
                                                        "language": "es"}).status_code == 200
    withdrawn = page.post("sign-in/link", {"token": token})
    assert withdrawn.status_code == 401 and withdrawn.get_json()["code"] == "sign_in_link_withdrawn"

    # What the page says for each refusal, in Spanish, comes from the catalog.
    spanish = page_texts("es")
    assert spanish["This sign-in link has expired: links work for 15 minutes. Sign in with your password, or ask "
                   "for a new link."].startswith("Este enlace ha caducado")
    assert_no_patient_data([t["body"] for t in development_texts(app.config["INSTANCE_PATH"])],
                           _identity(app, world.patient_id))


def test_a_link_to_a_closed_diary_is_spent_and_says_the_diary_is_closed(app, world, texts):
    token = _texted_link(app, texts, world.patient_id)
    texts.patch(f"/trials/{world.trial_id}", json={"status": "cancelled"})
    page = DiaryPage(app.test_client())
    closed = page.post("sign-in/link", {"token": token})
    assert closed.status_code == 401 and closed.get_json()["code"] == "diary_closed" and page.cookie() is None
    assert page.post("sign-in/link", {"token": token}).get_json()["code"] == "sign_in_link_used"


def test_text_me_a_link_from_the_sign_in_page_says_the_same_for_any_number_on_the_apis_allowance(
        app, world, texts, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_LINK_LIMIT_PER_ADDRESS", "3 per 15 minutes")
    page = DiaryPage(app.test_client())
    known = page.post("sign-in-link", {"mobile_number": "(201) 555-0123"})
    unknown = page.post("sign-in-link", {"mobile_number": "+1 201 555 0177"})
    assert known.status_code == unknown.status_code == 202 and known.get_json() == unknown.get_json()
    drain(app)
    sent = development_texts(app.config["INSTANCE_PATH"])
    assert len(sent) == 1 and sent[0]["body"].split(LINK)[1].split()[0]  # one text, to the known number only
    api = app.test_client().post("/api/v1/auth/sign-in-link", json={"mobile_number": "+1 201 555 0178"})
    assert api.status_code == 202
    limited = page.post("sign-in-link", {"mobile_number": "(201) 555-0123"})  # one allowance, page and API
    assert limited.status_code == 429 and limited.get_json()["code"] == "too_many_requests"
    limiter.reset()
    wrong = page.post("sign-in-link", {"mobile_number": "call me"})
    assert wrong.status_code == 422 and list(wrong.get_json()["errors"]) == ["mobile_number"]
    assert page.cookie() is None  # asking signs nobody in
    assert_no_patient_data([t["body"] for t in sent], _identity(app, world.patient_id))


def test_call_me_back_from_the_diary_opens_one_request_for_the_care_team(app, world):
    page = diary_page(app, world.patient)
    path = f"trials/{world.trial_id}/call-back"
    first = page.post(path)
    assert first.status_code == 201
    asked = first.get_json()
    assert asked == {**asked, "trial_id": world.trial_id, "status": "open", "call_number": None}  # none on file:
    assert asked["requested_at"]  # the page says so, and how to add one
    assert page.patch("me/texting", {"mobile_number": "201 555 0142"}).status_code == 200
    again = page.post(path)
    assert again.status_code == 200  # one open request: when it was asked, and now the number the nurse calls
    assert again.get_json() == {**asked, "call_number": "+1 201-555-0142"}
    assert page.post(path, headers={"X-Diary-Request": ""}).status_code == 403
    assert page.post("trials/999999/call-back").status_code == 404
    assert diary_page(app, world.second_patient).post(path).status_code == 404  # another patient's trial
    listed = world.as_nurse.get("/call-backs?status=open").get_json()
    assert [(c["id"], c["trial_id"]) for c in listed] == [(asked["id"], world.trial_id)]
    with app.app_context():
        alert = db.session.execute(select(Alert).where(Alert.rule == "call_back")).scalar_one()
        assert (alert.severity, alert.status) == ("high", "open")
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.actor_role)).all()
    assert ("call_back.request", "patient") in actions
    assert page.post("sign-out").status_code == 204
    assert page.post(path).status_code == 401


def test_the_patient_sets_a_mobile_number_and_consent_on_the_diary_and_opts_out_there(app, world):
    page = diary_page(app, world.patient)
    assert page.get("me/texting").get_json() == {**page.get("me/texting").get_json(), "mobile_number": None,
                                                 "sms_consent": False, "textable": False}
    agreed = page.patch("me/texting", {"mobile_number": "(201) 555-0142", "sms_consent": True})
    assert agreed.status_code == 200
    settings = agreed.get_json()
    assert settings == {**settings, "mobile_number": "+12015550142", "sms_consent": True,
                        "sms_consent_source": "diary", "textable": True} and settings["sms_consent_at"]
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        assert (patient.sms_consent_source, patient.sms_consent_by) == ("diary", patient.user_id)
    console = console_user(app, world.nurse).get(f"/console/patients/{world.patient_id}").get_data(as_text=True)
    assert "+1 201-555-0142: consent given by the patient on the diary page" in console
    for bad in ("+44 20 7946 0958", "12345", "call me", "9" * 41):  # a landline, too short, words, too long
        refused = page.patch("me/texting", {"mobile_number": bad})
        assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["mobile_number"], bad
        assert "mobile phone number" in refused.get_json()["errors"]["mobile_number"][0]
    assert page.patch("me/texting", {"sms_consent": "yes"}).get_json()["errors"].keys() == {"sms_consent"}
    assert page.patch("me/texting", {"sms_consent_source": "staff"}).status_code == 422  # no mass assignment
    assert page.patch("me/texting", {"mobile_number": "+1 201 555 0142"}).get_json()["sms_consent_source"] == "diary"
    out = page.patch("me/texting", {"sms_consent": False}).get_json()
    assert out == {**out, "sms_consent": False, "sms_consent_at": None, "sms_consent_source": None, "textable": False}
    assert out["mobile_number"] == "+12015550142"
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.outcome)).all()
    assert ("patient.texting", "success") in actions
    assert DiaryPage(app.test_client()).get("me/texting").status_code == 401
