"""Celery task counts, failures and durations, served by the worker itself on METRICS_WORKER_PORT.

The worker's own exporter rather than a Pushgateway: a worker is a long-running process, which is what
Prometheus scrapes; a Pushgateway would keep a dead worker's last figures as if it were alive, hide it from
`up`, and be one more service to run. The counters are updated in the pool's child processes, which is why
the worker runs in prometheus-client's multiprocess mode: the launcher gives it a PROMETHEUS_MULTIPROC_DIR of
its own (not the API's: each exporter would otherwise show the other's series), which the worker empties
when it starts, and the exporter, a thread of the main process, adds up every child's file.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from time import perf_counter
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery.signals import task_failure, task_postrun, task_prerun, task_retry, task_revoked, task_success, worker_init
from prometheus_client import Counter, Histogram, make_wsgi_app

from .exposition import bearer_matches
from .registry import OWN, multiprocess_dir, scrape_registry

log = logging.getLogger(__name__)

TASKS = Counter("trial_diary_celery_tasks", "Celery tasks finished, by task name and outcome "
                "(success, failure, retry, expired, revoked).", ["task", "outcome"], registry=OWN)
TASK_SECONDS = Histogram("trial_diary_celery_task_duration_seconds", "Time a Celery task ran, by task name.",
                         ["task"], registry=OWN)
_started: dict[str, float] = {}  # task id -> start, in the process that runs it


def _name(sender) -> str:
    return getattr(sender, "name", None) or "unknown"


@task_success.connect
def _count_success(sender=None, **_):
    TASKS.labels(_name(sender), "success").inc()


@task_failure.connect
def _count_failure(sender=None, **_):
    TASKS.labels(_name(sender), "failure").inc()


@task_retry.connect
def _count_retry(sender=None, **_):
    TASKS.labels(_name(sender), "retry").inc()


@task_revoked.connect
def _count_revoked(sender=None, expired=False, **_):
    # Beat's sweeps carry an expiry: an expired one means the workers fell behind the schedule.
    TASKS.labels(_name(sender), "expired" if expired else "revoked").inc()


@task_prerun.connect
def _start_clock(task_id=None, **_):
    if task_id:
        _started[task_id] = perf_counter()


@task_postrun.connect
def _stop_clock(task_id=None, sender=None, **_):
    started = _started.pop(task_id, None) if task_id else None
    if started is not None:
        TASK_SECONDS.labels(_name(sender)).observe(perf_counter() - started)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # the worker's log is for the pipeline, not for every scrape
        pass


def guarded(app, token: str):
    """The exposition app behind the same bearer token as the API's /metrics."""

    def guarded_app(environ, start_response):
        if not bearer_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="metrics"')])
            return [b"A valid metrics token is required.\n"]
        return app(environ, start_response)

    return guarded_app


def start_exporter(*, host: str, port: int, token: str) -> WSGIServer | None:
    """Serve this worker's task metrics (every pool process's) on host:port, in a thread. Returns the server,
    or None, with the reason logged, when the configuration does not allow it."""
    path = multiprocess_dir()
    if not token:
        log.error("METRICS_WORKER_PORT is set but METRICS_TOKEN is not: the worker exports no metrics")
        return None
    if path is None:
        log.error("METRICS_WORKER_PORT is set but PROMETHEUS_MULTIPROC_DIR is not: the pool's processes could not "
                  "share their counts, so the worker exports no metrics")
        return None
    Path(path).mkdir(parents=True, exist_ok=True)
    for stale in Path(path).glob("*.db"):  # a previous run's counts; this worker's children have not forked yet
        stale.unlink()
    server = make_server(host, port, guarded(make_wsgi_app(scrape_registry()), token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    log.info("worker metrics on http://%s:%s/metrics", host, server.server_port)
    return server


@worker_init.connect
def _start_exporter_with_the_worker(sender=None, **_):
    """In the worker's main process, before the pool forks."""
    app = getattr(getattr(sender, "app", None), "flask_app", None)
    if app is None or not app.config["METRICS_WORKER_PORT"]:
        return
    try:
        start_exporter(host=app.config["METRICS_WORKER_HOST"], port=app.config["METRICS_WORKER_PORT"],
                       token=app.config["METRICS_TOKEN"])
    except OSError as exc:  # a port in use must not stop the worker from doing the pipeline's work
        log.error("worker metrics exporter could not listen on port %s (%s)", app.config["METRICS_WORKER_PORT"],
                  type(exc).__name__)
