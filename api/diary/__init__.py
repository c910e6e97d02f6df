"""The patient's diary page: an installable, offline-first web page under /diary/ (docs/diary-page.md).

HTTP stays at the edge: this blueprint has its own guard reading its own cookie session, its own error pages,
templates and static files; its JSON endpoints (/diary/api/...) call the same services as the API with the
same `Actor`.

- Session: under /diary only, a signed cookie (api/cookie_sessions.py, SameSite=Strict, HttpOnly, Secure under
  https) holding the id of a sign-in session row of kind "diary": idle 7 days, 30 days in all, never past the
  diary's closing; sign-out, re-enrollment and deactivation end it at once. Page script never holds a
  credential.
- CSRF, fit for JSON: every write carries the X-Diary-Request header (a cross-site form cannot send one, and a
  cross-site script may not without a CORS preflight that is never granted), and a browser's Origin must be this
  site's.
- The page: one shell (HTML, CSS, two scripts) that a service worker (/diary/sw.js, scope /diary/) keeps with
  both languages' texts and the form definitions, so that it opens with no network. API answers are never cached.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from .. import cookie_sessions

PREFIX = "/diary"
COOKIE = "trial_diary"
CSRF_HEADER = "X-Diary-Request"
# The pages the script draws (app.js names the same paths); each is the same shell from the server. A page added to
# the diary is a path here and a page in app.js. "sign-in/link" is where a texted sign-in link lands
# (domain/texting.py `sign_in_url`): its token rides in the fragment, and the page posts it.
PAGES = ("", "enroll", "sign-in", "sign-in/link", "record", "entries", "when-to-call", "install", "goals")


def page_endpoint(page: str) -> str:
    return f"page_{page.replace('-', '_').replace('/', '_') or 'today'}"

bp = Blueprint("diary", __name__, url_prefix=PREFIX, template_folder="templates", static_folder="static",
               static_url_path="/static")


def register(app: Flask) -> None:
    """Mount the diary page on the app: its cookie session (diary paths only), guard, pages and JSON endpoints."""
    from . import endpoints, guard, pages  # noqa: F401  (declare the guard, error pages and views on `bp`)

    # SameSite=Strict: no other site can make the browser send it, not even by a link.
    cookie_sessions.mount(app, cookie_sessions.Face(PREFIX, COOKIE, "trial-diary-diary-session", "Strict"))
    app.register_blueprint(bp)
