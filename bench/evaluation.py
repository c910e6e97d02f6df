"""Evaluation speed: one 30-day trial with 4 entries a day, and a sweep of many active trials on one worker.

    .venv/bin/python -m bench.evaluation [--trials 10000] [--days 30] [--per-day 4]

The sweep is what a worker does with due requests: `run_evaluations` on batches of 100 trials (one
query for their entries, one transaction per batch), run here in one process against PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from .harness import scratch_database

RESULTS = Path(__file__).resolve().parent / "results"
BATCH = 100


def populate(url: str, trials: int, days: int, per_day: int) -> list[int]:
    """Trials started `days` ago with `per_day` entries a day, written with COPY."""
    now = datetime.now(UTC)
    start = now - timedelta(days=days, hours=2)
    rng = random.Random(7)
    with psycopg.connect(url) as connection:
        clinic_id = connection.execute("INSERT INTO clinics (name, created_at) VALUES ('Bench', now()) RETURNING id"
                                       ).fetchone()[0]
        nurse_id = connection.execute(
            "INSERT INTO users (clinic_id, email, role, active, created_at) VALUES (%s, 'n@b.test', 'nurse', true, "
            "now()) RETURNING id", (clinic_id,)).fetchone()[0]
        with connection.cursor().copy("COPY users (clinic_id, email, role, active, created_at) FROM STDIN") as copy:
            for n in range(trials):
                copy.write_row((clinic_id, f"p{n}@b.test", "patient", True, now))
        connection.execute(
            "INSERT INTO patients (clinic_id, user_id, display_name, mrn, date_of_birth, timezone, created_at) "
            "SELECT %s, id, 'P' || id, 'M' || id, '1960-01-01', 'America/Chicago', now() FROM users "
            "WHERE role = 'patient'", (clinic_id,))
        baseline = json.dumps({"pain": 7, "mme": 30, "odi": 45, "interference": 6})
        connection.execute(
            "INSERT INTO trials (clinic_id, patient_id, therapy, start_at, end_at, timezone, baseline, "
            "protocol_overrides, created_by, created_at, updated_at) SELECT %s, id, 'scs', %s, %s, 'America/Chicago', "
            "%s, '{}', %s, now(), now() FROM patients ORDER BY id",
            (clinic_id, start, now + timedelta(days=1), baseline, nurse_id))
        trial_ids = [row[0] for row in connection.execute("SELECT id FROM trials ORDER BY id")]
        columns = ("trial_id, client_id, recorded_at, utc_offset_minutes, content, content_hash, original_hash, "
                   "version, created_at, updated_at")
        with connection.cursor().copy(f"COPY diary_entries ({columns}) FROM STDIN") as copy:
            for trial_id in trial_ids:
                for day in range(days):
                    for slot in range(per_day):
                        recorded = start + timedelta(days=day, hours=3 + slot * 5, minutes=rng.randrange(60))
                        content = {"pain": {"score": rng.randrange(1, 8)},
                                   "function": {"interference": rng.randrange(0, 8)}}
                        if slot == 0 and rng.random() < 0.5:
                            content["medications"] = [{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}]
                        if day == days - 2 and slot == 0:
                            content["function"]["odi"] = rng.randrange(20, 45)
                        copy.write_row((trial_id, str(uuid.uuid4()), recorded, -360, json.dumps(content), "x", "x", 1,
                                        now, now))
        connection.execute("ANALYZE")
    return trial_ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=50, help="timed evaluations of the single trial")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    with scratch_database() as url:
        started = time.perf_counter()
        trial_ids = populate(url, args.trials, args.days, args.per_day)
        populate_seconds = time.perf_counter() - started
        os.environ["DATABASE_URL"] = url
        from api import create_app
        from api.domain.evaluation import evaluate
        from api.extensions import db
        from api.models import Evaluation, Trial
        from api.services.evaluations import facts_of, run_evaluations, valid_entries

        app = create_app()
        with app.app_context():
            trial = db.session.get(Trial, trial_ids[0])
            facts, moment = facts_of(trial), datetime.now(UTC)
            entries = valid_entries([trial.id], until=moment)[trial.id]
            pure = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                evaluate(facts, entries, moment)
                pure.append((time.perf_counter() - t) * 1000)
            end_to_end = []
            for _ in range(args.repeat):
                db.session.execute(db.delete(Evaluation))
                db.session.commit()
                t = time.perf_counter()
                run_evaluations(trial_ids=[trial.id])
                end_to_end.append((time.perf_counter() - t) * 1000)
            db.session.execute(db.delete(Evaluation))
            db.session.commit()
            db.session.remove()

            t = time.perf_counter()
            stored = 0
            for first in range(0, len(trial_ids), BATCH):
                stored += len(run_evaluations(trial_ids=trial_ids[first:first + BATCH]))
                db.session.remove()
            sweep_seconds = time.perf_counter() - t

    report = {
        "method": {"trials": args.trials, "days": args.days, "entries_per_day": args.per_day,
                   "entries": args.trials * args.days * args.per_day, "batch": BATCH, "cpus": os.cpu_count(),
                   "populate_seconds": round(populate_seconds, 1)},
        "one_trial": {"entries": len(entries),
                      "pure_rules_ms_median": round(statistics.median(pure), 2),
                      "load_evaluate_store_ms_median": round(statistics.median(end_to_end), 2),
                      "load_evaluate_store_ms_max": round(max(end_to_end), 2)},
        "sweep": {"trials_evaluated": stored, "seconds": round(sweep_seconds, 1),
                  "trials_per_second": round(stored / sweep_seconds, 1)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "evaluation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
