"""Issue 10, finding 3: the rate limiter's Redis down must not stop anyone from signing in.

A real API process (gunicorn, one worker, as in production) whose RATELIMIT_STORAGE_URI is a redis-server of
this test's own, stopped and started again while the test signs in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import redis
import requests

from api.extensions import db
from tests.factories import PASSWORD, ClinicFactory, UserFactory

from .conftest import ROOT, PrivateRedis, app_settings, free_port, wait_for

pytestmark = pytest.mark.integration


class ApiProcess:
    def __init__(self, env: dict[str, str], log_path):
        self.port, self.log_path = free_port(), log_path
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
        try:
            wait_for(self._answers, 60, message="the API process")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the API exited:\n{self.log()[-3000:]}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening yet, or the worker still booting
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def login(self, email: str, password: str) -> int:
        return requests.post(f"{self.url}/auth/login", json={"email": email, "password": password},
                             timeout=30).status_code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


def test_sign_in_works_while_the_limiters_redis_is_down_and_limits_come_back_after(pg, pg_url, tmp_path):
    with pg.app_context():
        clinic = ClinicFactory()
        nurse, physician = UserFactory(clinic=clinic, role="nurse"), UserFactory(clinic=clinic, role="physician")
        db.session.commit()
        nurse, physician = nurse.email, physician.email
    limiter_redis = PrivateRedis(tmp_path)
    limiter_redis.start()
    env = {**app_settings(pg_url, pg.config["CELERY_BROKER_URL"], tmp_path),
           "RATELIMIT_STORAGE_URI": limiter_redis.url, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "3 per 15 minutes",
           "LOGIN_LIMIT_PER_ADDRESS": "1000 per 15 minutes", "WEB_CONCURRENCY": "1"}
    api = ApiProcess(env, tmp_path / "api.log")
    storage = redis.Redis(port=limiter_redis.port)
    try:
        assert api.login(nurse, PASSWORD) == 200
        assert api.login(nurse, "wrong-guess-0") == 401
        assert storage.dbsize() > 0  # failures are counted in Redis while it is up

        limiter_redis.stop()
        assert api.login(nurse, PASSWORD) == 200  # was a 500: nobody could sign in
        # Wrong passwords stay limited, in the process's memory.
        assert [api.login(physician, f"wrong-guess-{n}") for n in range(4)] == [401, 401, 401, 429]
        assert api.login(physician, PASSWORD) == 429
        assert api.login(nurse, PASSWORD) == 200
        log = api.log()
        assert log.count("falling back to in-memory storage") == 1  # one warning for the outage
        assert nurse not in log and physician not in log and "wrong-guess" not in log and " 500" not in log

        limiter_redis.start()  # back, empty
        time.sleep(1)

        def counted_in_redis() -> bool:
            assert api.login("nobody@clinic.test", "wrong-guess-x") in (401, 429)
            return storage.dbsize() > 0

        wait_for(counted_in_redis, 60, interval=0.5, message="the limiter to use Redis again")
        assert api.login(nurse, PASSWORD) == 200
        assert "Rate limit storage recovered" in api.log()
    finally:
        api.stop()
        limiter_redis.stop()
