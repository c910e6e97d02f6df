"""Celery bound to the Flask app: every task runs in an app context with a session of its own."""

from __future__ import annotations

from celery import Celery, Task
from celery.signals import before_task_publish, task_prerun, worker_process_init
from flask import Flask

from ..logs import request_id_var
from .database import db


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
    celery.conf.broker_url = app.config["CELERY_BROKER_URL"]
    celery.conf.broker_transport_options = celeryconfig.broker_transport_options(celery.conf.broker_url)
    celery.conf.beat_schedule = celeryconfig.beat_schedule(app.config["SWEEP_INTERVAL_SECONDS"])
    celery.flask_app = app
    celery.set_default()
    app.extensions["celery"] = celery
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
