"""Cookie sessions for the app's browser faces (the clinic console, the patient's diary page); none for the API.

The API is bearer-only and opens no cookie session. Under a face's path prefix only, Flask's signed cookie
session is opened, in that face's own cookie (its name, its salt, its SameSite, limited to its path, HttpOnly,
Secure when PUBLIC_BASE_URL is https). It holds the id of a server-side sign-in session row (auth_sessions, of
the face's kind): signing out, re-enrollment or a deactivated account end the row, so the cookie stops working
at once (services/access.py `session_actor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


@dataclass(frozen=True)
class Face:
    prefix: str  # "/console": the cookie is sent and opened under this path only
    cookie: str
    salt: str
    samesite: str  # "Lax" (the console's emailed links open signed in) or "Strict"


class FaceCookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, per face; no session at all outside every face's path."""

    def __init__(self) -> None:
        self.faces: list[Face] = []

    def face(self) -> Face | None:
        path = request.path
        return next((f for f in self.faces if path == f.prefix or path.startswith(f.prefix + "/")), None)

    @property
    def salt(self) -> str:  # Flask's signing serializer reads it: a cookie of one face never opens another's
        return self.face().salt

    def open_session(self, app, request):
        if self.face() is None:
            return None  # the API's NullSession, which refuses to be written to
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if self.face() is not None:
            super().save_session(app, session, response)

    def get_cookie_name(self, app):
        return self.face().cookie

    def get_cookie_path(self, app):
        return self.face().prefix

    def get_cookie_domain(self, app):
        return None  # this host only

    def get_cookie_httponly(self, app):
        return True

    def get_cookie_secure(self, app):
        return urlsplit(app.config["PUBLIC_BASE_URL"]).scheme == "https"

    def get_cookie_samesite(self, app):
        return self.face().samesite


def mount(app: Flask, face: Face) -> None:
    """Give `face` its cookie session on `app` (one session interface serves every face)."""
    if not isinstance(app.session_interface, FaceCookieSessions):
        app.session_interface = FaceCookieSessions()
    app.session_interface.faces.append(face)
