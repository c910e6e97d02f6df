"""Flask-Limiter, for limits declared on views only.

A limit is declared with `limiter.limit(...)` on a view (sign-in, enrollment), and the decorated view
checks it when called. Flask-Limiter also checks every request before dispatch, for default, application,
meta and blueprint limits; Trial Diary sets none of those, so that check could never refuse anything, yet
it cost about 5% of a diary write's CPU. It is skipped. Configuring default, application or meta limits is
refused at start-up rather than ignored; do not decorate a blueprint with `limiter.limit`.

When the storage (Redis) is down, the limits are counted in the process's memory until it answers again
(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED): sign-in keeps working, wrong passwords stay limited per process, and
Flask-Limiter logs one warning per outage. A key function must never raise: Flask-Limiter takes any exception
while checking limits for a storage outage.

Flask-Limiter writes `Retry-After` (the limit's window, 15 minutes for sign-in) on every answer of a limited view,
and raises any `Retry-After` the answer had to it. A phone reads it as "wait that long": only a 429 carries the
limiter's; any other answer keeps its own (a 503's is the outage's few seconds), or none.
"""

from __future__ import annotations

import flask_limiter
from flask import g


class Limiter(flask_limiter.Limiter):
    def init_app(self, app, *args, **kwargs) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI", "")
        if uri.startswith(("redis://", "rediss://", "redis+")):
            timeout = app.config.get("RATELIMIT_STORAGE_TIMEOUT_SECONDS", 1.0)
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": timeout, "socket_timeout": timeout,
                                                       **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
        app.after_request(_own_retry_after_back)  # after_request hooks run last-registered first: after the limiter's
        super().init_app(app, *args, **kwargs)
        app.after_request(_own_retry_after_aside)  # before the limiter's
        if self.limit_manager.default_limits or self.limit_manager.application_limits or self._meta_limits:
            raise RuntimeError("Trial Diary's limiter takes limits declared on views only")

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if not in_middleware:  # a decorated view checking its own limits
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


def _own_retry_after_aside(response):
    g.own_retry_after = response.headers.pop("Retry-After", None)
    return response


def _own_retry_after_back(response):
    own = g.pop("own_retry_after", None)
    if response.status_code == 429 and "Retry-After" in response.headers:
        return response  # the limit's own wait
    response.headers.pop("Retry-After", None)
    if own is not None:
        response.headers["Retry-After"] = own
    return response
