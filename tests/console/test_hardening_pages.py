"""Issue 18 ("Hardening, round two") through the console: trial lengths, `next`, a database that is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from api import create_app
from api.console.guard import safe_next
from api.domain.therapies import REGISTRY
from api.errors import RETRY_AFTER_SECONDS
from api.exports.charts import MAX_TICKS
from api.extensions import db
from api.models import Trial
from tests import factories

from ..conftest import POSTGRES_URL, throwaway_postgres_database
from .helpers import ConsoleUser, console_user


def test_the_trial_forms_refuse_a_trial_longer_than_its_therapy_allows(app, world):
    nurse = console_user(app, world.nurse)
    start = datetime.now(UTC) + timedelta(days=1)
    fields = {"patient_id": str(world.patient_id), "therapy": "scs", "timezone": "UTC", "baseline.pain": "8",
              "start_at": start.strftime("%Y-%m-%dT%H:%M"), "care_team": [str(world.nurse_id)]}
    too_long = nurse.post("/console/trials/new", {**fields, "end_at": (start + timedelta(days=31)).strftime(
        "%Y-%m-%dT%H:%M")}, page="/console/trials/new")
    assert too_long.status_code == 422 and "at most 30 days after the start" in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Trial).where(Trial.id != world.trial_id)).first() is None
    edit = f"/console/trials/{world.trial_id}/edit"
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        beyond = (trial.start_at + timedelta(days=40)).astimezone(ZoneInfo(trial.timezone))
        end = trial.end_at
    moved = nurse.post(edit, {"change": "end", "end_at": beyond.strftime("%Y-%m-%dT%H:%M")}, page=edit)
    assert moved.status_code == 422 and "at most 30 days after the start" in moved.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Trial, world.trial_id).end_at == end


# Finding 5: the console while PostgreSQL is down -------------------------------------------------------------

def _console_app(url: str, folder) -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                       "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
                       "CELERY_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}", "INSTANCE_PATH": str(folder),
                       "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256"})


def _unavailable_page(answer) -> None:
    assert answer.status_code == 503 and answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert answer.mimetype == "text/html" and "Briefly unavailable" in answer.get_data(as_text=True)
    assert answer.headers["Content-Security-Policy"]  # the console's own page, in its own style


def test_the_console_answers_503_with_retry_after_while_postgresql_is_down(tmp_path):
    with throwaway_postgres_database("trial_diary_console_outage") as url:
        app = _console_app(url, tmp_path)
        with app.app_context():
            nurse = factories.UserFactory(role="nurse")
            db.session.commit()
            email = nurse.email
        signed_in = console_user(app, email)
        signing_in = ConsoleUser(app.test_client())
        token = signing_in.token()  # the sign-in form, shown before the outage
        assert signed_in.get("/console/").status_code == 200
        database = url.rsplit("/", 1)[1]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:  # PostgreSQL refuses it, and ends its sessions
            admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (database,))
        _unavailable_page(signed_in.get("/console/"))
        _unavailable_page(signed_in.get("/console/patients"))
        _unavailable_page(signing_in.client.post("/console/sign-in", data={
            "email": email, "password": factories.PASSWORD, "csrf_token": token}))
        with app.app_context():
            db.engine.dispose()


# Finding 13: `next` stays in /console/ -----------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "/console/../api/v1/openapi.json", "/console/./../diary/", "/console/%2e%2e/diary/", "/console/%2E%2E/x",
    "/console/.%2e/x", "/console/..", "/console/patients/../../api", "/console/..\\\\api", "/console\\\\..\\\\api",
    "/console/\\t../api", "//evil.test/console/", "https://evil.test/console/", "/api/v1/console/"])
def test_next_cannot_leave_the_console(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/console/", "/console/patients?q=a", "/console/trials/1", "/console/a.b/c"])
def test_next_keeps_a_console_page(target):
    assert safe_next(target) == target


def test_signing_in_with_a_next_that_climbs_out_lands_on_the_console(app, world):
    user = ConsoleUser(app.test_client())
    answer = user.client.post("/console/sign-in", data={
        "email": world.nurse, "password": factories.PASSWORD, "next": "/console/%2e%2e/api/v1/openapi.json",
        "csrf_token": user.token()})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/"


# Finding 1: a chart's cost grows with the data, not the calendar -------------------------------------------

def test_the_longest_hourly_trial_charts_a_bounded_number_of_labels(app, world):
    with app.app_context():
        trial = db.session.get(Trial, world.trial_id)
        trial.therapy, trial.start_at = "intrathecal", datetime.now(UTC) - timedelta(days=31)
        trial.end_at = trial.start_at + REGISTRY["intrathecal"].max_length  # 720 hour buckets, all closed
        db.session.commit()
    chart = console_user(app, world.nurse).get(f"/console/trials/{world.trial_id}/charts.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    ticks = chart.get_data(as_text=True).count('<g id="xtick_')
    assert 3 <= ticks <= 3 * MAX_TICKS  # three panels; before, one label per hour: 2,160
