"""Security headers on every response, in one place: `http_headers.register(app)` in create_app.

Every response gets DEFAULTS: no MIME sniffing, no framing (X-Frame-Options and CSP frame-ancestors), the
Referer only within the site, and a Content-Security-Policy that allows nothing (an API answer is data, never a
page). Responses are `Cache-Control: no-store` (patient data) unless the view set its own Cache-Control or
the endpoint is public documentation (PUBLIC_ENDPOINTS). The docs page gets DOCS_CSP: its scripts are files
served by this app, none inline, none from elsewhere.

Headers already on the response win: a blueprint with its own needs (a server-rendered console with a stricter
or different CSP) sets them in its own `after_request`, which Flask runs before the app's, e.g.

    @console.after_request
    def console_headers(response):
        return http_headers.apply(response, {"Content-Security-Policy": CONSOLE_CSP})
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, request

DEFAULTS: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}

# Swagger UI: its scripts, styles and the init script are served by this app; it sets inline style attributes
# and draws its icons as data: images.
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")

# Public, patient-free documents that caches may keep.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "swagger_ui_assets", "static"})
DOCS_PAGE_ENDPOINT = "api-docs.openapi_swagger_ui"


def apply(response: Response, overrides: Mapping[str, str] | None = None) -> Response:
    """Set DEFAULTS, with `overrides` in their place, where the response has no such header yet."""
    for name, value in {**DEFAULTS, **(overrides or {})}.items():
        response.headers.setdefault(name, value)
    return response


def _secure(response: Response) -> Response:
    endpoint = request.endpoint
    overrides = {"Content-Security-Policy": DOCS_CSP} if endpoint == DOCS_PAGE_ENDPOINT else None
    if endpoint not in PUBLIC_ENDPOINTS and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return apply(response, overrides)


def register(app: Flask) -> None:
    app.after_request(_secure)
