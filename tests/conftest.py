"""Test set-up: the schema comes from the Alembic migrations; every test starts from empty tables, and every test
that uses the application runs once on SQLite and once on PostgreSQL (production).
"""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text, update

from api import create_app
from api.cli import migrate_database
from api.extensions import db, limiter

from . import factories, texting_helpers

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable(reason: str):
    """Skip off CI (saying why); under CI=true a missing service is a failure, never a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: under CI=true the PostgreSQL and Redis services are required")
    pytest.skip(reason)


@contextmanager
def throwaway_postgres_database(prefix: str):
    """A new PostgreSQL database built by the migrations, dropped afterwards; yields its URL."""
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(exc).__name__})")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate_database(url.replace("postgresql://", "postgresql+psycopg://"))
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The application on each backend in turn: every API test runs on SQLite and on PostgreSQL."""
    folder = tmp_path_factory.mktemp(f"instance-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgresql":
            url = stack.enter_context(throwaway_postgres_database("trial_diary_api"))
            url = url.replace("postgresql://", "postgresql+psycopg://")
        else:
            url = f"sqlite:///{folder / 'test.sqlite'}"
            migrate_database(url)
        application = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "CELERY_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}",
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "INSTANCE_PATH": str(folder),
            "SMTP_HOST": "",  # mail goes to INSTANCE_PATH/mail as .eml files
            "DISPATCH_AT_ONCE": False,  # no worker here: drain() does the sweeps' work in-process
        })
        yield application
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean(request):
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
        limiter.reset()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """A signed-in caller: `as_nurse.post("/trials", json=...)` with the bearer token added."""

    def __init__(self, client, token: str | None = None):
        self.client, self.token = client, token

    def _call(self, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith("/api/") or path.startswith("/healthz") else f"/api/v1{path}"
        return getattr(self.client, method)(url, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("get", path, **kw)

    def post(self, path, **kw):
        return self._call("post", path, **kw)

    def patch(self, path, **kw):
        return self._call("patch", path, **kw)

    def put(self, path, **kw):
        return self._call("put", path, **kw)

    def delete(self, path, **kw):
        return self._call("delete", path, **kw)


def sign_in(client, email: str, password: str = factories.PASSWORD) -> ApiClient:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return ApiClient(client, response.get_json()["access_token"])


@pytest.fixture
def world(app, client):
    """Two clinics with staff; clinic A has an enrolled patient with an active SCS trial."""
    return make_world(app, client)


def make_world(app, client) -> World:
    """The `world` fixture's people and trial, in the database of `app`."""
    with app.app_context():
        a, b = factories.ClinicFactory(name="Clinic A"), factories.ClinicFactory(name="Clinic B")
        nurse = factories.UserFactory(clinic=a, role="nurse")
        physician = factories.UserFactory(clinic=a, role="physician")
        admin = factories.UserFactory(clinic=a, role="admin")
        other_nurse = factories.UserFactory(clinic=b, role="nurse")
        patient = factories.PatientFactory(clinic=a)
        second_patient = factories.PatientFactory(clinic=a)
        trial = factories.TrialFactory(patient=patient, care_team=[nurse, physician])
        db.session.commit()
        ids = {
            "nurse": nurse.email, "physician": physician.email, "admin": admin.email,
            "other_nurse": other_nurse.email, "patient": patient.user.email,
            "second_patient": second_patient.user.email, "trial_id": trial.id, "patient_id": patient.id,
            "nurse_id": nurse.id, "physician_id": physician.id,
        }
    return World(client, ids)


class World:
    def __init__(self, client, ids):
        self.client, self.ids = client, ids

    def __getattr__(self, name):
        if name.startswith("as_") and name[3:] in self.ids:
            return sign_in(self.client, self.ids[name[3:]])
        if name in self.ids:
            return self.ids[name]
        raise AttributeError(name)


@pytest.fixture
def texts(app, world):
    """The world's patient on a daytime clock, with a mobile number and consent; the clinic has a phone. Yields the
    nurse's API client. (Texting tests: tests/api/test_texting.py, tests/diary/test_texting.py.)"""
    from api.models import Clinic, Patient, Trial
    saved = {k: app.config[k] for k in ("TWILIO_AUTH_TOKEN", "REMINDER_LOCAL_HOUR", "SMS_DAILY_LIMIT")}
    app.config.update(TWILIO_AUTH_TOKEN=texting_helpers.AUTH_TOKEN, REMINDER_LOCAL_HOUR=0)
    with app.app_context():
        db.session.execute(update(Patient).values(timezone=texting_helpers.zone_at(12)))
        db.session.execute(update(Trial).values(timezone=texting_helpers.zone_at(12)))
        db.session.execute(update(Clinic).values(phone="+12015550100"))
        db.session.commit()
    staff = world.as_nurse
    number = {"mobile_number": texting_helpers.NUMBER, "sms_consent": True}
    assert staff.patch(f"/patients/{world.patient_id}", json=number).status_code == 200
    yield staff
    app.config.update(saved)
    (Path(app.config["INSTANCE_PATH"]) / "sms.jsonl").unlink(missing_ok=True)


def drain(app) -> None:
    """What beat and the workers do, in-process: run every due request, outbox message and notification."""
    from api.models import EvaluationRequest, OutboxMessage
    from api.services import diary, notifications
    from api.services.evaluations import claim_due_requests, run_evaluations

    with app.app_context():
        for _ in range(5):
            db.session.query(EvaluationRequest).update({"due_at": datetime.now(UTC)})
            db.session.commit()
            trial_ids = claim_due_requests()
            messages = [m.id for m in db.session.query(OutboxMessage).all()]
            db.session.commit()
            if trial_ids:
                run_evaluations(trial_ids=trial_ids)
            for message_id in messages:
                diary.follow_up_entry(message_id=message_id)
            notification_ids = notifications.claim_due_notifications()
            db.session.commit()
            for notification_id in notification_ids:
                notifications.deliver(notification_id=notification_id)
            if not (trial_ids or messages or notification_ids):
                return
        db.session.remove()


def entry(recorded_at: datetime | None = None, score: int = 4, **fields) -> dict:
    """A valid diary entry body."""
    moment = recorded_at or datetime.now(UTC) - timedelta(minutes=5)
    return {"client_id": str(uuid.uuid4()), "recorded_at": moment.isoformat(), "pain": {"score": score}, **fields}


class Documented:
    """The OpenAPI document of `app`, to hold real answers to: each status an answer has is one its operation lists
    (not only under `default`), and its body is what the document says for that status (schemathesis checks)."""

    def __init__(self, app):
        import schemathesis

        self.raw = app.test_client().get("/api/v1/openapi.json").get_json()
        self.schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        self.operations: dict[tuple[str, str], object] = {}

    def check(self, method: str, path: str, response) -> None:
        """`path` is the document's (with {placeholders}); `response` the test client's."""
        listed = self.raw["paths"][path][method]["responses"]
        assert str(response.status_code) in listed, (
            f"{method.upper()} {path} answered {response.status_code}, which its operation does not list: "
            "api/extensions/openapi.py documents the errors a route's code can answer; a domain conflict is declared "
            "with @blp.alt_response(409, description=...) beside its route")
        operation = self.operations.get((method, path))
        if operation is None:  # resolved once: each answer then costs only its validation
            operation = self.operations[method, path] = self.schema[path][method]
        operation.validate_response(response)
