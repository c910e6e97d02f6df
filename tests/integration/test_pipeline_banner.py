"""A beat that dies is not silent: the console's banner shows within the lateness threshold, and goes with beat back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from api.extensions import db

from ..console.helpers import console_user
from ..factories import ClinicFactory, UserFactory
from .conftest import FAST, ROOT, app_settings, wait_for

pytestmark = pytest.mark.integration

LATE_AFTER_SECONDS = 10  # the banner's threshold in this test; production's is two minutes
BANNER = "New alerts may be delayed."


class Beat:
    """A real `celery beat` process (as ./serve runs it), killable with SIGKILL."""

    def __init__(self, env: dict[str, str], folder):
        self.env, self.folder, self.process = env, folder, None

    def start(self) -> Beat:
        log = (self.folder / "beat.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery", "beat", "--schedule",
             str(self.folder / "celerybeat-schedule"), "--loglevel", "WARNING"],
            cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def test_the_banner_shows_within_the_threshold_when_beat_is_killed_and_goes_when_it_is_back(pg, pg_url, tmp_path):
    with pg.app_context():
        nurse = UserFactory(clinic=ClinicFactory(), role="nurse")
        db.session.commit()
        email = nurse.email
    saved, pg.config["PIPELINE_LATE_SECONDS"] = pg.config["PIPELINE_LATE_SECONDS"], LATE_AFTER_SECONDS
    console = console_user(pg, email)

    def banner() -> bool:
        return BANNER in console.get("/console/live/pipeline").get_data(as_text=True)

    env = app_settings(pg_url, pg.config["CELERY_BROKER_URL"], tmp_path)
    beat = Beat(env, tmp_path).start()
    try:
        wait_for(lambda: not banner(), 60, message="beat to take its lease")
        beat.kill()
        # The lease (BEAT_LEASE_SECONDS) runs out, and the page says so: well within the threshold.
        assert float(FAST["BEAT_LEASE_SECONDS"]) < LATE_AFTER_SECONDS
        wait_for(banner, LATE_AFTER_SECONDS, interval=0.2, message="the banner after beat was killed")
        assert "is not running" in console.get("/console/").get_data(as_text=True)

        beat = Beat(env, tmp_path).start()
        wait_for(lambda: not banner(), 60, interval=0.2, message="the banner to go with beat back")
        assert BANNER not in console.get("/console/alerts").get_data(as_text=True)
    finally:
        beat.kill()
        pg.config["PIPELINE_LATE_SECONDS"] = saved
