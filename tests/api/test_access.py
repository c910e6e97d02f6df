"""Who may reach what: the role x endpoint matrix, tenant isolation, tokens, rate limits."""

import time
from datetime import timedelta

import pytest
from flask import Flask
from flask_jwt_extended import create_access_token, decode_token
from sqlalchemy import select

from api.extensions import db
from api.extensions.limits import Limiter
from api.models import AuditEvent, DiaryEntry, Patient

from ..conftest import ApiClient, entry, sign_in

ANON = "anonymous"


def caller(world, role):
    return ApiClient(world.client) if role == ANON else getattr(world, f"as_{role}")


# (method, path template, body, {role: expected status}); roles not named expect 403 (or 401 if anonymous).
MATRIX = [
    ("get", "/users", None, {"admin": 200}),
    ("post", "/users", {"email": "x@y.test", "role": "nurse", "password": "long-enough-pw"}, {"admin": 201}),
    ("get", "/patients", None, {"nurse": 200, "physician": 200, "other_nurse": 200}),
    ("get", "/patients/{patient_id}", None, {"nurse": 200, "physician": 200}),
    ("get", "/trials", None, {"nurse": 200, "physician": 200, "patient": 200, "second_patient": 200,
                              "other_nurse": 200}),
    ("get", "/trials/{trial_id}", None, {"nurse": 200, "physician": 200, "patient": 200, "second_patient": 404}),
    ("patch", "/trials/{trial_id}", {"care_team": ["{nurse_id}"]}, {"nurse": 200, "physician": 200,
                                                                    "patient": 403, "second_patient": 403}),
    ("post", "/trials/{trial_id}/entries", "entry", {"patient": 201, "nurse": 403, "physician": 403,
                                                    "second_patient": 404}),
    ("get", "/trials/{trial_id}/entries", None, {"patient": 200, "nurse": 200, "physician": 200,
                                                 "second_patient": 404}),
    ("post", "/trials/{trial_id}/evaluations", None, {"nurse": 202, "physician": 202, "second_patient": 403}),
    ("get", "/trials/{trial_id}/evaluations", None, {"nurse": 200, "physician": 200, "patient": 200,
                                                     "second_patient": 404}),
    ("get", "/trials/{trial_id}/summary", None, {"nurse": 200, "physician": 200}),
]
ROLES = [ANON, "admin", "nurse", "physician", "patient", "second_patient", "other_nurse"]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_the_role_matrix(world, method, path, body, allowed):
    values = {"trial_id": world.trial_id, "patient_id": world.patient_id, "nurse_id": world.nurse_id}
    for role in ROLES:
        expected = allowed.get(role, 401 if role == ANON else 403)
        if role == "other_nurse" and "{" in path and expected == 403:
            expected = 404  # another clinic's objects do not exist for them
        payload = entry() if body == "entry" else _fill(body, values)
        response = getattr(caller(world, role), method)(path.format(**values), json=payload)
        assert response.status_code == expected, (role, response.get_json())


def _fill(body, values):
    if body is None:
        return None
    if isinstance(body, dict):
        return {k: _fill(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_fill(v, values) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return values[body[1:-1]]
    return body


def test_other_clinics_objects_answer_404_exactly_like_missing_ones(world):
    outsider = world.as_other_nurse
    foreign = outsider.get(f"/trials/{world.trial_id}")
    missing = outsider.get("/trials/987654")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()
    assert outsider.get("/trials").get_json() == []
    assert outsider.get("/patients").get_json() == []


def test_a_patient_lists_only_their_own_trials(world):
    mine = world.as_patient.get("/trials").get_json()
    assert [t["id"] for t in mine] == [world.trial_id]
    assert world.as_second_patient.get("/trials").get_json() == []


def test_an_admin_cannot_create_a_user_in_another_role_or_clinic(world):
    admin = world.as_admin
    assert admin.post("/users", json={"email": "p@y.test", "role": "patient", "password": "long-enough-pw"}
                      ).status_code == 422
    assert admin.post("/users", json={"email": "p@y.test", "role": "nurse", "password": "long-enough-pw",
                                      "clinic_id": 99}).status_code == 422
    taken = admin.post("/users", json={"email": world.nurse, "role": "nurse", "password": "long-enough-pw"})
    assert taken.status_code == 409 and "email" in taken.get_json()["errors"]


def test_unknown_email_and_wrong_password_get_the_same_answer(world):
    unknown = world.client.post("/api/v1/auth/login", json={"email": "nobody@x.test", "password": "whatever-pw"})
    wrong = world.client.post("/api/v1/auth/login", json={"email": world.nurse, "password": "whatever-pw"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_a_patient_who_has_not_enrolled_cannot_sign_in(world, app):
    from api.extensions import db
    from api.models import User

    with app.app_context():
        user = db.session.query(User).filter_by(email=world.second_patient).one()
        user.password_hash = None
        db.session.commit()
    response = world.client.post("/api/v1/auth/login", json={"email": world.second_patient,
                                                             "password": "correct-horse-battery"})
    assert response.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(world):
    tokens = world.client.post("/api/v1/auth/login", json={"email": world.nurse,
                                                           "password": "correct-horse-battery"}).get_json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    refresh = {"Authorization": f"Bearer {tokens['refresh_token']}"}
    renewed = world.client.post("/api/v1/auth/refresh", headers=refresh)
    assert renewed.status_code == 200
    assert ApiClient(world.client, renewed.get_json()["access_token"]).get("/trials").status_code == 200
    # The old refresh token again: someone else has it. The whole session goes.
    assert world.client.post("/api/v1/auth/refresh", headers=refresh).status_code == 401
    assert ApiClient(world.client, renewed.get_json()["access_token"]).get("/trials").status_code == 401
    # An access token is not a refresh token.
    assert world.client.post("/api/v1/auth/refresh", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401


def test_logout_revokes_this_sign_in_only(world):
    first, second = sign_in(world.client, world.nurse), sign_in(world.client, world.nurse)
    assert first.post("/auth/logout").status_code == 204
    assert first.get("/trials").status_code == 401
    assert second.get("/trials").status_code == 200


def test_a_diary_write_with_a_revoked_or_deactivated_sign_in_is_refused_and_not_stored(world, app):
    url = f"/trials/{world.trial_id}/entries"
    signed_out, deactivated = world.as_patient, world.as_patient
    assert signed_out.post("/auth/logout").status_code == 204
    assert signed_out.post(url, json=entry()).status_code == 401
    with app.app_context():
        db.session.get(Patient, world.patient_id).user.active = False
        db.session.commit()
    assert deactivated.post(url, json=entry()).status_code == 401
    with app.app_context():
        assert db.session.execute(select(DiaryEntry)).first() is None


def test_a_token_accepted_before_is_refused_once_it_expires(world, app):
    # Verified tokens are remembered (api.extensions.tokens); expiry must still be checked on every use.
    with app.app_context():
        claims = decode_token(sign_in(world.client, world.nurse).token)
        token = create_access_token(identity=claims["sub"], expires_delta=timedelta(seconds=1),
                                    additional_claims={"sid": claims["sid"], "role": claims["role"]})
    nurse = ApiClient(world.client, token)
    assert nurse.get("/trials").status_code == 200
    time.sleep(2.1)  # JWT expiry has one-second resolution
    response = nurse.get("/trials")
    assert response.status_code == 401
    assert response.get_json()["message"] == "The token has expired."


def test_every_diary_request_leaves_exactly_one_audit_row_naming_the_patient(world, app):
    patient, url = world.as_patient, f"/trials/{world.trial_id}/entries"
    body = entry()
    stored = patient.post(url, json=body)
    assert stored.status_code == 201
    assert patient.post(url, json=body).status_code == 200  # a replay
    correction = {"pain": {"score": 2}}
    entry_url = f"{url}/{stored.get_json()['id']}"
    assert patient.patch(entry_url, json=correction).status_code == 200
    assert patient.patch(entry_url, json=correction).status_code == 200  # a retry: nothing new to keep
    assert world.as_second_patient.post(url, json=entry()).status_code == 404
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.object_id == str(world.trial_id))).scalars()
        seen = sorted((row.action, row.outcome, row.patient_id) for row in rows)
    assert seen == sorted([
        ("entry.create", "success", world.patient_id), ("entry.create", "success", world.patient_id),
        ("entry.correct", "success", world.patient_id), ("entry.correct", "success", world.patient_id),
        ("entry.create", "not_found", world.patient_id),
    ])


def test_login_is_rate_limited_per_account(world):
    for _ in range(10):
        world.client.post("/api/v1/auth/login", json={"email": world.physician, "password": "wrong-password"})
    limited = world.client.post("/api/v1/auth/login", json={"email": world.physician,
                                                            "password": "correct-horse-battery"})
    assert limited.status_code == 429 and limited.get_json()["code"]
    # Another account from the same address still signs in.
    assert world.client.post("/api/v1/auth/login", json={"email": world.nurse,
                                                         "password": "correct-horse-battery"}).status_code == 200


def test_wrong_enrollment_codes_are_rate_limited_per_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "3 per 15 minutes")
    attempt = {"enrollment_code": "WRONG-CODE-1234", "password": "a-good-password"}
    answers = [client.post("/api/v1/auth/enroll", json=attempt) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert client.post("/api/v1/auth/enroll", json=attempt,
                       environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 401  # another address


def test_the_limiter_refuses_default_limits_that_it_would_not_check():
    with pytest.raises(RuntimeError, match="declared on views only"):
        Limiter(key_func=lambda: "x", default_limits=["1 per day"], storage_uri="memory://").init_app(Flask("limits"))


def test_an_enrollment_code_expires_and_can_be_reissued(world, app):
    nurse = world.as_nurse
    created = nurse.post("/patients", json={"display_name": "K. L.", "mrn": "K-9", "date_of_birth": "1970-05-05",
                                            "email": "kl@example.test", "timezone": "Europe/Paris"}).get_json()
    reissued = nurse.post(f"/patients/{created['patient']['id']}/enrollment-code")
    assert reissued.status_code == 201
    old = world.client.post("/api/v1/auth/enroll", json={"enrollment_code": created["enrollment_code"],
                                                         "password": "a-good-password"})
    assert old.status_code == 401
    new_code = reissued.get_json()["enrollment_code"].lower().replace("-", " ")  # typed by hand
    assert world.client.post("/api/v1/auth/enroll", json={"enrollment_code": new_code,
                                                          "password": "a-good-password"}).status_code == 200


def test_the_openapi_document_and_docs_are_served(client):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.get_json()["paths"]
    assert "/api/v1/trials/{trial_id}/entries/batch" in paths
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/docs/assets/swagger-ui-bundle.js" in docs.data
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get(f"/api/v1/docs/assets/{asset}").status_code == 200, asset
    assert client.get("/api/v1/healthz").get_json() == {"status": "ok"}
    ready = client.get("/api/v1/readyz").get_json()
    assert ready["checks"]["database"] is True
