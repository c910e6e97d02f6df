"""The clinic console: server-rendered pages under /console/ for nurses, physicians and admins.

HTTP stays at the edge: this blueprint has its own guard, reading its own cookie session,
and its own error pages; its views call the same services as the API with the same `Actor`.

- Session: the API is bearer-only and opens no cookie session. Under /console/ only, Flask's signed cookie
  session is opened, holding the id of a server-side sign-in session row (auth_sessions, kind "console")
  and the CSRF secret; signing out or deactivating the account ends the row, so the cookie stops working at
  once. The row carries the idle timeout and the 12-hour end.
- CSRF: Flask-WTF's check on every POST of this blueprint (the JSON API is not checked: it takes no cookie).
- Headers: a Content-Security-Policy with no inline script, no framing, nosniff, same-origin referrers and
  no caching of patient data, on every console response.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

PREFIX = "/console"
COOKIE = "trial_diary_console"

bp = Blueprint("console", __name__, url_prefix=PREFIX, template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ConsoleOnlyCookieSession(SecureCookieSessionInterface):
    """Flask's signed cookie session for console paths; none at all (as before) for the API."""

    salt = "trial-diary-console-session"

    def open_session(self, app, request):
        if not _is_console(request.path):
            return None  # the API's NullSession, which refuses to be written to
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if _is_console(request.path):
            super().save_session(app, session, response)

    def get_cookie_name(self, app):
        return COOKIE

    def get_cookie_path(self, app):
        return PREFIX

    def get_cookie_domain(self, app):
        return None  # this host only

    def get_cookie_httponly(self, app):
        return True

    def get_cookie_secure(self, app):
        return urlsplit(app.config["PUBLIC_BASE_URL"]).scheme == "https"

    def get_cookie_samesite(self, app):
        return "Lax"


def _is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def register(app: Flask) -> None:
    """Mount the console on the app: its cookie session (console paths only), CSRF, and its pages."""
    from . import routes  # noqa: F401  (declares the views on `bp`)

    app.session_interface = ConsoleOnlyCookieSession()
    # Checked by the console's own before_request, never app-wide: the JSON API authenticates by bearer token.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(app.config["CONSOLE_SESSION_MAX"].total_seconds()))
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    csrf.init_app(app)
    app.register_blueprint(bp)
