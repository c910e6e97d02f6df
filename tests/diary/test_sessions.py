"""The diary page's sign-in sessions: an HttpOnly, SameSite=Strict cookie on a sign-in session row of kind "diary";
idle 7 days, 30 days in all, never past the diary's closing; sign-out, re-enrollment and deactivation end it at
once; CSRF by a custom header and the Origin; patients only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from api.extensions import db
from api.models import AuthSession, Patient, Trial, User
from tests import factories
from tests.conftest import entry, sign_in

from .helpers import HEADERS, DiaryPage, diary_page


def _age(app, **changes):
    with app.app_context():
        db.session.execute(update(AuthSession).where(AuthSession.kind == "diary").values(**changes))
        db.session.commit()


def test_the_session_cookie_is_httponly_strict_and_limited_to_the_diary(app, world):
    page = DiaryPage(app.test_client())
    response = page.sign_in(world.patient)
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("trial_diary=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/diary" in cookie and "Secure" not in cookie  # PUBLIC_BASE_URL is http in tests
    me = page.get("me")
    assert me.status_code == 200
    assert me.get_json()["trials"][0]["id"] == world.trial_id
    assert me.get_json()["profile"]["language"] == "en"
    # The cookie opens nothing outside /diary: the API stays bearer-only.
    assert page.client.get("/api/v1/me").status_code == 401
    with app.app_context():
        kinds = db.session.execute(select(AuthSession.kind, AuthSession.expires_at, AuthSession.last_seen_at)).all()
    assert [k.kind for k in kinds] == ["diary"]
    assert kinds[0].expires_at - kinds[0].last_seen_at == timedelta(days=30)


def test_the_cookie_is_secure_under_https(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://diary.example.test")
    response = DiaryPage(app.test_client()).post("sign-in", {"email": world.patient, "password": factories.PASSWORD},
                                                 headers={"Origin": "https://diary.example.test"})
    assert response.status_code == 200 and "Secure" in response.headers["Set-Cookie"]


def test_writes_need_the_diary_header_and_this_sites_origin(app, world):
    page = diary_page(app, world.patient)
    body = entry()
    plain = page.client.post(f"/diary/api/trials/{world.trial_id}/entries", json=body)
    assert plain.status_code == 403 and "X-Diary-Request" in plain.get_json()["message"]
    foreign = page.post(f"trials/{world.trial_id}/entries", body, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert page.post(f"trials/{world.trial_id}/entries", body).status_code == 201
    without_origin = page.client.post(f"/diary/api/trials/{world.trial_id}/entries", json=body,
                                      headers={"X-Diary-Request": "1"})
    assert without_origin.status_code == 200  # not a browser's cross-site request: the replay of the same entry


def test_idle_for_seven_days_signs_out(app, world):
    page = diary_page(app, world.patient)
    _age(app, last_seen_at=datetime.now(UTC) - timedelta(days=6, hours=23))
    assert page.get("me").status_code == 200  # and now seen again
    _age(app, last_seen_at=datetime.now(UTC) - timedelta(days=7, seconds=1))
    response = page.get("me")
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def test_thirty_days_at_most(app, world):
    page = diary_page(app, world.patient)
    _age(app, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert page.get("me").status_code == 401


def test_the_session_ends_with_the_diary(app, world):
    page = diary_page(app, world.patient)
    world.as_nurse.patch(f"/trials/{world.trial_id}", json={"status": "cancelled"})
    assert page.get("me").status_code == 401
    refused = page.sign_in(world.patient)
    assert refused.status_code == 401 and refused.get_json()["code"] == "diary_closed"


def test_a_patient_with_no_trial_yet_may_sign_in(app, world):
    page = diary_page(app, world.second_patient)
    assert page.get("me").get_json()["trials"] == []


def test_sign_out_ends_the_session_at_once(app, world):
    page = diary_page(app, world.patient)
    stolen = page.cookie().value
    assert page.post("sign-out").status_code == 204
    thief = DiaryPage(app.test_client())
    thief.client.set_cookie("trial_diary", stolen, path="/diary")
    assert thief.get("me").status_code == 401


def test_re_enrollment_and_deactivation_end_it_at_once(app, world):
    page = diary_page(app, world.patient)
    code = world.as_nurse.post(f"/patients/{world.patient_id}/enrollment-code").get_json()["enrollment_code"]
    again = DiaryPage(app.test_client())
    enrolled = again.post("enroll", {"enrollment_code": code, "password": "a brand new sentence", "language": "es"})
    assert enrolled.status_code == 200
    assert page.get("me").status_code == 401
    assert again.get("me").get_json()["profile"]["language"] == "es"
    with app.app_context():
        db.session.execute(update(User).where(User.email == world.patient).values(active=False))
        db.session.commit()
    assert again.get("me").status_code == 401


def test_staff_are_sent_to_the_console_and_wrong_passwords_get_one_answer(app, world):
    page = DiaryPage(app.test_client())
    staff = page.sign_in(world.nurse)
    assert staff.status_code == 401 and staff.get_json()["code"] == "staff_account"
    wrong = page.sign_in(world.patient, "not-the-password")
    unknown = page.sign_in("nobody@example.test", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert page.sign_in("not an email").status_code == 422


def test_failed_sign_ins_share_the_apis_allowance(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "2 per 15 minutes")
    page = DiaryPage(app.test_client())
    assert page.sign_in(world.patient, "wrong-password-1").status_code == 401
    api = app.test_client().post("/api/v1/auth/login", json={"email": world.patient, "password": "wrong-password-2"})
    assert api.status_code == 401
    limited = page.sign_in(world.patient)
    assert limited.status_code == 429 and limited.get_json()["code"] == "too_many_requests"


def test_enrollment_on_the_page_sets_password_language_and_signs_in(app, world, client):
    created = world.as_nurse.post("/patients", json={
        "display_name": "Lucía Pérez", "mrn": "MRN-ES-1", "date_of_birth": "1961-02-03",
        "email": "lucia@example.test", "timezone": "America/Chicago", "language": "es"}).get_json()
    page = DiaryPage(app.test_client())
    weak = page.post("enroll", {"enrollment_code": created["enrollment_code"], "password": "password123"})
    assert weak.status_code == 422 and "password" in weak.get_json()["errors"]
    bad_code = page.post("enroll", {"enrollment_code": "AAAA-BBBB-CCCC", "password": "a brand new sentence"})
    assert bad_code.status_code == 401
    done = page.post("enroll", {"enrollment_code": created["enrollment_code"].lower(),
                                "password": "a brand new sentence"})
    assert done.status_code == 200
    me = page.get("me").get_json()
    assert me["profile"]["language"] == "es"  # the clinic's choice, kept when the patient chose none
    assert sign_in(client, "lucia@example.test", "a brand new sentence")  # the same account on the API
    with app.app_context():
        patient = db.session.execute(select(Patient).where(Patient.mrn == "MRN-ES-1")).scalar_one()
        assert patient.enrolled


def test_unknown_diary_paths_answer_404_in_their_own_shape(app, world):
    page = diary_page(app, world.patient)
    assert page.get("nothing-here").status_code == 404
    assert page.get("nothing-here").get_json()["code"] == "not_found"
    html = page.client.get("/diary/nothing-here", headers={"Accept-Language": "es"})
    assert html.status_code == 404 and 'lang="es"' in html.get_data(as_text=True)
    assert "No se encontró la página" in html.get_data(as_text=True)


def test_two_open_trials_are_both_offered(app, world):
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        factories.TrialFactory(patient=trial.patient, therapy="medial_branch_block",
                               start_at=datetime.now(UTC) - timedelta(hours=1),
                               end_at=datetime.now(UTC) + timedelta(hours=7), baseline={"pain": 7},
                               target={"region": "lumbar", "side": "left", "levels": ["L4-L5"]}, agent="lidocaine")
        db.session.commit()
    trials = diary_page(app, world.patient).get("me").get_json()["trials"]
    assert [t["therapy"] for t in trials] == ["medial_branch_block", "scs"]  # the one ending first, first
    assert len(trials[0]["schedule"]) >= 4 and trials[1]["schedule"] is None
    assert HEADERS  # the helper's headers are what the page sends
