"""Structured (JSON) logs that carry request ids and never patient data."""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# Set per HTTP request, and per Celery task from the headers of the request that caused it.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            payload["request_id"] = request_id
        if record.exc_info:
            payload["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload)


def current_request_id() -> str | None:
    return request_id_var.get()


def configure(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(app.config["LOG_LEVEL"])
    # werkzeug's access log prints full URLs; query strings may hold reasons or codes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        request_id_var.set(g.request_id)

    @app.after_request
    def echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        logging.getLogger("api.access").info(
            "%s %s %s", request.method, request.url_rule.rule if request.url_rule else "-", response.status_code
        )
        return response
