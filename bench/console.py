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
from pathlib import Path

from .worklist import PASSWORD, clinic_with_open_trials

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with clinic_with_open_trials(args.trials) as (app, bearer):
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
