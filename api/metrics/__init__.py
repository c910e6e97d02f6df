"""Prometheus metrics: requests per route template, the pipeline's health read at scrape time, Celery tasks.

`register(app)` instruments the API and serves `/metrics`; `worker` counts tasks and serves them from the
Celery worker. Operators' guide: docs/operations.md.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import exposition, http, worker  # noqa: F401  (worker: its Celery signal handlers connect on import)

    exposition.check_token(app.config["METRICS_TOKEN"])
    http.instrument(app)
    exposition.serve(app)
