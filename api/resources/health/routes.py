"""Liveness and readiness."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import text

from ...extensions import Blueprint, db

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness and readiness probes.")


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(security=[])
    def get(self):
        """The process is up"""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
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
