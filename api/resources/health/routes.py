"""Liveness and readiness."""

from concurrent.futures import ThreadPoolExecutor, wait

from flask import Flask, current_app
from flask.views import MethodView
from marshmallow import fields
from sqlalchemy import text

from ...extensions import Blueprint, db
from ...extensions.openapi import Out, one_of

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness and readiness probes.")


class HealthOut(Out):
    status = one_of(["ok"])


class ReadyChecksOut(Out):
    """Whether each dependency answered."""

    database = fields.Boolean()
    broker = fields.Boolean()


class ReadyOut(Out):
    status = one_of(["ready", "not_ready"])
    checks = fields.Nested(ReadyChecksOut)


@blp.route("/healthz")
class Health(MethodView):
    @blp.without_database
    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ReadyOut)
    @blp.alt_response(503, schema=ReadyOut, description="A dependency does not answer.")
    def get(self):
        """The database and the broker answer, within READINESS_TIMEOUT_SECONDS"""
        deadline = current_app.config["READINESS_TIMEOUT_SECONDS"]
        app = current_app._get_current_object()
        probes = {"database": _PROBES.submit(_database_ok, app), "broker": _PROBES.submit(_broker_ok, app, deadline)}
        wait(probes.values(), timeout=deadline)
        checks = {}
        for name, probe in probes.items():
            probe.cancel()  # not started yet (earlier probes still hang): it never will be
            checks[name] = probe.done() and not probe.cancelled() and probe.result()
        ready = all(checks.values())
        return {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503


# The probes run beside the request, which waits for them no longer than its deadline: a dependency that accepts a
# connection and never answers (a frozen Redis) holds a probe thread, never the worker serving the probe. The pool
# is bounded, and each probe's own socket timeouts end it: hung probes cannot pile up.
_PROBES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")


def _database_ok(app: Flask) -> bool:
    with app.app_context():
        try:
            db.session.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
        finally:
            db.session.remove()


def _broker_ok(app: Flask, deadline: float) -> bool:
    celery = app.extensions["celery"]
    timeouts = {"socket_timeout": deadline, "socket_connect_timeout": deadline}  # redis-py's, for a Redis broker
    try:
        with celery.connection_for_write(connect_timeout=deadline, transport_options={
                **celery.conf.broker_transport_options, **timeouts}) as connection:
            connection.ensure_connection(max_retries=1, timeout=deadline)
        return True
    except Exception:
        return False
