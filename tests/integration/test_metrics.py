"""Metrics from the real processes: gunicorn's workers add up, a real worker drains the outbox and counts tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import entry, sign_in
from ..factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import ROOT, app_settings, free_port, wait_for

pytestmark = pytest.mark.integration
TOKEN = "integration-metrics-token-0123456789"
AUTHORIZED = {"Authorization": f"Bearer {TOKEN}"}


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape_url(url: str) -> dict[tuple[str, frozenset], float]:
    response = requests.get(url, headers=AUTHORIZED, timeout=10)
    assert response.status_code == 200, response.text
    return parse(response.text)


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Gunicorn:
    """`gunicorn wsgi:app` started the way ./serve starts it (gunicorn.conf.py from the working directory)."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int):
        self.port, self.log = free_port(), folder / "gunicorn.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", "2", "--log-level", "info"],
            cwd=ROOT, env={**os.environ, **env}, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_for(self._answers, 60, message="gunicorn to answer")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
        try:
            # One request that waits for a worker to boot: a probe that timed out would still be served and
            # counted, later, and the test's count would be off by it.
            return requests.get(self.url("/api/v1/healthz"), timeout=60).status_code == 200
        except requests.ConnectionError:  # not listening yet: nothing was sent
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def test_two_gunicorn_workers_counts_add_up_and_survive_a_dead_worker(pg, pg_url, tmp_path):
    metrics_dir = tmp_path / "gunicorn-metrics"
    env = {**app_settings(pg_url, pg.config["CELERY_BROKER_URL"], tmp_path), "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_LEVEL": "WARNING"}
    (metrics_dir).mkdir()
    (metrics_dir / "histogram_1.db").write_bytes(b"stale")  # a previous run's file: gunicorn removes it
    server = Gunicorn(env, tmp_path, workers=2)
    try:
        route = "/api/v1/healthz"
        count = lambda samples: value(samples, "trial_diary_http_request_duration_seconds_count",  # noqa: E731
                                      method="GET", route=route, status="200")
        serving = lambda: sorted(int(p.stem.split("_")[1]) for p in metrics_dir.glob("histogram_*.db"))  # noqa: E731
        sent = 1  # the readiness probe above
        with ThreadPoolExecutor(8) as pool:  # a new connection per request: the workers take turns at accept()
            for _ in range(50):
                if len(serving()) == 2:
                    break
                codes = list(pool.map(lambda _: requests.get(server.url(route), timeout=10).status_code, range(40)))
                assert codes == [200] * 40
                sent += 40
        pids = serving()
        assert len(pids) == 2, "both workers served requests"
        assert count(scrape_url(server.url("/metrics"))) == sent

        os.kill(pids[0], signal.SIGKILL)  # gunicorn replaces it (child_exit marks it dead)
        wait_for(lambda: "Booting worker" in server.log.read_text().split(f"pid: {pids[0]}")[-1], 60,
                 message="gunicorn to replace the killed worker")
        for _ in range(10):
            assert requests.get(server.url(route), timeout=10).status_code == 200
        assert count(scrape_url(server.url("/metrics"))) == sent + 10  # the dead worker's count stays
        assert requests.get(server.url("/metrics"), timeout=10).status_code == 401
    finally:
        server.stop()


def _trial(app) -> tuple[int, str]:
    from api.extensions import db

    with app.app_context():
        clinic = ClinicFactory()
        nurse = UserFactory(clinic=clinic, role="nurse")
        patient = PatientFactory(clinic=clinic, timezone="UTC")
        trial = TrialFactory(patient=patient, care_team=[nurse])
        db.session.commit()
        return trial.id, patient.user.email


def test_a_real_worker_drains_the_outbox_and_its_task_counters_move(pg, workers, client_of, tmp_path, monkeypatch):
    monkeypatch.setitem(pg.config, "METRICS_TOKEN", TOKEN)
    api = client_of(pg)

    def scrape_api():
        response = api.get("/metrics", headers=AUTHORIZED)
        assert response.status_code == 200
        return parse(response.get_data(as_text=True))

    trial_id, patient_email = _trial(pg)
    patient = sign_in(api, patient_email)
    for _ in range(3):
        assert patient.post(f"/trials/{trial_id}/entries", json=entry()).status_code == 201
    samples = scrape_api()
    assert value(samples, "trial_diary_outbox_messages") == 3  # no worker yet
    assert value(samples, "trial_diary_beat_lease_held") == 0

    port = free_port()
    workers.start("metrics", METRICS_WORKER_PORT=str(port), METRICS_TOKEN=TOKEN,
                  PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "worker-metrics"))
    wait_for(lambda: value(scrape_api(), "trial_diary_outbox_messages") == 0, 60, message="the outbox to drain")
    samples = scrape_api()
    assert value(samples, "trial_diary_outbox_oldest_age_seconds") == 0
    assert value(samples, "trial_diary_beat_lease_held") == 1  # the worker's embedded beat holds it
    assert value(samples, "trial_diary_beat_lease_expires_in_seconds") > 0

    worker_metrics = f"http://127.0.0.1:{port}/metrics"
    assert requests.get(worker_metrics, timeout=10).status_code == 401
    assert requests.get(worker_metrics, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    tasks = scrape_url(worker_metrics)
    # Run in the pool's child process, counted in its file, read by the exporter in the main process.
    # The follow-ups of entries stored within the same moment go to the worker in one message (one task).
    follow_ups = value(tasks, "trial_diary_celery_tasks_total", task="diary.entry_stored", outcome="success")
    assert 1 <= follow_ups <= 3
    assert value(tasks, "trial_diary_celery_tasks_total", task="outbox.dispatch_due", outcome="success") >= 1
    assert value(tasks, "trial_diary_celery_task_duration_seconds_count", task="diary.entry_stored") == follow_ups

    # A task that fails: trial ids that are not numbers fail on PostgreSQL, and are not retried.
    pg.extensions["celery"].send_task("evaluations.run", args=[["not-a-trial-id"]])
    wait_for(lambda: value(scrape_url(worker_metrics), "trial_diary_celery_tasks_total", task="evaluations.run",
                           outcome="failure") == 1, 60, message="the failure to be counted")
    assert not any(name.startswith("trial_diary_http_") for name, _ in scrape_url(worker_metrics))
