"""The embedded default as a new user runs it (`./serve`: SQLite and its SQLAlchemy broker), with a second copy of the
service running on the same machine: time from a critical entry's 201 to its alert row and to its email (written
to the instance folder's mail/ when no SMTP host is set), and whether the pipeline stalled.

    .venv/bin/python -m bench.embedded_alerts [--critical 10] [--copies 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from .alert_latency import percentiles
from .harness import ROOT

SECRET = "bench-secret-key-long-enough-for-hs256"
NOT_INHERITED = ("DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR", "SMTP_HOST", "METRICS_WORKER_PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(instance: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(INSTANCE_DIR=str(instance), PORT=str(port), SECRET_KEY=SECRET)
    process = subprocess.Popen([str(ROOT / "serve")], env=env, stdout=(instance.parent / f"{instance.name}.log")
                               .open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/readyz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit(f"./serve in {instance} did not start")


def seed(instance: Path, count: int) -> list[tuple[int, str]]:
    os.environ.update(INSTANCE_DIR=str(instance), SECRET_KEY=SECRET)
    for name in NOT_INHERITED:
        os.environ.pop(name, None)
    from api import create_app
    from api.extensions import db
    from tests.factories import ClinicFactory, PatientFactory, TrialFactory, UserFactory

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        clinic = ClinicFactory()
        nurse = UserFactory(clinic=clinic, role="nurse")
        trials = [TrialFactory(patient=PatientFactory(clinic=clinic, timezone="UTC"), care_team=[nurse])
                  for _ in range(count)]
        db.session.commit()
        return [(trial.id, trial.patient.user.email) for trial in trials]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--critical", type=int, default=10)
    parser.add_argument("--copies", type=int, default=2, help="copies of the service on this machine")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="td-embedded-"))
    copies = [serve(folder / f"copy{n}") for n in range(args.copies)]
    try:
        instance, url = folder / "copy0", copies[0][1]
        people = seed(instance, args.critical)
        import sqlite3

        from tests.factories import PASSWORD

        answered: dict[int, float] = {}
        for trial_id, email in people:
            token = requests.post(f"{url}/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                                  timeout=30).json()["access_token"]
            body = {"client_id": str(uuid.uuid4()), "recorded_at": (datetime.now(UTC) - timedelta(minutes=1))
                    .isoformat(), "pain": {"score": 6}, "symptoms": ["new_weakness"]}
            response = requests.post(f"{url}/api/v1/trials/{trial_id}/entries", json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            answered[trial_id] = time.time()
            time.sleep(2)
        mails: dict[int, float] = {}
        deadline = time.monotonic() + 300
        while len(mails) < len(answered) and time.monotonic() < deadline:
            for path in (instance / "mail").glob("*.eml"):
                found = re.search(r"^Subject: .*trial (\d+)", path.read_text(errors="replace"), re.MULTILINE)
                if found and int(found.group(1)) in answered:
                    mails.setdefault(int(found.group(1)), path.stat().st_mtime)
            time.sleep(0.05)
        with sqlite3.connect(instance / "trial-diary.sqlite") as connection:
            opened = {trial_id: datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp() for trial_id, at in
                      connection.execute("SELECT trial_id, opened_at FROM alerts WHERE rule = 'neuro_deficit'")}
        report = {"copies": args.copies, "critical_entries": len(answered), "load_average": os.getloadavg(),
                  "from_201_to": {
                      "alert_row": percentiles([opened[t] - at for t, at in answered.items() if t in opened]),
                      "email": percentiles([mails[t] - at for t, at in answered.items() if t in mails])},
                  "emails_arrived": len(mails)}
        print(json.dumps(report, indent=2))
    finally:
        for process, _ in copies:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(60)


if __name__ == "__main__":
    main()
