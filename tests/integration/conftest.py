"""Integration set-up: a throwaway PostgreSQL database built by the migrations, Redis, real workers.

Off CI a missing PostgreSQL or Redis skips these tests with the reason; under CI=true it fails them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import text

from api import create_app
from api.cli import migrate_database
from api.extensions import db

from ..conftest import throwaway_postgres_database, unavailable

ROOT = Path(__file__).resolve().parents[2]


def _redis_url() -> str:
    """TEST_REDIS_URL (default database 9), one database further per xdist worker: each run's queues are its own."""
    base = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    root, number = base.rsplit("/", 1)
    return f"{root}/{int(number) + int(worker.removeprefix('gw') or 0)}"


REDIS_URL = _redis_url()
SECRET = "integration-secret-key-long-enough-for-hs256"
# Short timings so that the tests wait seconds, not minutes; the mechanisms are the production ones.
FAST = {
    "EVALUATION_DEBOUNCE_SECONDS": "1",
    "EVALUATION_LEASE_SECONDS": "4",
    "SWEEP_INTERVAL_SECONDS": "0.5",
    "BEAT_LEASE_SECONDS": "3",
    "CELERY_VISIBILITY_TIMEOUT": "30",
}


@pytest.fixture(scope="session")
def pg_url():
    with throwaway_postgres_database("trial_diary_it") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).flushdb()
    except redis.exceptions.RedisError as exc:
        unavailable(f"Redis is not reachable at {REDIS_URL} ({type(exc).__name__})")
    return REDIS_URL


def app_settings(pg: str, broker: str, instance: Path) -> dict[str, str]:
    return {"DATABASE_URL": pg, "CELERY_BROKER_URL": broker, "SECRET_KEY": SECRET,
            "INSTANCE_DIR": str(instance), **FAST}


def app_from_environment(settings: dict[str, str]):
    """An app configured as a process started with `settings` in its environment would be (then restored)."""
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        return create_app({"TESTING": True})
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def pg_app(pg_url, redis_url, tmp_path_factory):
    return app_from_environment(app_settings(pg_url, redis_url, tmp_path_factory.mktemp("pg-instance")))


@pytest.fixture
def pg(pg_app):
    """An app context on empty tables."""
    with pg_app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()
        redis.Redis.from_url(pg_app.config["CELERY_BROKER_URL"]).flushdb()
        yield pg_app
        db.session.remove()


class Worker:
    """A real `celery worker --beat` process, in its own process group so that it can be killed whole."""

    def __init__(self, env: dict[str, str], folder: Path, name: str):
        self.env, self.folder, self.name = env, folder, name
        self.log = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        self.log.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker", "--beat", "--concurrency", "1",
             "--hostname", f"{self.name}-{uuid.uuid4().hex[:6]}@%h",
             "--schedule", str(self.folder / f"{self.name}-beat-{uuid.uuid4().hex[:6]}"), "--loglevel", "INFO"],
            cwd=ROOT, env={**os.environ, **self.env}, stdout=self.log.open("a"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.log.read_text(errors="replace"):
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the worker, its pool and its beat: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(pg, pg_url, tmp_path):
    """Start workers with `workers.start(name, broker=...)`; all are stopped after the test."""
    started: list[Worker] = []

    class Workers:
        def start(self, name: str = "worker", broker: str | None = None, **extra: str) -> Worker:
            env = {**app_settings(pg_url, broker or pg.config["CELERY_BROKER_URL"], tmp_path), **extra}
            worker = Worker(env, tmp_path, name).start()
            started.append(worker)
            return worker

    yield Workers()
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 60, interval: float = 0.25, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port, for tests that stop and restart the broker."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed")
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 10, message="private redis to answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.RedisError:
            return False


def _postgres_binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    if found := shutil.which("initdb"):
        return Path(found).parent
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]), reverse=True)
    return folders[0].parent if folders else None


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temporary folder, on a free port), migrated to the newest
    revision, for tests that stop and restart the database; the system PostgreSQL is never touched.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` OS user and every command
    runs as that user. The folder is made with mkdtemp under /tmp, not under pytest's tmp_path, which that user
    cannot enter; its socket lives in it too (-k), so nothing is written to /var/run/postgresql.
    """

    def __init__(self):
        binaries = _postgres_binaries()
        if binaries is None:
            unavailable("PostgreSQL's initdb is not installed")
        self.binaries, self.port = binaries, free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.folder = Path(tempfile.mkdtemp(prefix="td-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "postgres.log"
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/trial_diary"

    def create(self) -> PrivatePostgres:
        """Start the cluster, create the database and migrate it."""
        self.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE trial_diary")
        migrate_database(self.url.replace("postgresql://", "postgresql+psycopg://"))
        return self

    def start(self) -> None:
        # fsync off: a test cluster; a fast stop still shuts down cleanly, so nothing is lost across a restart.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "120", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (clients see their connections drop), as a restart does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "120", "stop")

    def running(self) -> bool:
        return subprocess.run([*self.as_postgres, str(self.binaries / "pg_ctl"), "-D", str(self.data), "status"],
                              capture_output=True).returncode == 0

    def destroy(self) -> None:
        """Stop the server whatever its state (immediate: nothing to keep) and remove its folder."""
        try:
            if self.running():
                self.stop("immediate")
        finally:
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():  # pg_ctl could not stop it: kill our postmaster by its own pid
                try:
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                except (ValueError, ProcessLookupError):
                    pass
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_postgres, str(self.binaries / program), *args], capture_output=True,
                              text=True, timeout=180)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}"
                               f"\n{log}")


@pytest.fixture
def client_of():
    """The HTTP client of an app (the API is exercised through its WSGI interface)."""
    return lambda app: app.test_client()
