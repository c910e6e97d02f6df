"""PostgreSQL restarted and Redis stopped under load, on real processes: nothing answered 500, nothing lost.

The API runs in gunicorn (2 workers x 2 threads), a Celery worker runs with beat, both on a PostgreSQL cluster and
a Redis of this test's own (the system ones are never touched), mail goes to a local SMTP server. Phones post
diary entries and retry the same client_id on 503 or a broken connection, as the app does; sign-ins go on
alongside. Redis is stopped for ten seconds (it is the broker and the sign-in limiter's storage), then PostgreSQL
is restarted under the load, and once more while the API is quiet (every pooled connection left dead). Every
response is recorded and judged afterwards.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from api import create_app
from api.domain.safety import LABELS
from api.extensions import db

from ..conftest import throwaway_postgres_database
from ..factories import PASSWORD, ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import (
    ROOT,
    SECRET,
    PrivatePostgres,
    PrivateRedis,
    Worker,
    app_from_environment,
    app_settings,
    free_port,
    wait_for,
)
from .receivers import SmtpServer

pytestmark = pytest.mark.integration

PHONES = 3
ENTRY_PACE_SECONDS = 0.4  # between one phone's entries: a brisk sync, bounded work for the worker to catch up
RETRY_SECONDS = 0.5  # a phone retries sooner than Retry-After asks, so that the outage sees many requests
WRONG_PASSWORDS = 10  # at most, over the whole load: stays under the per-address limit of failed sign-ins
AFTER_RESTART = 50  # the first requests after PostgreSQL is back must all succeed (the pool recovered)
AFTER_QUIET_RESTART = 20  # and after a restart that no request saw, with every pooled connection dead


@dataclass
class Call:
    kind: str  # entry, login, wrong_password
    started: float
    ended: float
    status: int | None = None
    error: str | None = None  # a connection error or timeout: gunicorn did not answer
    retry_after: str | None = None
    body: dict | None = None


class Gunicorn:
    """`gunicorn wsgi:app`, as the README runs it in production, in its own process group."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.port, self.log = env, free_port(), folder / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> Gunicorn:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--threads", "2", "--timeout", "120", "--graceful-timeout", "5", "--access-logfile", "-",
             "--access-logformat", "%(m)s %(U)s %(s)s %(L)ss",
             "--no-control-socket"],  # the default socket is one per user: it would be shared with other runs
            cwd=ROOT, env={**os.environ, **self.env}, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text(errors='replace')[-3000:]}")
            try:
                return requests.get(f"{self.url}/api/v1/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, timeout, 0.3, "gunicorn to answer")
        wait_for(lambda: self.log.read_text(errors="replace").count("Booting worker") >= 2, timeout, 0.3,
                 "both gunicorn workers to boot")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def _seed(pg_url: str, broker: str, folder: Path) -> dict:
    """Clinic, phones' patients with their trials (each trial its own nurse), and an account for wrong passwords.

    Written through the models on a short-lived in-process app; the API processes read it from the database.
    """
    app = app_from_environment(app_settings(pg_url, broker, folder))
    with app.app_context():
        clinic = ClinicFactory()
        phones = []
        for _ in range(PHONES):
            nurse = UserFactory(clinic=clinic, role="nurse")
            patient = PatientFactory(clinic=clinic, timezone="UTC")
            trial = TrialFactory(patient=patient, care_team=[nurse], timezone="UTC",
                                 start_at=datetime.now(UTC) - timedelta(days=3))
            phones.append({"patient": patient.user.email, "nurse": nurse.email, "trial_id": trial.id})
        stranger = UserFactory(clinic=clinic, role="nurse")
        db.session.commit()
        people = {"phones": phones, "stranger": stranger.email}
        db.session.remove()
        db.engine.dispose()
    return people


class Load:
    """Phones posting entries (retrying the same client_id) and sign-ins, until `stop()`; every response kept."""

    def __init__(self, base_url: str, people: dict):
        self.base, self.people = base_url + "/api/v1", people
        self.calls: list[Call] = []  # appended from several threads: list.append is atomic
        self.acknowledged: dict[str, int] = {}  # client_id -> trial id, for every entry that got a 2xx
        self.posted: dict[str, int] = {}
        self.red_flags: dict[str, str] = {}  # client_id -> the symptom it reported
        # The symptom of the entries written now (None: none); set for each outage, so that the alerts it raises
        # and their e-mails can only come from work done after the outage.
        self.symptom: str | None = None
        self.stopping = threading.Event()
        self.going = threading.Event()  # cleared: every client holds its next request (a quiet spell)
        self.going.set()
        self.in_flight = 0
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _request(self, session: requests.Session, kind: str, method: str, path: str, **kwargs) -> Call:
        while True:  # counted in flight only if not paused meanwhile: a paused spell is truly quiet
            self.going.wait()
            with self.lock:
                if self.going.is_set():
                    self.in_flight += 1
                    break
        call = Call(kind, time.monotonic(), 0.0)
        try:
            response = session.request(method, self.base + path, timeout=60, **kwargs)
            call.status, call.retry_after = response.status_code, response.headers.get("Retry-After")
            try:
                call.body = response.json()
            except ValueError:
                call.body = None
        except requests.RequestException as error:
            call.error = type(error).__name__
        call.ended = time.monotonic()
        self.calls.append(call)
        with self.lock:
            self.in_flight -= 1
        return call

    def _sign_in(self, session: requests.Session, email: str) -> str:
        """A phone's first sign-in, before any outage."""
        call = self._request(session, "login", "POST", "/auth/login", json={"email": email, "password": PASSWORD})
        assert call.status == 200, call
        return call.body["access_token"]

    def _phone(self, phone: dict) -> None:
        session = requests.Session()
        # A new connection per request: a kept-alive one that gunicorn closes (after its 2 s keep-alive) just as
        # the phone reuses it fails at the client, which says nothing about the server; this test's "no
        # connection error" must mean that gunicorn answered every request.
        session.headers["Connection"] = "close"
        session.headers["Authorization"] = f"Bearer {self._sign_in(session, phone['patient'])}"
        give_up = None
        for n in itertools.count():
            if self.stopping.is_set():
                return
            recorded_at = datetime.now(UTC) - timedelta(minutes=1)
            body = {"client_id": str(uuid.uuid4()), "recorded_at": recorded_at.isoformat(),
                    "pain": {"score": 3 + n % 5}}
            if (symptom := self.symptom) is not None:
                body["symptoms"] = [symptom]
                self.red_flags[body["client_id"]] = symptom
            self.posted[body["client_id"]] = phone["trial_id"]
            # The phone keeps the entry until the server acknowledges it, and sends the same one again.
            while True:
                call = self._request(session, "entry", "POST", f"/trials/{phone['trial_id']}/entries", json=body)
                if call.status in (200, 201):
                    self.acknowledged[body["client_id"]] = phone["trial_id"]
                    break
                if call.status is not None and call.status != 503:
                    return  # an answer no retry can change: judged with the others afterwards
                if self.stopping.is_set():
                    give_up = give_up or time.monotonic() + 30
                    if time.monotonic() > give_up:
                        return
                time.sleep(RETRY_SECONDS)
            time.sleep(ENTRY_PACE_SECONDS)

    def _sign_ins(self) -> None:
        accounts = itertools.cycle([e for phone in self.people["phones"] for e in (phone["patient"], phone["nurse"])])
        wrong = 0
        for n in itertools.count():
            if self.stopping.is_set():
                return
            # A connection of its own for each sign-in, as from many phones: both gunicorn workers get some.
            with requests.Session() as session:
                if n % 8 == 7 and wrong < WRONG_PASSWORDS:
                    wrong += 1
                    self._request(session, "wrong_password", "POST", "/auth/login",
                                  json={"email": self.people["stranger"], "password": "not-the-password-at-all"})
                else:
                    self._request(session, "login", "POST", "/auth/login",
                                  json={"email": next(accounts), "password": PASSWORD})
            time.sleep(0.3)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._phone, args=(phone,), daemon=True)
                        for phone in self.people["phones"]]
        self.threads.append(threading.Thread(target=self._sign_ins, daemon=True))
        for thread in self.threads:
            thread.start()

    def pause(self) -> None:
        """Hold every client's next request, and wait for the requests under way to finish."""
        with self.lock:
            self.going.clear()
        wait_for(lambda: self.in_flight == 0, 120, 0.1, "the requests under way to finish")

    def resume(self) -> None:
        self.going.set()

    def stop(self) -> None:
        self.stopping.set()
        self.going.set()
        for thread in self.threads:
            thread.join(120)

    def started_between(self, begin: float, end: float, *kinds: str) -> list[Call]:
        return [c for c in self.calls if begin <= c.started <= end and c.kind in kinds]


def _readiness(base_url: str) -> dict:
    response = requests.get(f"{base_url}/api/v1/readyz", timeout=30)
    return {"http": response.status_code, **response.json()}


def _rows(pg_url: str, query: str) -> list[tuple]:
    with psycopg.connect(pg_url, connect_timeout=10) as connection:
        return connection.execute(query).fetchall()


def test_postgresql_restarted_and_redis_stopped_under_load(tmp_path):
    smtp = SmtpServer()
    redis_server = PrivateRedis(tmp_path)
    pg = api = worker = load = None
    try:
        pg = PrivatePostgres()
        pg.create()
        redis_server.start()
        smtp.start()
        people = _seed(pg.url, redis_server.url, tmp_path)
        limiter_storage = redis_server.url.rsplit("/", 1)[0] + "/1"
        env = {**app_settings(pg.url, redis_server.url, tmp_path),
               "RATELIMIT_STORAGE_URI": limiter_storage,
               "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "true", "RATELIMIT_SWALLOW_ERRORS": "true",
               "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false",
               "NOTIFICATION_RETRY_BASE_SECONDS": "1", "NOTIFICATION_LEASE_SECONDS": "4"}
        api, worker = Gunicorn(env, tmp_path), Worker(env, tmp_path, "outage-worker")  # stopped even if never ready
        api.start()
        worker.start(timeout=120)

        load = Load(api.url, people)
        load.start()
        time.sleep(5)

        # Redis down for ten seconds: the broker and the sign-in limiter's storage.
        redis_down = time.monotonic()
        load.symptom = "urinary_retention"
        redis_server.stop()
        during_redis = _readiness(api.url)
        time.sleep(max(0.0, redis_down + 10 - time.monotonic()))
        redis_up = time.monotonic()
        redis_server.start()
        load.symptom = None
        time.sleep(3)

        # PostgreSQL restarted: every session is ended, nothing answers for five seconds.
        pg_down = time.monotonic()
        load.symptom = "positional_headache"
        pg.stop()
        during_pg = _readiness(api.url)
        time.sleep(max(0.0, pg_down + 5 - time.monotonic()))
        pg.start()
        pg_up = time.monotonic()
        wait_for(lambda: len(load.started_between(pg_up, float("inf"), "entry", "login", "wrong_password"))
                 >= AFTER_RESTART + 10, 60, 0.5, "requests after the restart")

        # A restart while the API is quiet: no request sees it, so every pooled connection is left dead and
        # nothing has told the pool; those connections idle more than a second, and are checked before use.
        load.symptom = None
        load.pause()
        pg.stop()
        pg.start()
        time.sleep(1.5)
        quiet_restart_done = time.monotonic()
        load.resume()
        wait_for(lambda: len(load.started_between(quiet_restart_done, float("inf"), "entry", "login"))
                 >= AFTER_QUIET_RESTART, 60, 0.5, "requests after the quiet restart")
        load.stop()
        assert not any(thread.is_alive() for thread in load.threads), "a load thread is stuck"

        calls = load.calls
        statuses = sorted({(c.kind, c.status) for c in calls}, key=str)
        print(f"outage load: {len(calls)} requests, {len(load.acknowledged)} entries acknowledged, "
              + ", ".join(f"{kind} {status}: {sum(1 for c in calls if (c.kind, c.status) == (kind, status))}"
                          for kind, status in statuses))
        # Gunicorn answered every request: a dependency's outage never takes the API process down.
        assert [c for c in calls if c.error] == []
        assert api.process.poll() is None
        assert api.log.read_text(errors="replace").count("Booting worker") == 2, "a gunicorn worker was replaced"
        # No 500: what a dependency's outage causes is a 503 with Retry-After, in the error shape.
        expected = {"entry": {200, 201, 503}, "login": {200, 503}, "wrong_password": {401, 429, 503}}
        assert [c for c in calls if c.status not in expected[c.kind]] == []
        unavailable = [c for c in calls if c.status >= 500]
        assert unavailable, "the PostgreSQL outage was not seen by any request"
        for call in unavailable:
            assert call.status == 503 and call.retry_after and int(call.retry_after) > 0, call
            assert call.body is not None and call.body["code"] == "service_unavailable", call
            assert call.body["status"] == 503 and call.body["message"], call

        # Redis down: sign-in works (limits held in memory) and so do diary writes (they never touch the broker).
        redis_window = load.started_between(redis_down + 0.5, redis_up, "login", "entry")
        assert {c.kind for c in redis_window} == {"login", "entry"}
        assert [c for c in redis_window if c.status not in (200, 201)] == []
        assert during_redis["http"] == 503 and during_redis["checks"] == {"database": True, "broker": False}
        assert during_pg["http"] == 503 and during_pg["checks"]["database"] is False

        # PostgreSQL back: the pool recovered, no request fails on a dead pooled connection.
        after = sorted(load.started_between(pg_up, float("inf"), "entry", "login"), key=lambda c: c.started)
        assert len(after) >= AFTER_RESTART
        assert [c for c in after[:AFTER_RESTART] if c.status not in (200, 201)] == []
        after_quiet = load.started_between(quiet_restart_done, float("inf"), "entry", "login")
        assert len(after_quiet) >= AFTER_QUIET_RESTART
        assert [c for c in after_quiet if c.status not in (200, 201)] == []

        # Every entry a phone posted was acknowledged in the end, and each is stored exactly once.
        assert load.acknowledged.keys() == load.posted.keys()
        stored = dict(_rows(pg.url, "SELECT client_id, count(*) FROM diary_entries GROUP BY client_id"))
        assert stored.keys() == load.acknowledged.keys()
        assert {count for count in stored.values()} == {1}

        # The background work waited in its rows and catches up: every entry's follow-up (safety rules) is done,
        # no evaluation is left due (a request row goes only when an evaluation ran after it, whether or not its
        # result differed from the stored one), every trial has an evaluation, and the alerts raised by the
        # entries written during each outage reach the trial's nurse by e-mail.
        trials = set(load.acknowledged.values())
        assert len(trials) == PHONES

        def caught_up() -> bool:
            pending = _rows(pg.url, "SELECT (SELECT count(*) FROM outbox_messages),"
                                    " (SELECT count(*) FROM evaluation_requests)")[0]
            evaluated = _rows(pg.url, "SELECT DISTINCT trial_id FROM evaluations")
            return pending == (0, 0) and {trial_id for (trial_id,) in evaluated} == trials

        wait_for(caught_up, 150, 1, "every entry followed up, every trial evaluated, no work left due")
        outage_rules = {"urinary_retention": "urinary_retention", "positional_headache": "csf_leak"}
        flagged = {(load.acknowledged[c], outage_rules[symptom]) for c, symptom in load.red_flags.items()}
        assert flagged == {(trial, rule) for trial in trials for rule in outage_rules.values()}
        alerts = set(_rows(pg.url, "SELECT trial_id, rule FROM alerts"))
        assert alerts >= flagged
        expected_mail = {(phone["nurse"], f"{LABELS[rule]}: trial {phone['trial_id']} (")
                         for phone in people["phones"] for rule in outage_rules.values()}

        def mailed() -> bool:
            received = [(to, message["Subject"]) for tos, message in list(smtp.messages) for to in tos]
            return all(any(to == nurse and about in subject for to, subject in received)
                       for nurse, about in expected_mail)

        wait_for(mailed, 150, 1, "the e-mails of the alerts raised during the outages")
        assert worker.process.poll() is None
    finally:
        if load is not None:
            load.stop()
        for stop in (worker and worker.kill, api and api.stop, redis_server.stop, smtp.stop, pg and pg.destroy):
            if stop:
                try:
                    stop()
                except Exception as error:  # every process is stopped even when one of them refuses
                    print(f"cleanup: {type(error).__name__}: {error}", file=sys.stderr)


@pytest.fixture(scope="module")
def app_on_postgresql(tmp_path_factory):
    """The app in-process on a throwaway database of the system PostgreSQL; nothing here needs Redis."""
    folder = tmp_path_factory.mktemp("outage-in-process")
    with throwaway_postgres_database("trial_diary_outage") as url:
        app = create_app({
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            "CELERY_BROKER_URL": f"sqla+sqlite:///{folder / 'broker.sqlite'}", "SECRET_KEY": SECRET,
            "JWT_SECRET_KEY": SECRET, "INSTANCE_PATH": str(folder), "SMTP_HOST": "",
        })
        yield app, url
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(("password", "answer"), [("not-the-password-at-all", 401), (PASSWORD, 503)])
def test_the_database_lost_while_a_password_is_checked_is_never_a_500(app_on_postgresql, monkeypatch,
                                                                      password, answer):
    """PostgreSQL goes away between the sign-in's read and its answer (the password check takes a while, on
    purpose): a wrong password is still a 401, a right one a 503 to retry; neither is a 500."""
    from api.services import auth

    pg, pg_url = app_on_postgresql
    with pg.app_context():
        email = UserFactory().email
        db.session.commit()
    check = auth.verify

    def check_while_the_database_goes_away(stored_hash, candidate):
        # What a restart does to the request's connection, at the moment it is busiest elsewhere.
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return check(stored_hash, candidate)

    monkeypatch.setattr(auth, "verify", check_while_the_database_goes_away)
    response = pg.test_client().post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == answer, response.get_json()
    assert response.get_json()["status"] == answer
    if answer == 503:
        assert response.headers["Retry-After"] and response.get_json()["code"] == "service_unavailable"
    monkeypatch.undo()
    # The connections the restart ended are replaced: the next sign-in works.
    assert pg.test_client().post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
