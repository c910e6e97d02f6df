"""Celery bound to the Flask app: every task runs in an app context with a session of its own; tasks asked for
in a transaction are published from a thread of their own once it commits (`Publisher`)."""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from functools import partial

from celery import Celery, Task
from celery.signals import before_task_publish, task_prerun, worker_process_init
from celery.worker.consumer import Consumer
from flask import Flask
from kombu import Queue

from ..logs import request_id_var
from .broker import broker_url
from .database import db

log = logging.getLogger(__name__)
URGENT = "-urgent"  # the name of the queue of work that may tell the care team of a critical or high alert
URGENT_SWEEPS = ("dispatch-due-evaluations", "escalate-alerts")


def init_celery(app: Flask) -> Celery:
    import celeryconfig

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()  # one session per task

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object(celeryconfig)
    celery.conf.broker_url = broker_url(app.config["CELERY_BROKER_URL"])
    celery.conf.broker_transport_options = celeryconfig.broker_transport_options(celery.conf.broker_url)
    default_queue = queue_name(app.config["SQLALCHEMY_DATABASE_URI"])
    # Every worker consumes both, the urgent one first (celeryconfig.broker_transport_options: "priority").
    celery.conf.task_default_queue = default_queue
    celery.conf.task_queues = (Queue(default_queue + URGENT), Queue(default_queue))
    celery.conf.beat_schedule = celeryconfig.beat_schedule(app.config["SWEEP_INTERVAL_SECONDS"])
    celery.conf.worker_consumer = f"{__name__}:PromptConsumer"
    # The safety net never waits behind ordinary work: the sweep that dispatches due rows and the escalation of
    # unacknowledged alerts go through the urgent queue (behind a backlog they expired unrun: issue 24).
    for name in URGENT_SWEEPS:
        celery.conf.beat_schedule[name]["options"]["queue"] = default_queue + URGENT
    celery.flask_app = app
    celery.set_default()
    app.extensions["celery"] = celery
    app.extensions["publisher"] = Publisher(celery, breaker_seconds=app.config["DISPATCH_BREAKER_SECONDS"],
                                            urgent_queue=default_queue + URGENT)
    _register_tasks(celery)
    return celery


def _register_tasks(celery: Celery) -> None:
    import tasks.diary  # noqa: F401  (the modules declare their tasks with shared_task)
    import tasks.evaluations  # noqa: F401
    import tasks.outbox  # noqa: F401
    import tasks.safety  # noqa: F401


@before_task_publish.connect
def _carry_request_id(headers=None, **_):
    if headers is not None and not headers.get("request_id") and (request_id := request_id_var.get()):
        headers["request_id"] = request_id


@task_prerun.connect
def _adopt_request_id(task=None, **_):
    request_id_var.set(getattr(task.request, "request_id", None) if task else None)


@worker_process_init.connect
def _fresh_connections_after_fork(**_):
    from celery import current_app

    flask_app = getattr(current_app, "flask_app", None)
    if flask_app is not None:
        with flask_app.app_context():
            db.engine.dispose(close=False)


class PromptConsumer(Consumer):
    """The worker's consumer, trying a broker that went away again every RECONNECT_SECONDS instead of after kombu's
    growing back-off (2, 4, 6 ... 30 s between tries): after a Redis restart the worker came back up to 8 s (after a
    long outage, 30 s) after Redis did, and every red flag waited that long. A try at a broker that is down costs a
    refused connection. The worker waits for its broker as long as it is gone (celeryconfig:
    broker_connection_max_retries); meanwhile the pipeline's banner and metrics say the work is late."""

    RECONNECT_SECONDS = 1.0

    def ensure_connected(self, conn):
        conn.ensure_connection = partial(type(conn).ensure_connection, conn, interval_start=self.RECONNECT_SECONDS,
                                         interval_step=0, interval_max=self.RECONNECT_SECONDS)
        return super().ensure_connected(conn)


def queue_name(database_url: str) -> str:
    """The queue of the service whose database is `database_url`: two services sharing a broker (two copies on one
    machine and one Redis) never take each other's tasks, which would run against the wrong database."""
    return f"trial-diary-{hashlib.sha256(database_url.encode()).hexdigest()[:12]}"


class Publisher:
    """Sends tasks from a thread of its own, so that no request waits on the broker: a diary write commits, hands
    its tasks over and answers. Best effort: the row that asked for the work stays due, and beat's sweep sends it
    if this never does. After a failed publish (the broker down or not answering), a breaker drops publishes for
    `breaker_seconds` instead of trying each one; a full queue drops them too.

    Urgent work goes alone to the urgent queue, which workers empty first: a red flag's safety check and its
    alert's messages never wait behind the follow-ups of ordinary entries. The rest: a publish costs about half
    a millisecond of CPU, as much as storing an entry, so one message per entry would halve the ingest. The
    thread gathers what arrives within WINDOW_SECONDS, and the ids for a task in TOGETHER (it takes a list) go
    as one message of up to BATCH ids. The window is 100 ms: an ordinary entry's follow-up feeds an evaluation
    debounced by seconds, so the wait is invisible, while a 10 ms window gathered only two or three entries of a
    busy worker and its publishes cost a fifth of the ingest (docs/benchmarks.md). Urgent work never waits."""

    CAPACITY = 10_000
    WINDOW_SECONDS = 0.1
    BATCH = 100
    TOGETHER = frozenset({"diary.entry_stored"})

    def __init__(self, celery: Celery, *, breaker_seconds: float, urgent_queue: str):
        self.celery, self.breaker_seconds, self.urgent_queue = celery, breaker_seconds, urgent_queue
        self.open_until = 0.0
        self._pid: int | None = None
        self._queue: queue.Queue | None = None
        self._lock = threading.Lock()

    def submit(self, tasks: list[tuple[str, int, bool, str | None]]) -> None:
        """`tasks`: (task name, the id it works on, whether it is urgent, request id)."""
        work = self._started()
        for task in tasks:
            try:
                work.put_nowait(task)
            except queue.Full:
                return

    def _started(self) -> queue.Queue:
        """The queue of this process's thread (a forked child, e.g. a Celery pool process, starts its own)."""
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = queue.Queue(self.CAPACITY)
                    threading.Thread(target=self._run, args=(self._queue,), name="publisher", daemon=True).start()
                    self._pid = os.getpid()
        return self._queue

    def _run(self, work: queue.Queue) -> None:
        while True:
            gathered = [work.get()]
            if not gathered[0][2]:  # urgent work goes at once; the rest waits a moment for company
                time.sleep(self.WINDOW_SECONDS)
            while True:
                try:
                    gathered.append(work.get_nowait())
                except queue.Empty:
                    break
            if time.monotonic() >= self.open_until:
                self._send(gathered)

    def _send(self, gathered: list[tuple[str, int, bool, str | None]]) -> None:
        messages: list[tuple[str, object, str | None, str | None]] = []  # name, argument, request id, queue
        together: dict[str, list[tuple[int, str | None]]] = {}
        for name, item_id, urgent, request_id in gathered:
            if urgent or name not in self.TOGETHER:
                messages.append((name, item_id, request_id, self.urgent_queue if urgent else None))
            else:
                together.setdefault(name, []).append((item_id, request_id))
        for name, items in together.items():
            for start in range(0, len(items), self.BATCH):
                batch = items[start:start + self.BATCH]
                request_ids = {request_id for _, request_id in batch}
                messages.append((name, [item_id for item_id, _ in batch],
                                 request_ids.pop() if len(request_ids) == 1 else None, None))
        messages.sort(key=lambda message: message[3] is None)  # urgent first
        try:
            for name, argument, request_id, to_queue in messages:
                self.celery.send_task(name, (argument,), headers={"request_id": request_id}, queue=to_queue,
                                      retry=False)
        except Exception as exc:
            self.open_until = time.monotonic() + self.breaker_seconds
            log.warning("the broker did not take a task (%s): beat's sweeps send the work for the next %s s",
                        type(exc).__name__, self.breaker_seconds)
