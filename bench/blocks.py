"""Block evaluation speed: one diagnostic block trial with 40 timepoints, rules only and the worker's whole path.

    .venv/bin/python -m bench.blocks [--timepoints 40] [--repeat 200]

The whole path is `run_evaluations` for the one trial, as a worker runs it: lock the trial, load its entries,
evaluate through the therapy registry, store the record (it is final: the block ended an hour ago), commit.
The stored evaluation is deleted between runs so that every run stores one. A second block, given 4 hours ago,
is timed the same way: its evaluation is interim (no final-result notification to write). Last, the evaluation's
own statements alone (read the trial, load its entries, evaluate, insert the record, commit), without the worker's
request bookkeeping and notifications.
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


def populate(url: str, timepoints: int, hours_ago: float = 9) -> int:
    """One medial branch block given `hours_ago` (diary to 8 h), with `timepoints` entries spread over its first
    hour of diary (so that all are recorded by now, whatever `hours_ago`)."""
    now = datetime.now(UTC)
    start = now - timedelta(hours=hours_ago)
    rng = random.Random(13)
    with psycopg.connect(url) as connection:
        tag = uuid.uuid4().hex[:8]
        clinic_id = connection.execute("INSERT INTO clinics (name, created_at) VALUES (%s, now()) RETURNING id",
                                       (f"Bench {tag}",)).fetchone()[0]
        nurse_id = connection.execute(
            "INSERT INTO users (clinic_id, email, role, active, created_at) VALUES (%s, %s, 'nurse', true, "
            "now()) RETURNING id", (clinic_id, f"n{tag}@b.test")).fetchone()[0]
        user_id = connection.execute(
            "INSERT INTO users (clinic_id, email, role, active, created_at) VALUES (%s, %s, 'patient', true, "
            "now()) RETURNING id", (clinic_id, f"p{tag}@b.test")).fetchone()[0]
        patient_id = connection.execute(
            "INSERT INTO patients (clinic_id, user_id, display_name, mrn, date_of_birth, timezone, created_at) "
            "VALUES (%s, %s, 'P', %s, '1960-01-01', 'UTC', now()) RETURNING id",
            (clinic_id, user_id, tag)).fetchone()[0]
        trial_id = connection.execute(
            "INSERT INTO trials (clinic_id, patient_id, therapy, start_at, end_at, timezone, baseline, "
            "protocol_overrides, target, agent, created_by, created_at, updated_at) VALUES (%s, %s, "
            "'medial_branch_block', %s, %s, 'UTC', %s, '{}', %s, 'bupivacaine', %s, now(), now()) RETURNING id",
            (clinic_id, patient_id, start, start + timedelta(hours=8), json.dumps({"pain": 8}),
             json.dumps({"region": "lumbar", "side": "left", "levels": ["L4-L5"]}), nurse_id)).fetchone()[0]
        step = timedelta(hours=min(8, hours_ago) - 0.01) / timepoints
        columns = ("trial_id, client_id, recorded_at, utc_offset_minutes, content, content_hash, original_hash, "
                   "version, created_at, updated_at")
        with connection.cursor().copy(f"COPY diary_entries ({columns}) FROM STDIN") as copy:
            for n in range(timepoints):
                score = 1 if n < timepoints // 2 else rng.randrange(2, 8)
                content = {"pain": {"score": score, "relief_percent": (8 - score) / 8 * 100}}
                copy.write_row((trial_id, str(uuid.uuid4()), start + step * (n + 1), 0, json.dumps(content), "x", "x",
                                1, now, now))
        connection.execute("ANALYZE")
    return trial_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timepoints", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    with scratch_database() as url:
        trial_id = populate(url, args.timepoints)
        running_id = populate(url, args.timepoints, hours_ago=4)  # an interim evaluation: the diary is open
        os.environ["DATABASE_URL"] = url
        from api import create_app
        from api.domain.evaluation import evaluate
        from api.extensions import db
        from api.models import Evaluation, Trial
        from api.services.evaluations import _record_of, facts_of, run_evaluations, valid_entries

        app = create_app()
        with app.app_context():
            trial = db.session.get(Trial, trial_id)
            facts, moment = facts_of(trial), datetime.now(UTC)
            entries = valid_entries([trial.id], until=moment)[trial.id]
            pure = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                result = evaluate(facts, entries, moment)
                pure.append((time.perf_counter() - t) * 1000)
            db.session.remove()
            end_to_end = []
            for _ in range(10):  # warm-up: connection pool, statement caches
                run_evaluations(trial_ids=[trial_id])
                db.session.execute(db.delete(Evaluation))
                db.session.commit()
            for _ in range(args.repeat):
                t = time.perf_counter()
                stored = run_evaluations(trial_ids=[trial_id])
                end_to_end.append((time.perf_counter() - t) * 1000)
                assert len(stored) == 1 and stored[0].final
                db.session.execute(db.delete(Evaluation))
                db.session.commit()
            # The evaluation's own statements, without the worker's bookkeeping (locks, request rows, notifications):
            # read the trial, load its entries, evaluate, insert the record, commit.
            own = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                trial = db.session.get(Trial, trial_id)
                moment = datetime.now(UTC)
                record = _record_of(trial_id, evaluate(facts_of(trial), valid_entries([trial_id], until=moment)
                                                       .get(trial_id, []), moment))
                db.session.add(record)
                db.session.commit()
                own.append((time.perf_counter() - t) * 1000)
                db.session.execute(db.delete(Evaluation))
                db.session.commit()
                db.session.expunge_all()
            interim = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                stored = run_evaluations(trial_ids=[running_id])
                interim.append((time.perf_counter() - t) * 1000)
                assert len(stored) == 1 and not stored[0].final
                db.session.execute(db.delete(Evaluation))
                db.session.commit()
            db.session.remove()

    report = {
        "method": {"timepoints": args.timepoints, "repeat": args.repeat, "cpus": os.cpu_count(),
                   "load_average_1min": os.getloadavg()[0],
                   "outcome": result.outcome, "relief_duration_hours": result.metrics["relief_duration_hours"]},
        "pure_rules_ms_median": round(statistics.median(pure), 3),
        "load_evaluate_store_ms_median": round(statistics.median(end_to_end), 2),
        "load_evaluate_store_ms_p90": round(statistics.quantiles(end_to_end, n=10)[-1], 2),
        "load_evaluate_store_ms_max": round(max(end_to_end), 2),
        "interim_load_evaluate_store_ms_median": round(statistics.median(interim), 2),
        "read_load_evaluate_insert_commit_ms_median": round(statistics.median(own), 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "blocks.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
