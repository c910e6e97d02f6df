"""What one new diary entry costs, measured in-process and so little moved by other load on the machine: the
statements a POST /trials/{id}/entries sends to PostgreSQL, the CPU time of the thread that serves it, the CPU of
this database's PostgreSQL backends, and with --profile where the thread's CPU goes (cProfile on thread CPU time).
Sequential requests through the WSGI app (Flask's test client) with bench.ingest's data: 200 patients, active trials.

    .venv/bin/python -m bench.entry_cost [--requests 1000] [--rounds 3] [--profile 40]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
from collections import Counter

import psycopg

from .harness import POSTGRES_URL, Bodies, scratch_database
from .ingest import seed


def backends_cpu(database_url: str) -> float:
    """CPU seconds used so far by the backends connected to this database."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        pids = [pid for pid, in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database_url.rsplit("/", 1)[1],))]
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="LINES",
                        help="profile one more round and print its functions by own and by cumulative CPU time")
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench-secret-key-long-enough-for-hs256")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with scratch_database() as url:
        targets = seed(url, trials=200)
        from sqlalchemy import event

        from api import create_app
        from api.extensions import db

        app = create_app()  # as wsgi.py: rate limiter on, DISPATCH_AT_ONCE as the environment says
        client, bodies, sent = app.test_client(), Bodies(targets, 0), 0

        def post() -> None:
            nonlocal sent
            body, headers = bodies(sent)
            answer = client.post(targets[sent % len(targets)][0], data=body, headers=headers)
            sent += 1
            if answer.status_code != 201:
                raise SystemExit(f"an entry was answered {answer.status_code}: {answer.get_data(as_text=True)}")

        for _ in range(300):  # warm: the pool's connections, verified tokens, compiled statements
            post()

        with app.app_context():
            engine = db.engine
        statements: list[str] = []

        def count(_connection, cursor, statement, *_):
            statements.append(f"{statement.split()[0]}{'' if cursor.connection.autocommit else ' (in a transaction)'}")

        event.listen(engine, "before_cursor_execute", count)
        for _ in range(20):
            post()
        event.remove(engine, "before_cursor_execute", count)
        kinds = ", ".join(f"{n / 20:g} x {kind}" for kind, n in Counter(statements).items())
        print(f"statements per entry: {len(statements) / 20:g} ({kinds})")

        for number in range(args.rounds):
            database, thread, process = backends_cpu(url), time.thread_time(), time.process_time()
            for _ in range(args.requests):
                post()
            thread, process = time.thread_time() - thread, time.process_time() - process
            database = backends_cpu(url) - database
            per = 1000 / args.requests
            print(f"round {number + 1}: CPU per entry {thread * per:.3f} ms in the request's thread, "
                  f"{process * per:.3f} ms in the process (the publisher's thread too), "
                  f"{database * per:.3f} ms in PostgreSQL")

        if args.profile:
            profile = cProfile.Profile(time.thread_time)
            profile.enable()
            for _ in range(args.requests):
                post()
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("tottime").print_stats(args.profile)
            stats.sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
