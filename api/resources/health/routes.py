"""Liveness and readiness."""

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text

from ...extensions import Blueprint, db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness and readiness probes.")


class HealthOut(Schema):
    status = fields.String(metadata={"description": "ok"})


class ReadyOut(Schema):
    status = fields.String(metadata={"description": "ready or not_ready"})
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean(),
                         metadata={"description": "Whether each dependency answered: database, broker."})


@blp.route("/healthz")
class Health(MethodView):
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
        """The database and the broker answer"""
        checks = {"database": _database_ok(), "broker": _broker_ok()}
        ready = all(checks.values())
        return {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


def _broker_ok() -> bool:
    try:
        with current_app.extensions["celery"].connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False
