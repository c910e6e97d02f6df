"""The console's guard (a live staff sign-in session), CSRF check, headers, error pages and template helpers."""

from __future__ import annotations

import logging
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import OUTAGES, RETRY_AFTER_SECONDS, DomainError, Forbidden, rollback_quietly
from ..exports import wording
from ..services import clinics, decisions
from ..services.access import console_actor, session_idle_left
from . import CONTENT_SECURITY_POLICY, bp, csrf, present

log = logging.getLogger(__name__)


# In the console's cookie: the account signed in with a temporary password an admin gave; until it chooses its own,
# every page but that one (and signing out) leads there.
CHOOSING_PASSWORD = "choosing_password"
_WHILE_CHOOSING = frozenset({"console.own_password", "console.own_password_post", "console.keep_alive"})


def staff_page(*roles: str, active: bool = True):
    """View decorator: the signed-in staff member of a live console session, passed to the view as `user`.

    Signed out (or idle, or past 12 hours, or deactivated): a page redirects to the sign-in page, a background
    refresh answers 401 (its script then goes to the sign-in page). A role not in `roles` gets 403.
    """

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            g.pop("actor", None)
            session_id = session.get("sid")
            user = console_actor(session_id, active=active) if session_id else None
            if user is None:
                if session_id:
                    session.pop("sid", None)
                    flash("You were signed out. Please sign in again.", "info")
                if not active:
                    return Response("Signed out.", status=401, mimetype="text/plain")
                wanted = request.full_path if request.method == "GET" else None
                return redirect(url_for("console.sign_in", next=wanted))
            if session.get(CHOOSING_PASSWORD) and request.endpoint not in _WHILE_CHOOSING:
                if not active:
                    return Response("Choose your password first.", status=401, mimetype="text/plain")
                flash("Choose a password of your own first: the one you signed in with was temporary.", "info")
                return redirect(url_for("console.own_password"))
            if user.role not in roles:
                raise Forbidden("Your role does not open this page.")
            g.console_user = user
            return view(user, *args, **kwargs)

        return guarded

    return decorate


@bp.before_request
def _check_csrf():
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"  # pages and downloads carry patient data
    return response


def _error_page(status: int, title: str, message: str):
    rollback_quietly()  # the connection may be gone (an outage's page)
    return render_template("console/error.html", status=status, title=title, message=message), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    titles = {401: "Signed out", 403: "Not allowed", 404: "Not found", 409: "Not possible now",
              422: "Not accepted"}
    message = "There is no such page, or it belongs to another clinic." if exc.status == 404 else exc.message
    return _error_page(exc.status, titles.get(exc.status, "Something went wrong"), message)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _error_page(400, "The form has expired",
                       "The form was not sent from this console page, or it was open too long. Go back, reload "
                       "the page and send it again.")


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded):
    return _error_page(429, "Too many attempts", "Too many failed sign-ins. Wait a few minutes and try again.")


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 404:
        return _error_page(404, "Not found", "There is no such page, or it belongs to another clinic.")
    return _error_page(exc.code or 500, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, OUTAGES):  # the database is down or restarting: as the API, 503 and when to try again
        log.warning("console: database unavailable, answered 503: %s", type(exc).__name__)
        page, status = _error_page(503, "Briefly unavailable", "The console cannot reach its database just now; "
                                   "nothing was changed. Try again in a moment.")
        return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    log.exception("console: unhandled error")
    return _error_page(500, "Something went wrong", "Something went wrong on our side. Try again in a moment.")


@bp.route("/<path:anything>")
def _unknown(anything):
    abort(404)


@bp.app_template_filter("when")
def _when(moment, zone=None):
    return present.when(moment, zone)


@bp.app_context_processor
def _words():
    return {"words": wording, "present": present, "refresh_seconds": current_app.config["CONSOLE_REFRESH_SECONDS"],
            "attestation": decisions.ATTESTATION, "clinic_zone": clinic_zone(),
            "idle_seconds": int(current_app.config["CONSOLE_IDLE"].total_seconds()),
            "idle_left": session_idle_left(current_app.config["CONSOLE_IDLE"])}


def clinic_zone() -> str:
    """The signed-in staff member's clinic's timezone (clinic-wide pages read times in it); UTC before sign-in."""
    if "clinic_zone" not in g:
        user = g.get("console_user")
        g.clinic_zone = clinics.clinic_timezone(user.clinic_id) if user else "UTC"
    return g.clinic_zone


def safe_next(target: str | None) -> str | None:
    """Only a console path of this site: never an open redirect, nor a way out of /console/ through dot segments
    ("/console/../api/...", "%2e%2e" included: a browser resolves both) or backslashes (a browser reads "/")."""
    if not target or "\\" in target or not target.isprintable():
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or target.startswith("//"):
        return None
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return None
    return target.rstrip("?")


def back_to(default: str) -> str:
    return safe_next(request.form.get("back")) or default
