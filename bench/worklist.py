"""GET /monitoring/trials for a clinic with many open trials, each with a month of entries, alerts and an
evaluation.

    .venv/bin/python -m bench.worklist [--trials 500] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from .evaluation import populate
from .harness import scratch_database

RESULTS = Path(__file__).resolve().parent / "results"


PASSWORD = "bench-password"


@contextmanager
def clinic_with_open_trials(trials: int):
    """A scratch PostgreSQL database with a clinic of `trials` open 30-day trials (4 entries a day, every fifth
    with an open alert, all evaluated) on one nurse's care team; yields (app, nurse's bearer header). Shared by
    the worklist benchmarks of the API and of the console."""
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with scratch_database() as url:
        trial_ids = populate(url, trials, days=30, per_day=4)
        with psycopg.connect(url) as connection:
            nurse_id, clinic_id = connection.execute("SELECT id, clinic_id FROM users WHERE role = 'nurse'").fetchone()
            today = datetime.now(UTC).date()
            for n, trial_id in enumerate(trial_ids):
                connection.execute("INSERT INTO care_team_members (trial_id, user_id) VALUES (%s, %s)",
                                   (trial_id, nurse_id))
                if n % 5 == 0:
                    connection.execute(
                        "INSERT INTO alerts (clinic_id, trial_id, rule, severity, local_day, status, count, "
                        "opened_at, updated_at) VALUES (%s, %s, %s, %s, %s, 'open', 1, now(), now())",
                        (clinic_id, trial_id, ("pain_spike", "missed_diary", "infection")[n % 3],
                         ("medium", "low", "high")[n % 3], today - timedelta(days=n % 7)))
        os.environ["DATABASE_URL"] = url
        from api import create_app
        from api.extensions import db
        from api.models import User
        from api.services.auth import login
        from api.services.evaluations import run_evaluations
        from api.services.passwords import hash_password

        app = create_app()
        with app.app_context():
            for first in range(0, len(trial_ids), 100):
                run_evaluations(trial_ids=trial_ids[first:first + 100])
            db.session.get(User, nurse_id).password_hash = hash_password(PASSWORD)
            db.session.commit()
            token = login(email="n@b.test", password=PASSWORD).access_token
        yield app, {"Authorization": f"Bearer {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with clinic_with_open_trials(args.trials) as (app, headers):
        client = app.test_client()
        timings = []
        for _ in range(args.repeat + 3):
            started = time.perf_counter()
            response = client.get("/api/v1/monitoring/trials", headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.get_json()) == args.trials
        timings = timings[3:]  # warm-up
    report = {"method": {"open_trials": args.trials, "entries_per_trial": 120, "repeat": args.repeat,
                         "path": "in-process WSGI call: routing, auth, queries, serialisation"},
              "worklist_ms": {"median": round(statistics.median(timings), 1), "max": round(max(timings), 1)}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worklist.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
