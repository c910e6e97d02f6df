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
"""

from __future__ import annotations

import flask_limiter


class Limiter(flask_limiter.Limiter):
    def init_app(self, app, *args, **kwargs) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI", "")
        if uri.startswith(("redis://", "rediss://", "redis+")):
            timeout = app.config.get("RATELIMIT_STORAGE_TIMEOUT_SECONDS", 1.0)
            app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": timeout, "socket_timeout": timeout,
                                                       **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
        super().init_app(app, *args, **kwargs)
        if self.limit_manager.default_limits or self.limit_manager.application_limits or self._meta_limits:
            raise RuntimeError("Trial Diary's limiter takes limits declared on views only")

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if not in_middleware:  # a decorated view checking its own limits
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)
