"""`GET /metrics`, behind a bearer token (METRICS_TOKEN).

A token rather than an internal port: gunicorn serves one port, and a second listener per worker process
would need its own server in every worker; the token works wherever the API is reachable, through the same
proxy and TLS. Without METRICS_TOKEN the endpoint does not exist (404), so a deployment that did not
configure metrics exposes nothing. The comparison takes constant time.
"""

from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import NotFound

from ..errors import body
from ..extensions import db
from .pipeline import PipelineCollector
from .registry import scrape_registry

MINIMUM_TOKEN_LENGTH = 16


def check_token(token: str) -> None:
    """A short token could be guessed; refuse to start with one rather than serve metrics behind it."""
    if token and len(token) < MINIMUM_TOKEN_LENGTH:
        raise ValueError(f"METRICS_TOKEN must be at least {MINIMUM_TOKEN_LENGTH} characters long")


def bearer_matches(authorization: str, token: str) -> bool:
    """Whether an Authorization header carries `token`, compared in constant time."""
    scheme, _, presented = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def serve(app: Flask) -> None:
    registry = []  # built at the first scrape, once per process: its collectors read each time they collect

    def metrics():
        token = current_app.config["METRICS_TOKEN"]
        if not token:
            raise NotFound()  # the same answer as a path that does not exist
        if not bearer_matches(request.headers.get("Authorization", ""), token):
            return (body(401, "unauthorized", "A valid metrics token is required."), 401,
                    {"WWW-Authenticate": 'Bearer realm="metrics"'})
        if not registry:
            registry.append(scrape_registry(PipelineCollector(lambda: db.engine)))
        return Response(generate_latest(registry[0]), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
