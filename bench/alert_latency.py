"""A red flag's way to the care team under load: time from a critical entry's 201 to (a) its alert row, (b) the email
accepted by a local SMTP server (aiosmtpd), (c) the webhook received by a local receiver, (d) the patient's push at
the development provider; p50, p95 and p99 of each.

PostgreSQL, a Redis of its own (redis-server on a free port), gunicorn (2 workers x 4 threads, as ./serve), a
Celery worker (concurrency 2) and beat (sweep every 5 s, the default), all on this machine. Ordinary entries
are posted open-loop at --rate per second over --trials phones while one critical entry ("new weakness", each
on a trial of its own) is posted every --seconds / --critical seconds.

--before runs with DISPATCH_AT_ONCE=false: the sweeps alone carry the work, as before issue 24.
--outage stops Redis for --outage-seconds a third of the way in: writes must be unaffected, and every alert,
email, webhook and push must arrive after Redis returns, once each.

    .venv/bin/python -m bench.alert_latency [--rate 200] [--seconds 60] [--critical 40] [--before] [--outage]
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from .harness import ROOT, gunicorn, load, scratch_database

RESULTS = Path(__file__).resolve().parent / "results"
SECRET = "bench-secret-key-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of the benchmark's own, stopped and started again by --outage."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.process = folder, free_port(), None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Arrivals:
    """When each trial's email, webhook and push first arrived (time.time()), and how many of each."""

    def __init__(self):
        self.first: dict[str, dict[int, float]] = {"email": {}, "webhook": {}, "push": {}}
        self.count: dict[str, Counter] = {"email": Counter(), "webhook": Counter(), "push": Counter()}
        self.lock = threading.Lock()

    def record(self, kind: str, key, trial_id: int) -> None:
        with self.lock:
            self.first[kind].setdefault(trial_id, time.time())
            self.count[kind][key] += 1


def smtp_server(arrivals: Arrivals) -> Controller:
    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
            subject = re.search(rb"^Subject: .*trial (\d+)", envelope.content, re.MULTILINE)
            if subject and b"[CRITICAL]" in envelope.content:
                arrivals.record("email", (int(subject.group(1)), tuple(envelope.rcpt_tos)), int(subject.group(1)))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def webhook_receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if payload["data"].get("severity") == "critical":
                arrivals.record("webhook", payload["data"]["trial_id"], payload["data"]["trial_id"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def watch_pushes(path: Path, arrivals: Arrivals, stop: threading.Event) -> None:
    """The development provider appends each push to a file: read what it added every 10 ms."""
    offset = 0
    while not stop.is_set():
        if path.exists():
            with path.open() as file:
                file.seek(offset)
                for line in file:
                    if line.endswith("\n"):
                        data = json.loads(line)["data"]
                        if data.get("type") == "alert":
                            arrivals.record("push", data["trial_id"], data["trial_id"])
                offset = file.tell()
        stop.wait(0.01)


def seed(url: str, *, phones: int, critical: int, hook_url: str) -> tuple[list, list]:
    """A clinic with a nurse and a physician (the care team of every trial), a webhook, and patients each with a
    phone (a device) and an active trial; returns (path, token) of the background phones and of the critical ones."""
    os.environ.update({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    from api import create_app
    from api.extensions import db
    from api.models import CareTeamMember, Clinic, Device, Patient, Trial, User, Webhook
    from api.services.auth import login
    from api.services.passwords import hash_password

    app = create_app({"RATELIMIT_ENABLED": False})
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command
    people = []
    with app.app_context():
        clinic = Clinic(name="Bench clinic")
        staff_hash = hash_password("staff-password")
        team = [User(clinic=clinic, email=f"{role}@bench.test", role=role, password_hash=staff_hash)
                for role in ("nurse", "physician")]
        db.session.add_all([clinic, *team])
        db.session.flush()
        db.session.add(Webhook(clinic_id=clinic.id, url=hook_url, secret="s" * 40))
        password_hash = hash_password("bench-password")
        start = datetime.now(UTC) - timedelta(days=2)
        for n in range(phones + critical):
            user = User(clinic=clinic, email=f"p{n}@bench.test", role="patient", password_hash=password_hash)
            patient = Patient(clinic=clinic, user=user, display_name=f"P{n}", mrn=f"B{n}",
                              date_of_birth=datetime(1960, 1, 1).date(), timezone="UTC",
                              enrolled_at=start)  # the code used: only then does the sign-in reach the trial
            trial = Trial(clinic_id=clinic.id, patient=patient, therapy="scs", start_at=start,
                          end_at=start + timedelta(days=7), timezone="UTC", baseline={"pain": 8},
                          protocol_overrides={}, created_by=team[0].id,
                          care_team_members=[CareTeamMember(user_id=u.id) for u in team])
            db.session.add(trial)
            db.session.flush()
            db.session.add(Device(user_id=user.id, platform="android", token=f"bench-token-{uuid.uuid4().hex}"))
            people.append((trial.id, user.email))
        db.session.commit()
        pairs = [(f"/api/v1/trials/{trial_id}/entries", login(email=email, password="bench-password").access_token)
                 for trial_id, email in people]
    return pairs[:phones], pairs[phones:]


def post_critical(address: str, path: str, token: str) -> tuple[int | None, float, float]:
    """(status, when the answer came as time.time(), the request's seconds)."""
    body = json.dumps({"client_id": str(uuid.uuid4()), "recorded_at": (datetime.now(UTC) - timedelta(seconds=30))
                       .isoformat(), "pain": {"score": 6}, "symptoms": ["new_weakness"]})
    host, port = address.split(":")
    started = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = None
    return status, time.time(), time.perf_counter() - started


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    pick = lambda p: round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))], 3)  # noqa: E731
    return {"n": len(ordered), "p50_s": pick(50), "p95_s": pick(95), "p99_s": pick(99), "max_s": round(ordered[-1], 3)}


def start_celery(kind: str, env: dict, folder: Path) -> subprocess.Popen:
    extra = (["worker", "--concurrency", "2"] if kind == "worker"
             else ["beat", "--schedule", str(folder / "celerybeat-schedule")])
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "wsgi:celery", *extra, "--loglevel", "WARNING"],
                            cwd=ROOT, env={**os.environ, **env}, stdout=(folder / f"{kind}.log").open("w"),
                            stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200, help="ordinary entries per second (background load)")
    parser.add_argument("--seconds", type=float, default=60, help="of background load")
    parser.add_argument("--critical", type=int, default=40, help="critical entries, spread over the run")
    parser.add_argument("--phones", type=int, default=200, help="trials the background load spreads over")
    parser.add_argument("--before", action="store_true", help="DISPATCH_AT_ONCE=false: the sweeps alone")
    parser.add_argument("--outage", action="store_true", help="stop Redis for --outage-seconds during the run")
    parser.add_argument("--outage-seconds", type=float, default=15)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="td-alert-bench-"))
    arrivals, stop = Arrivals(), threading.Event()
    redis, smtp, hooks = Redis(folder), smtp_server(arrivals), webhook_receiver(arrivals)
    redis.start()
    processes = []
    try:
        with scratch_database() as url:
            background, critical = seed(url, phones=args.phones, critical=args.critical,
                                        hook_url=f"http://127.0.0.1:{hooks.server_port}/hook")
            env = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
                   "INSTANCE_DIR": str(folder), "LOG_LEVEL": "WARNING", "SMTP_HOST": "127.0.0.1",
                   "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false", "WEBHOOK_ALLOW_PRIVATE": "true",
                   "DISPATCH_AT_ONCE": "false" if args.before else "true", "RATELIMIT_ENABLED": "false"}
            processes = [start_celery("worker", env, folder), start_celery("beat", env, folder)]
            threading.Thread(target=watch_pushes, args=(folder / "push.jsonl", arrivals, stop), daemon=True).start()
            with gunicorn("wsgi:app", free_port(), env, 2, 4) as server:
                time.sleep(5)  # the worker and beat connect
                outcome: dict = {}
                loader = threading.Thread(target=lambda: outcome.update(background=load(
                    server.address, background, clients=8, duration=args.seconds, rate=args.rate).summary()))
                loader.start()
                posted, gap, started = [], args.seconds / (args.critical + 1), time.monotonic()
                outage = (args.seconds / 3, args.seconds / 3 + args.outage_seconds) if args.outage else None
                redis_down = False
                for n, (path, token) in enumerate(critical):
                    while (elapsed := time.monotonic() - started) < (n + 1) * gap:
                        if outage and not redis_down and outage[0] <= elapsed < outage[1]:
                            redis.stop()
                            redis_down = True
                        elif outage and redis_down and elapsed >= outage[1]:
                            redis.start()
                            redis_down, outage = False, None
                        time.sleep(0.02)
                    status, answered, seconds = post_critical(server.address, path, token)
                    posted.append({"trial_id": int(path.split("/")[4]), "status": status, "answered": answered,
                                   "seconds": seconds, "during_outage": redis_down})
                if redis_down:
                    redis.start()
                loader.join()
                # After an outage, what Redis held when it stopped (it keeps nothing here) comes back by the rows'
                # leases (EVALUATION_LEASE_SECONDS, NOTIFICATION_LEASE_SECONDS: 120 s): wait past them.
                deadline = time.monotonic() + (300 if args.outage else 120)
                while time.monotonic() < deadline and any(len(arrivals.first[k]) < len(posted)
                                                          for k in ("email", "webhook", "push")):
                    time.sleep(0.2)
                stop.set()
            report = summarize(url, args, posted, arrivals, outcome.get("background"))
    finally:
        for process in processes:
            process.terminate()
            process.wait(20)
        smtp.stop()
        hooks.shutdown()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)
    name = "alert_latency" + ("_before" if args.before else "") + ("_outage" if args.outage else "")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


def summarize(url: str, args, posted: list[dict], arrivals: Arrivals, background: dict | None) -> dict:
    import psycopg

    with psycopg.connect(url) as connection:
        opened = dict(connection.execute(
            "SELECT trial_id, opened_at FROM alerts WHERE rule = 'neuro_deficit'").fetchall())
        emails_per_alert = connection.execute(
            "SELECT count(*) FROM notifications n JOIN alerts a ON a.id = n.alert_id WHERE a.rule = 'neuro_deficit' "
            "AND n.channel = 'email'").fetchone()[0]
    stored = [p for p in posted if p["status"] == 201]
    latency = {"alert_row": [opened[p["trial_id"]].timestamp() - p["answered"] for p in stored
                             if p["trial_id"] in opened]}
    for kind in ("email", "webhook", "push"):
        latency[kind] = [arrivals.first[kind][p["trial_id"]] - p["answered"] for p in stored
                         if p["trial_id"] in arrivals.first[kind]]
    return {
        "method": {"background_rate_per_s": args.rate, "seconds": args.seconds, "critical_entries": args.critical,
                   "phones": args.phones, "dispatch_at_once": not args.before, "redis_outage": args.outage,
                   "outage_seconds": args.outage_seconds if args.outage else None, "cpus": os.cpu_count(),
                   "load_average_at_end": os.getloadavg()},
        "background_entries": background,
        "critical_entries": {"posted": len(posted), "stored_201": len(stored),
                             "request_seconds": percentiles([p["seconds"] for p in posted]),
                             "during_outage": sum(p["during_outage"] for p in posted)},
        "from_201_to": {kind: percentiles(values) if values else None for kind, values in latency.items()},
        "arrived": {kind: len(arrivals.first[kind]) for kind in ("email", "webhook", "push")},
        "once_each": {"emails_expected": emails_per_alert,
                      "emails_received": sum(arrivals.count["email"].values()),
                      "largest_copies_of_one_message": max([max(c.values(), default=0)
                                                            for c in arrivals.count.values()])},
    }


if __name__ == "__main__":
    main()
