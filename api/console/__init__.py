"""The clinic console: server-rendered pages under /console/ for nurses, physicians and admins.

HTTP stays at the edge: this blueprint has its own guard, reading its own cookie session,
and its own error pages; its views call the same services as the API with the same `Actor`.

- Session: under /console/ only, a signed cookie session (api/cookie_sessions.py) holding the id of a
  server-side sign-in session row (auth_sessions, kind "console") and the CSRF secret; signing out or
  deactivating the account ends the row, so the cookie stops working at once. The row carries the idle
  timeout and the 12-hour end.
- CSRF: Flask-WTF's check on every POST of this blueprint (the JSON API is not checked: it takes no cookie).
- Headers: a Content-Security-Policy with no inline script, no framing, nosniff, same-origin referrers and
  no caching of patient data, on every console response.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from .. import cookie_sessions

PREFIX = "/console"
COOKIE = "trial_diary_console"

bp = Blueprint("console", __name__, url_prefix=PREFIX, template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    """Mount the console on the app: its cookie session (console paths only), CSRF, and its pages."""
    from . import guard, pages  # noqa: F401  (declare the guard, error pages and views on `bp`)

    # SameSite=Lax: a link in an alert email opens the trial page signed in.
    cookie_sessions.mount(app, cookie_sessions.Face(PREFIX, COOKIE, "trial-diary-console-session", "Lax"))
    # Checked by the console's own before_request, never app-wide: the JSON API authenticates by bearer token.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(app.config["CONSOLE_SESSION_MAX"].total_seconds()))
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    csrf.init_app(app)
    app.register_blueprint(bp)
