"""The console's worklist page (GET /console/) for a clinic with many open trials, each with a month of
entries, alerts and an evaluation: the same data as bench/worklist.py, rendered as the nurse's HTML page.

    .venv/bin/python -m bench.console [--trials 500] [--repeat 30]

In-process, through Flask's test client: routing, the console's cookie session and its sign-in session row,
the worklist service's queries, and Jinja rendering of every row. Target: under 150 ms median for 500 trials.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from .evaluation import populate
from .harness import scratch_database

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with scratch_database() as url:
        trial_ids = populate(url, args.trials, days=30, per_day=4)
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
            bearer = {"Authorization": f"Bearer {login(email='n@b.test', password=PASSWORD).access_token}"}
        client = app.test_client()
        form = client.get("/console/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        signed_in = client.post("/console/sign-in", data={"email": "n@b.test", "password": PASSWORD,
                                                          "csrf_token": token})
        assert signed_in.status_code == 302, signed_in.status_code
        # Paired rounds: the API's JSON worklist in the same rounds, as the machine's yardstick (a loaded
        # machine slows both alike; the API's own figure on a quiet machine is in docs/benchmarks.md).
        timings, fragment, api = [], [], []
        for _ in range(args.repeat + 3):
            started = time.perf_counter()
            assert client.get("/api/v1/monitoring/trials", headers=bearer).status_code == 200
            api.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            response = client.get("/console/")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and response.get_data().count(b"<tr data-trial=") == args.trials
            started = time.perf_counter()
            assert client.get("/console/live/worklist").status_code == 200
            fragment.append((time.perf_counter() - started) * 1000)
        timings, fragment, api = timings[3:], fragment[3:], api[3:]  # warm-up
    report = {"method": {"open_trials": args.trials, "entries_per_trial": 120, "repeat": args.repeat,
                         "path": "in-process WSGI call: routing, cookie session, queries, Jinja rendering"},
              "worklist_page_ms": {"median": round(statistics.median(timings), 1), "max": round(max(timings), 1)},
              "live_fragment_ms": {"median": round(statistics.median(fragment), 1), "max": round(max(fragment), 1)},
              "api_worklist_same_rounds_ms": {"median": round(statistics.median(api), 1), "max": round(max(api), 1)},
              "load_average_1min": round(os.getloadavg()[0], 1), "cpus": os.cpu_count()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
