"""Single-entry ingest: throughput and latency of POST /trials/{id}/entries on gunicorn + PostgreSQL,
side by side with the floor (bare Flask, one INSERT, same driver, same gunicorn settings, same load),
with the CPU that the server and PostgreSQL spent per request; then the time of a 500-entry batch upload.

    .venv/bin/python -m bench.ingest [--clients 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from . import wrk
from .harness import CpuMeter, batch_upload, gunicorn, load, scratch_database

RESULTS = Path(__file__).resolve().parent / "results"


def seed(url: str, trials: int) -> list[tuple[str, str]]:
    """Clinic, nurse, `trials` enrolled patients with an active trial each; returns (path, token) pairs."""
    os.environ["DATABASE_URL"] = url
    from api import create_app
    from api.extensions import db
    from api.models import CareTeamMember, Clinic, Patient, Trial, User
    from api.services.auth import login
    from api.services.passwords import hash_password

    app = create_app({"RATELIMIT_ENABLED": False})
    targets = []
    with app.app_context():
        clinic = Clinic(name="Bench clinic")
        nurse = User(clinic=clinic, email="nurse@bench.test", role="nurse", password_hash=hash_password("x" * 12))
        db.session.add_all([clinic, nurse])
        db.session.flush()
        password_hash = hash_password("bench-password")
        start = datetime.now(UTC) - timedelta(days=2)
        for n in range(trials):
            user = User(clinic=clinic, email=f"p{n}@bench.test", role="patient", password_hash=password_hash)
            patient = Patient(clinic=clinic, user=user, display_name=f"P{n}", mrn=f"B{n}",
                              date_of_birth=datetime(1960, 1, 1).date(), timezone="UTC",
                              enrolled_at=start)  # the code used: only then does the sign-in reach the trial
            trial = Trial(clinic_id=clinic.id, patient=patient, therapy="scs", start_at=start,
                          end_at=start + timedelta(days=7), timezone="UTC", baseline={"pain": 8},
                          protocol_overrides={}, created_by=nurse.id,
                          care_team_members=[CareTeamMember(user_id=nurse.id)])
            db.session.add(trial)
            db.session.flush()
            targets.append((trial.id, user.email))
        db.session.commit()
        pairs = [(f"/api/v1/trials/{trial_id}/entries", login(email=email, password="bench-password").access_token)
                 for trial_id, email in targets]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, client_id text NOT NULL, body jsonb)")
    return pairs


def median_round(results: list[dict]) -> dict:
    """The round with the median throughput, whole (its latencies and CPU figures belong to it)."""
    return sorted(results, key=lambda result: result["throughput_rps"])[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="of each measurement")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of peak measurements, floor then service")
    parser.add_argument("--trials", type=int, default=200, help="active trials (phones) the load spreads over")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=5, help="timed uploads of a 500-entry batch")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    with scratch_database() as url:
        targets = seed(url, trials=args.trials)
        # The service runs as in production (rate limiter on); only the seeding above bypassed HTTP.
        env = {"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "SECRET_KEY": os.environ["SECRET_KEY"]}
        generator = "wrk" if wrk.available() else "python"
        report = {"method": {"clients": args.clients, "seconds": args.seconds, "rounds": args.rounds,
                             "trials": args.trials, "gunicorn_workers": args.workers,
                             "gunicorn_threads": args.threads, "cpus": os.cpu_count(),
                             "peak_load_generator": generator, "half_peak_load_generator": "python open loop"}}

        def peak(server, paths):
            meter = CpuMeter(server.pid, url)
            meter.start()
            if generator == "wrk":
                result = wrk.peak(server.address, paths, connections=args.clients, seconds=args.seconds)
            else:
                result = load(server.address, paths, clients=args.clients, duration=args.seconds).summary()
            return {**result, **meter.stop(result["requests"])}

        floor_paths = [("/floor", None)]
        with (gunicorn("bench.floor:app", 8801, env, args.workers, args.threads) as floor,
              gunicorn("wsgi:app", 8802, env, args.workers, args.threads) as service):
            for server, paths in ((floor, floor_paths), (service, targets)):  # warm-up, not counted
                peak(server, paths)
            # Alternate rounds, so that a machine that speeds up or slows down during the run weighs on both.
            rounds = [{"floor": peak(floor, floor_paths), "trial_diary": peak(service, targets)}
                      for _ in range(args.rounds)]
            report["rounds"] = rounds
            for name in ("floor", "trial_diary"):
                report[name] = median_round([r[name] for r in rounds])
            half_rate = report["trial_diary"]["throughput_rps"] / 2
            report["trial_diary_at_half_peak"] = load(service.address, targets, clients=args.clients,
                                                      duration=args.seconds, rate=half_rate).summary()
            report["batch_upload"] = batch_upload(service.address, targets[0], entries=500, repeat=args.batches)
        # The machine's speed drifts (the floor alone has varied by half from one round to the next): each
        # pair of adjacent rounds compares the two servers on the same machine, and the median pair is reported.
        report["ratio_per_round"] = [round(r["trial_diary"]["throughput_rps"] / r["floor"]["throughput_rps"], 3)
                                     for r in rounds]
        report["ratio_to_floor"] = sorted(report["ratio_per_round"])[len(rounds) // 2]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
