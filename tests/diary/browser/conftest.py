"""The diary page in a real browser: Debian's Chromium driven by Playwright for Python with a phone's viewport and
touch and service workers on, against the app served by a real HTTP server on PostgreSQL, with a real Celery
worker. One browser, one server, one worker and one world per module: each test has its own patient.

Off CI, a missing Chromium, PostgreSQL or Redis skips these tests with the reason; under CI=true it fails them.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import text
from werkzeug.serving import make_server

from api.channels.push import webpush
from api.extensions import db
from tests import factories
from tests.browser import browser  # noqa: F401  (the fixture, used by name)
from tests.integration.conftest import (  # noqa: F401  (fixtures, used by name)
    Worker,
    app_settings,
    free_port,
    pg_app,
    pg_url,
    redis_url,
    unavailable,
)

PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True,
         "service_workers": "allow", "device_scale_factor": 2}
CLINIC_PHONE = "+12015550123"  # stored in E.164
CLINIC_PHONE_READ = "+1 201-555-0123"  # as the page shows it


@pytest.fixture(scope="module")
def world(pg_app, pg_url, tmp_path_factory):  # noqa: F811  (the fixtures imported above)
    """Empty tables, then a clinic (with its phone), its nurse and physician; `world.patient(...)` adds patients."""
    with pg_app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        redis.Redis.from_url(pg_app.config["CELERY_BROKER_URL"]).flushdb()
        webpush.generate_key(Path(pg_app.config["VAPID_PRIVATE_KEY_FILE"]))  # as ./serve does: reminders offered
        clinic = factories.ClinicFactory(name="Riverside Pain Clinic", phone=CLINIC_PHONE)
        nurse = factories.UserFactory(clinic=clinic, role="nurse")
        physician = factories.UserFactory(clinic=clinic, role="physician")
        db.session.commit()
        world = World(pg_app, clinic.id, [nurse, physician], nurse.email)
    folder = tmp_path_factory.mktemp("diary-worker")
    worker = Worker(app_settings(pg_url, pg_app.config["CELERY_BROKER_URL"], folder), folder, "diary").start()
    yield world
    worker.stop()
    with pg_app.app_context():
        db.session.remove()


class World:
    def __init__(self, app, clinic_id: int, care_team, nurse_email: str):
        self.app, self.clinic_id, self.nurse_email = app, clinic_id, nurse_email
        self.care_team_ids = [u.id for u in care_team]

    def patient(self, name: str, *, language: str = "en", trials=(("scs", 3, 4),), enrolled: bool = True) -> dict:
        """A patient of the clinic with trials (therapy, days since start, days to end; for a block: minutes since
        it was given, and None) and, unless `enrolled` is False, the factories' password."""
        from api.models import Clinic, User

        with self.app.app_context():
            clinic = db.session.get(Clinic, self.clinic_id)
            user = factories.UserFactory(clinic=clinic, role="patient", display_name=None,
                                         password_hash=factories.UserFactory.password_hash if enrolled else None)
            patient = factories.PatientFactory(clinic=clinic, user=user, display_name=name, language=language,
                                               timezone="UTC")
            team = [db.session.get(User, i) for i in self.care_team_ids]
            made = []
            moment = datetime.now(UTC)  # one clock reading: a trial of 2 + 5 days is 7 days long, never 7 and a bit
            for therapy, since, until in trials:
                start = moment - timedelta(days=since)
                extra = {}
                if therapy.endswith("_block"):
                    start = moment - timedelta(minutes=since)
                    extra = {"target": {"region": "lumbar", "side": "left", "levels": ["L4-L5"]},
                             "agent": "bupivacaine", "baseline": {"pain": 7}}
                end = start + timedelta(hours=8) if until is None else moment + timedelta(days=until)
                trial = factories.TrialFactory(patient=patient, care_team=team, therapy=therapy, timezone="UTC",
                                               start_at=start, end_at=end, **extra)
                made.append(trial.id)
            db.session.commit()
            return {"email": patient.user.email, "patient_id": patient.id, "trials": made}


@pytest.fixture(scope="module")
def server(world):
    http = make_server("127.0.0.1", free_port(), world.app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="diary-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(10)


def api_as(server: str, email: str, password: str = factories.PASSWORD):
    """A requests session with a bearer token: the API's side of what the page did (the nurse's view)."""
    import requests

    session = requests.Session()
    answer = session.post(f"{server}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def stored_entries(api, server: str, trial_id: int) -> list[dict]:
    return api.get(f"{server}/api/v1/trials/{trial_id}/entries?limit=500", timeout=30).json()["items"]
