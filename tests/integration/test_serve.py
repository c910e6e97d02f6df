"""`./serve` as an operator runs it: every file in INSTANCE_DIR, the whole pipeline working from there, a quiet log."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from api.extensions import db
from api.models import Alert, Notification

from ..conftest import entry
from ..factories import PASSWORD, ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import ROOT, SECRET, app_from_environment, free_port, wait_for

pytestmark = pytest.mark.integration

# Settings of the test run that would point ./serve somewhere else than its embedded defaults.
NOT_INHERITED = ("DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR", "RATELIMIT_STORAGE_URI",
                 "SMTP_HOST", "METRICS_WORKER_PORT")


class Serve:
    def __init__(self, instance: Path, **extra: str):
        self.instance, self.port, self.log = instance, free_port(), instance.parent / "serve.log"
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        self.env = {**env, "INSTANCE_DIR": str(instance), "PORT": str(self.port), "SECRET_KEY": SECRET,
                    "SWEEP_INTERVAL_SECONDS": "0.5", "WEB_CONCURRENCY": "1", "WORKER_CONCURRENCY": "1", **extra}
        self.process = subprocess.Popen([str(ROOT / "serve")], cwd="/", env=self.env, stdout=self.log.open("w"),
                                        stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v1/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def test_serve_with_instance_dir_elsewhere_runs_the_whole_pipeline_there(tmp_path, monkeypatch):
    for name in NOT_INHERITED:
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "elsewhere"
    serve = Serve(instance)
    try:
        wait_for(lambda: serve.ready() or serve.process.poll() is not None, 120, message="./serve to be ready")
        assert serve.process.poll() is None, serve.output()[-3000:]
        app = app_from_environment({"INSTANCE_DIR": str(instance), "SECRET_KEY": SECRET})
        assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'trial-diary.sqlite'}"
        with app.app_context():
            clinic = ClinicFactory()
            nurse = UserFactory(clinic=clinic, role="nurse")
            trial = TrialFactory(patient=PatientFactory(clinic=clinic, timezone="UTC"), care_team=[nurse])
            db.session.commit()
            trial_id, patient_email = trial.id, trial.patient.user.email
        token = requests.post(f"{serve.url}/api/v1/auth/login", json={"email": patient_email, "password": PASSWORD},
                              timeout=10).json()["access_token"]
        stored = requests.post(f"{serve.url}/api/v1/trials/{trial_id}/entries", json=entry(symptoms=["new_weakness"]),
                               headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert stored.status_code == 201, stored.text

        def sent_email():
            with app.app_context():
                return db.session.execute(select(Notification.id).join(Alert, Alert.id == Notification.alert_id).where(
                    Alert.trial_id == trial_id, Alert.severity == "critical", Notification.channel == "email",
                    Notification.state == "sent")).first()

        wait_for(sent_email, 60, message="the alert's email to be sent")
        assert list((instance / "mail").glob("*.eml"))  # the development mailbox is in the instance folder too
        assert (instance / "celerybeat-schedule.dat").exists() or (instance / "celerybeat-schedule").exists()
        # Nothing shared with a second copy on the machine: gunicorn's control socket is the instance's too.
        assert (instance / "gunicorn.ctl").is_socket()
        assert serve.process.poll() is None
        quiet = serve.output()
        assert "succeeded" not in quiet and "Sending due task" not in quiet  # no line per beat task
    finally:
        serve.stop()

