"""The diary page's guard (a live patient sign-in session), CSRF check, headers, and error answers."""

from __future__ import annotations

import gzip
import logging
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, jsonify, render_template, request, session
from flask_limiter.errors import RateLimitExceeded
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from ..domain.vocabulary import LANGUAGES
from ..errors import (
    OUTAGES,
    RETRY_AFTER_SECONDS,
    DomainError,
    Forbidden,
    Invalid,
    Unauthorized,
    body,
    rollback_quietly,
)
from ..resources.fields import unstorable_text
from ..services.access import session_actor
from . import CSRF_HEADER, PAGES, PREFIX, bp, page_endpoint

log = logging.getLogger(__name__)
API = PREFIX + "/api/"
SIGNED_OUT = "Please sign in again."

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Public, patient-free files the service worker keeps: revalidated (ETag) rather than never stored.
CACHEABLE = frozenset({"diary.static", "diary.service_worker", "diary.manifest", "diary.texts", "diary.form"})
COMPRESSED = CACHEABLE | {f"diary.{page_endpoint(page)}" for page in PAGES}


def signed_in(view):
    """JSON endpoint decorator: the patient of a live diary session, passed to the view as `user`; else 401."""

    @wraps(view)
    def guarded(*args, **kwargs):
        g.pop("actor", None)
        session_id = session.get("sid")
        user = session_actor(session_id, kind="diary", active=True) if session_id else None
        if user is None:
            session.pop("sid", None)
            raise Unauthorized(SIGNED_OUT)
        return view(user, *args, **kwargs)

    return guarded


def parsed(schema: Schema) -> dict[str, Any]:
    """The request's JSON body loaded by `schema` (the API's own), or a 422 naming the fields."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", errors={"_schema": ["Must be a JSON object."]})
    if problems := unstorable_text(data):
        raise Invalid("Some fields are not valid.", errors=problems)
    try:
        return schema.load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise Invalid("Some fields are not valid.", errors=messages) from error


def parsed_query(schema: Schema) -> dict[str, Any]:
    try:
        return schema.load(request.args)
    except ValidationError as error:
        raise Invalid("Some fields are not valid.", errors=error.messages) from error


def page_language() -> str:
    """The language of a page before sign-in: the browser's choice (Accept-Language) among the diary's."""
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


@bp.before_request
def _check_request():
    g.language = page_language()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get(CSRF_HEADER) != "1":
        raise Forbidden(f"Send the {CSRF_HEADER} header: the diary page's requests carry it.")
    origin = request.headers.get("Origin")
    if origin is not None and origin not in _own_origins():
        raise Forbidden("This request came from another site.")


def _own_origins() -> set[str]:
    public = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return {f"{public.scheme}://{public.netloc}", request.host_url.rstrip("/")}


@bp.after_request
def _headers(response):
    _compress(response)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint in CACHEABLE and response.status_code == 200:
        response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"  # answers with patient data, and the pages
    response.vary.add("Accept-Language")
    return response


def _compress(response) -> None:
    """gzip the page's own files (the shell, its scripts, texts and forms: a phone on a slow network waits for
    every byte); nothing is built ahead, each answer is compressed as it is sent (a few milliseconds)."""
    if (request.endpoint not in COMPRESSED or response.status_code != 200 or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")):
        return
    response.direct_passthrough = False  # a static file is streamed from disk unless read here
    response.set_data(gzip.compress(response.get_data(), compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")


def _answer(status: int, code: str, message: str, errors=None, details=None):
    rollback_quietly()
    if request.path.startswith(API):
        return jsonify(body(status, code, message, errors, details)), status
    return render_template("diary/error.html", status=status, language=g.get("language", LANGUAGES[0])), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return _answer(exc.status, exc.code, exc.message, exc.errors, exc.details)


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded):
    response, status = _answer(429, "too_many_requests", "Too many attempts. Wait a few minutes and try again.")
    return response, status, {"Retry-After": "60"}


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    return _answer(exc.code or 500, code, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, OUTAGES):  # as the API: the page keeps its entries and sends them again
        log.warning("diary: database unavailable, answered 503: %s", type(exc).__name__)
        response, status = _answer(503, "service_unavailable", "The service is briefly unavailable; nothing was "
                                                               "stored. Try again shortly.")
        return response, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if isinstance(exc, IntegrityError):
        return _answer(409, "conflict", "The change conflicts with data already stored.")
    if isinstance(exc, DataError):
        return _answer(422, "validation_error", "A value is outside what can be stored.")
    log.exception("diary: unhandled error")
    return _answer(500, "internal_error", "Something went wrong on our side.")


@bp.route("/api/<path:anything>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
def _unknown_endpoint(anything):
    abort(404)


@bp.route("/<path:anything>")
def _unknown_page(anything):
    abort(404)
