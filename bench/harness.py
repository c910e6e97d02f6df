"""Shared pieces of the benchmarks: a throwaway PostgreSQL database, servers, and an HTTP load generator."""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database():
    """A new PostgreSQL database migrated to head; dropped afterwards."""
    from api.cli import migrate_database

    admin = psycopg.connect(POSTGRES_URL, autocommit=True)
    name = f"trial_diary_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate_database(url.replace("postgresql://", "postgresql+psycopg://"))
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@dataclass(frozen=True)
class Server:
    address: str
    pid: int


@contextmanager
def gunicorn(target: str, port: int, env: dict[str, str], workers: int, threads: int):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/")
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        yield Server(f"127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(20)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else float("nan")

    def summary(self) -> dict:
        return {"requests": self.requests, "errors": self.errors, "throughput_rps": round(self.throughput, 1),
                "p50_ms": round(self.percentile(50), 2), "p99_ms": round(self.percentile(99), 2),
                "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None}


def _client(args) -> tuple[int, int, list[float]]:
    address, path, bodies_headers, duration, interval, expected = args
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    latencies, errors, count = [], 0, 0
    start = time.perf_counter()
    next_send = start
    while True:
        now = time.perf_counter()
        if now - start >= duration:
            break
        if interval:
            if now < next_send:
                time.sleep(next_send - now)
            scheduled = next_send
            next_send += interval
        else:
            scheduled = time.perf_counter()
        body, headers = bodies_headers(count)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != expected:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
        latencies.append((time.perf_counter() - scheduled) * 1000)  # open loop: includes waiting to be sent
        count += 1
    return count, errors, latencies


def refuse_failures(failed: int, requests: int, address: str) -> None:
    """More than 1 % failed requests make throughput figures meaningless: stop instead of reporting them."""
    if failed > requests / 100:
        raise SystemExit(f"{failed} of {requests} requests to {address} failed: the figures would mean nothing")


class Bodies:
    """Picklable request factory: a fresh entry each time, for one of the given bearer tokens."""

    def __init__(self, paths_tokens: list[tuple[str, str | None]], seed: int):
        self.paths_tokens, self.seed = paths_tokens, seed

    def __call__(self, n: int) -> tuple[str, dict]:
        _, token = self.paths_tokens[(self.seed + n) % len(self.paths_tokens)]
        body = json.dumps({"client_id": str(uuid.uuid4()), "recorded_at": _recent(), "pain": {"score": n % 11},
                           "function": {"interference": 3, "steps": 4200},
                           "medications": [{"name": "oxycodone", "dose": 5, "unit": "mg", "route": "oral"}],
                           "symptoms": ["itching"], "note": "bench"})
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return body, headers


def _recent() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=30)).isoformat()


def load(address: str, targets: list[tuple[str, str | None]], *, clients: int, duration: float,
         rate: float | None = None, expected: int = 201) -> LoadResult:
    """POST fresh entries from `clients` processes for `duration` s; open loop at `rate` req/s if given.

    Each client process targets one (path, token) pair, as one phone writes to one trial.
    """
    interval = clients / rate if rate else None
    jobs = [(address, targets[i % len(targets)][0], Bodies([targets[i % len(targets)]], i), duration, interval,
             expected) for i in range(clients)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        parts = pool.map(_client, jobs)
    elapsed = time.perf_counter() - started
    latencies = [ms for _, _, part in parts for ms in part]
    requests, errors = sum(c for c, _, _ in parts), sum(e for _, e, _ in parts)
    refuse_failures(errors, requests, address)
    return LoadResult(requests, errors, min(elapsed, duration + 1) or 1, latencies)


def batch_upload(address: str, target: tuple[str, str], *, entries: int, repeat: int) -> dict:
    """Time `repeat` sequential uploads of `entries` fresh entries to /entries/batch, one after the other."""
    path, token = target
    host, port = address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    make = Bodies([target], seed=0)
    timings = []
    for attempt in range(repeat + 1):  # the first upload warms the worker up and is not counted
        body = json.dumps({"entries": [json.loads(make(attempt * entries + n)[0]) for n in range(entries)]})
        started = time.perf_counter()
        connection.request("POST", f"{path}/batch", body=body,
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        results = json.loads(response.read())["results"]
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200 or any(result["status"] != "created" for result in results):
            raise SystemExit(f"batch upload to {address} did not store every entry: {response.status}")
        if attempt:
            timings.append(elapsed)
    return {"entries": entries, "uploads": repeat, "median_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1)}


class CpuMeter:
    """CPU seconds used by the server's processes and by PostgreSQL's backends of `database_url`, between start()
    and stop().

    Read from /proc: the split shows where a request's cost lies (the application or the database). Only the
    backends connected to the benchmark's own database count: other work on the same PostgreSQL (other test
    runs on a shared machine) made the figure vary by more than the service's own cost. A backend that connects
    during the measurement counts whole; one that disconnects during it is lost (the pools keep theirs).
    """

    def __init__(self, server_pid: int, database_url: str):
        self.server_pid = server_pid
        self.database = database_url.rsplit("/", 1)[1]

    def _backends(self) -> set[int]:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            return {pid for pid, in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))}

    def _sample(self) -> dict[str, dict[int, float]]:
        ticks = os.sysconf("SC_CLK_TCK")
        groups = {"server": {self.server_pid, *_children(self.server_pid)}, "postgres": self._backends()}
        used: dict[str, dict[int, float]] = {name: {} for name in groups}
        for name, pids in groups.items():
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/stat") as file:
                        stat = file.read()
                except OSError:
                    continue
                fields = stat[stat.rindex(")") + 2:].split()
                used[name][pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return used

    def start(self) -> None:
        self.before = self._sample()

    def stop(self, requests: int) -> dict[str, float]:
        after = self._sample()
        spent = {name: sum(seconds - self.before[name].get(pid, 0.0) for pid, seconds in pids.items())
                 for name, pids in after.items()}
        return {f"{name}_cpu_ms_per_request": round(seconds * 1000 / max(requests, 1), 3)
                for name, seconds in spent.items()}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []
