"""Domain errors, and their mapping to the API's one JSON error shape, in one place."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# The database is down, restarting or out of connections: the caller should retry, not report a bug.
OUTAGES = (OperationalError, InterfaceError, PoolTimeout)
RETRY_AFTER_SECONDS = 5


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.details = details


class NotFound(DomainError):
    status, code = 404, "not_found"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Conflict(DomainError):
    status, code = 409, "conflict"


class TrialClosed(Conflict):
    code = "trial_closed"


class Invalid(DomainError):
    """Input that passed the schema but breaks a rule; `errors` names the fields."""

    status, code = 422, "validation_error"


def body(status: int, code: str, message: str, errors=None, details=None) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": code, "status": status, "message": message}
    if errors:
        payload["errors"] = named_errors(errors)
    if details is not None:
        payload["details"] = details
    return payload


def named_errors(errors: Any) -> Any:
    """Field errors with every key a string: marshmallow names a list's items by index, and an index beside a
    name ("_schema") would make the JSON encoder's key sort fail."""
    if isinstance(errors, dict):
        return {str(key): named_errors(value) for key, value in errors.items()}
    return errors


def _field_errors(exc: HTTPException) -> dict[str, Any] | None:
    messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
    if not messages:
        return None
    if len(messages) == 1 and isinstance(only := next(iter(messages.values())), dict):
        return only  # one location (json, query...): name the fields directly
    return messages  # per location, e.g. {"json": ["The JSON body is nested too deeply."]}


def register(app: Flask) -> None:
    # Every handler rolls back quietly: the connection may have died since the request's last statement (a
    # restart while a password was being checked), and a rollback raising here would turn the answer into a 500.
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        rollback_quietly()
        return jsonify(body(exc.status, exc.code, exc.message, exc.errors, exc.details)), exc.status

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        rollback_quietly()
        log.warning("integrity error mapped to 409: %s", type(exc.orig).__name__)
        return jsonify(body(409, "conflict", "The change conflicts with data already stored.")), 409

    def outage(exc: Exception):
        rollback_quietly()
        log.warning("database unavailable, answered 503: %s", type(exc).__name__)
        return unavailable_response()

    for kind in OUTAGES:
        app.register_error_handler(kind, outage)

    @app.errorhandler(DataError)
    def out_of_range(exc: DataError):
        rollback_quietly()
        log.warning("a value the database refused passed validation: %s", type(exc.orig).__name__)
        return jsonify(body(422, "validation_error", "A value is outside what can be stored.")), 422

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        errors = _field_errors(exc)
        code = "validation_error" if status == 422 else (exc.name or "error").lower().replace(" ", "_")
        message = "Some fields are not valid." if status == 422 else (exc.description or exc.name)
        response = jsonify(body(status, code, message, errors))
        response.status_code = status
        for key, value in exc.get_headers():  # e.g. Allow on a 405
            if key.lower() != "content-type":
                response.headers[key] = value
        for key, value in ((getattr(exc, "data", None) or {}).get("headers") or {}).items():
            response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        rollback_quietly()
        log.exception("unhandled error")
        return jsonify(body(500, "internal_error", "Something went wrong on our side.")), 500


def unavailable_response():
    """503 with Retry-After in the error shape: a dependency is down; nothing was stored."""
    response = jsonify(body(503, "service_unavailable",
                            "The service is briefly unavailable; nothing was stored. Try again shortly."))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def rollback_quietly() -> None:
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the pool replaces it
        log.warning("rollback failed on a lost connection")
