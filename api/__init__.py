"""Trial Diary API: create_app() builds the Flask application with its extensions and blueprints."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from . import errors, http_headers, i18n, logs, metrics
from .extensions import Api, db, jwt, limiter
from .extensions.database import ping_idle_connections, tune_sqlite
from .resources.fields import IdConverter


class TrialDiary(Flask):
    """Flask, with the answer to "is this hook a coroutine function?" kept per function.

    Flask asks it of the view and of every before, after and teardown hook on every request (fourteen
    times per diary write, through inspect); the answer for a function never changes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._remembered_sync = lru_cache(maxsize=1024)(super().ensure_sync)

    def ensure_sync(self, func):
        try:
            return self._remembered_sync(func)
        except TypeError:  # an unhashable callable: ask every time
            return super().ensure_sync(func)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a document nested too deeply to parse is bad JSON (400), not a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("The JSON document is nested too deeply.") from exc


class NoCookieSession(SessionInterface):
    """Callers sign in with bearer tokens: there is no cookie session to open and save on every request."""

    def open_session(self, app, request):
        return None  # Flask then gives the request its NullSession, which refuses to be written to

    def save_session(self, app, session, response):
        pass


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = TrialDiary(__name__)
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter  # before any route: one spelling per id, and none beyond integer
    app.url_map.merge_slashes = False  # "/trials/%2F1" is "/trials//1": no route, not a redirect to trial 1
    app.session_interface = NoCookieSession()
    app.config.update(settings.load())
    app.config.update(config or {})
    logs.configure(app)

    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
        ping_idle_connections(db.engine)
    jwt.init_app(app)
    limiter.init_app(app)
    api = Api(app)
    errors.register(app)
    http_headers.register(app)
    i18n.init(app)

    from . import auth_tokens, resources
    from .extensions.celery import init_celery
    from .services import audit

    auth_tokens.register(jwt)
    audit.register(app)
    resources.register(app, api)
    from . import console

    console.register(app)  # the clinic console's pages under /console/ (its own cookie session and guard)
    from . import diary

    diary.register(app)  # the patient's diary page under /diary/ (its own cookie session, guard and pages)
    init_celery(app)
    metrics.register(app)
    if proxies := app.config["TRUSTED_PROXIES"]:  # outermost: every layer sees the caller's own address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    from . import cli

    cli.register(app)
    return app
