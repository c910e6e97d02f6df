"""The console's sign-in sessions: CSRF, idle timeout, 12 hours at most, sign-out, deactivation, patients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from api.extensions import db
from api.models import AuthSession, User

from .. import factories
from .helpers import ConsoleUser, console_user


def test_sign_in_opens_a_console_session_with_a_safe_cookie(app, world):
    nurse = ConsoleUser(app.test_client())
    response = nurse.sign_in(world.nurse)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and "trial_diary_console" in v)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # PUBLIC_BASE_URL is http in tests
    assert world.nurse.split("@")[0] not in cookie  # it holds a random session id (and the CSRF secret), signed
    page = nurse.get("/console/")
    assert page.status_code == 200 and "Worklist" in page.get_data(as_text=True)


def test_secure_cookie_under_https(app, world):
    app.config["PUBLIC_BASE_URL"] = "https://console.example.test"
    try:
        response = ConsoleUser(app.test_client()).sign_in(world.nurse)
        cookies = [v for k, v in response.headers.items() if k == "Set-Cookie"]
        assert cookies and all("Secure" in c for c in cookies)
    finally:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:8000"


def test_the_api_still_opens_no_cookie_session(app, world):
    response = app.test_client().post("/api/v1/auth/login", json={"email": world.nurse,
                                                                  "password": "correct-horse-battery"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_post_without_the_csrf_token_is_refused(app, world):
    nurse = console_user(app, world.nurse)
    response = nurse.client.post("/console/sign-out")
    assert response.status_code == 400 and "form has expired" in response.get_data(as_text=True)
    assert nurse.get("/console/").status_code == 200  # still signed in: the forged sign-out did nothing
    wrong = nurse.client.post(f"/console/trials/{world.trial_id}/decision",
                              data={"decision": "implant", "rationale": "x", "csrf_token": "forged"})
    assert wrong.status_code == 400


def test_sign_in_without_csrf_token_is_refused(app, world):
    response = app.test_client().post("/console/sign-in", data={"email": world.nurse,
                                                                "password": "correct-horse-battery"})
    assert response.status_code == 400


def test_wrong_password_gets_one_answer(app, world):
    response = ConsoleUser(app.test_client()).sign_in(world.nurse, "wrong-password-here")
    assert response.status_code == 401
    assert "Email or password is not correct." in response.get_data(as_text=True)


def test_a_patient_is_pointed_to_the_phone_app(app, world):
    with app.app_context():
        from api.services.passwords import hash_password
        db.session.execute(update(User).where(User.email == world.patient)
                           .values(password_hash=hash_password("patient-password-1")))
        db.session.commit()
    response = ConsoleUser(app.test_client()).sign_in(world.patient, "patient-password-1")
    assert response.status_code == 403
    assert "phone app" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(AuthSession).where(AuthSession.kind == "console")).first() is None


def _age_session(app, **changes):
    with app.app_context():
        db.session.execute(update(AuthSession).where(AuthSession.kind == "console").values(**changes))
        db.session.commit()


def test_idle_for_fifteen_minutes_signs_out(app, world):
    nurse = console_user(app, world.nurse)
    _age_session(app, last_seen_at=datetime.now(UTC) - timedelta(minutes=14))
    assert nurse.get("/console/").status_code == 200  # still inside the 15 minutes: and now seen again
    _age_session(app, last_seen_at=datetime.now(UTC) - timedelta(minutes=15, seconds=1))
    response = nurse.get("/console/")
    assert response.status_code == 302 and "/console/sign-in" in response.headers["Location"]
    assert nurse.get("/console/").status_code == 302


def test_the_live_refresh_does_not_keep_an_idle_session_alive(app, world):
    nurse = console_user(app, world.nurse)
    seen = datetime.now(UTC) - timedelta(minutes=10)
    _age_session(app, last_seen_at=seen)
    assert nurse.get("/console/live/worklist").status_code == 200
    with app.app_context():
        session = db.session.execute(select(AuthSession).where(AuthSession.kind == "console")).scalar_one()
        assert abs(session.last_seen_at - seen) < timedelta(seconds=1)
    _age_session(app, last_seen_at=datetime.now(UTC) - timedelta(minutes=16))
    assert nurse.get("/console/live/worklist").status_code == 401


def test_twelve_hours_at_most(app, world):
    nurse = console_user(app, world.nurse)
    with app.app_context():
        session = db.session.execute(select(AuthSession).where(AuthSession.kind == "console")).scalar_one()
        assert timedelta(hours=11, minutes=59) < session.expires_at - session.created_at <= timedelta(hours=12)
    _age_session(app, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert nurse.get("/console/").status_code == 302


def test_sign_out_ends_the_session_row(app, world):
    nurse = console_user(app, world.nurse)
    stolen_cookie = nurse.client.get_cookie("trial_diary_console", path="/console").value
    response = nurse.post("/console/sign-out")
    assert response.status_code == 302
    with app.app_context():
        session = db.session.execute(select(AuthSession).where(AuthSession.kind == "console")).scalar_one()
        assert session.revoked_at is not None
    replay = app.test_client()
    replay.set_cookie("trial_diary_console", stolen_cookie, path="/console")
    assert replay.get("/console/").status_code == 302  # the old cookie no longer opens anything


def test_deactivating_an_account_ends_its_console_session_at_once(app, world):
    nurse = console_user(app, world.nurse)
    admin = console_user(app, world.admin)
    assert nurse.get("/console/").status_code == 200
    response = admin.post(f"/console/admin/staff/{world.nurse_id}/deactivate", {"confirm": "yes"},
                          page="/console/admin/staff")
    assert response.status_code == 302
    assert nurse.get("/console/").status_code == 302
    assert nurse.get("/console/live/worklist").status_code == 401
    again = ConsoleUser(app.test_client()).sign_in(world.nurse)
    assert again.status_code == 401


def test_failed_sign_ins_are_limited_per_account_and_address_across_api_and_console(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "3 per 15 minutes")
    user = ConsoleUser(app.test_client())
    assert [user.sign_in(world.nurse, "wrong-password-x").status_code for _ in range(2)] == [401, 401]
    # The API's sign-in and the console's count against one allowance: a guesser does not get one per door.
    api = world.client.post("/api/v1/auth/login", json={"email": world.nurse, "password": "wrong-password-x"})
    assert api.status_code == 401
    refused = user.sign_in(world.nurse)  # even the right password, once the limit is reached
    assert refused.status_code == 429 and "Too many" in refused.get_data(as_text=True)
    assert ConsoleUser(app.test_client()).sign_in(world.physician).status_code == 302  # another account
    elsewhere = ConsoleUser(app.test_client())  # the owner, from another address, is not locked out
    owner = elsewhere.client.post("/console/sign-in", environ_base={"REMOTE_ADDR": "10.1.2.3"}, data={
        "email": world.nurse, "password": factories.PASSWORD, "csrf_token": elsewhere.token()})
    assert owner.status_code == 302


def test_failed_sign_ins_are_limited_per_address(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "2 per 15 minutes")
    user = ConsoleUser(app.test_client())
    assert user.sign_in(world.nurse, "wrong-password-x").status_code == 401
    assert user.sign_in(world.physician, "wrong-password-x").status_code == 401
    assert user.sign_in(world.admin).status_code == 429


def test_headers_on_console_pages(app, world):
    nurse = console_user(app, world.nurse)
    for path in ("/console/", "/console/sign-in", f"/console/trials/{world.trial_id}"):
        headers = nurse.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"


def test_an_emails_trial_link_leads_to_the_trial_after_sign_in(app, world):
    """Alert and result emails link to /console/trials/{id}: signed out, it asks for sign-in, then opens it."""
    user = ConsoleUser(app.test_client())
    asked = user.get(f"/console/trials/{world.trial_id}")
    assert asked.status_code == 302
    page = user.get(asked.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="/console/trials/{world.trial_id}"' in page
    signed_in = user.client.post("/console/sign-in", data={
        "email": world.nurse, "password": "correct-horse-battery", "next": f"/console/trials/{world.trial_id}",
        "csrf_token": user.token()})
    assert signed_in.headers["Location"].endswith(f"/console/trials/{world.trial_id}")
    assert user.get(signed_in.headers["Location"]).status_code == 200


def test_sign_in_never_redirects_off_the_console(app, world):
    user = ConsoleUser(app.test_client())
    for target in ("https://evil.example/x", "//evil.example/x", "/api/v1/trials", "javascript:alert(1)"):
        response = user.client.post("/console/sign-in", data={
            "email": world.nurse, "password": "correct-horse-battery", "next": target, "csrf_token": user.token()})
        assert response.headers["Location"].endswith("/console/"), target
