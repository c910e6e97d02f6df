"""The page's shell and what the service worker keeps: the one HTML shell (every page of the diary is drawn by
its script from the same shell, online or not), the service worker, the manifest, both languages' texts and the
therapies' form definitions. None of these carries patient data."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Response, abort, jsonify, render_template, url_for

from .. import i18n
from ..domain.form_definition import definition
from ..domain.therapies import REGISTRY
from ..domain.vocabulary import LANGUAGES
from . import PAGES, bp, page_endpoint
from .guard import page_language

STATIC = Path(__file__).resolve().parent / "static"
SHELL_FILES = ("diary.css", "queue.js", "app.js", "icon.svg")


@cache
def version() -> str:
    """Changes whenever the shell, its files, the texts or the forms change: the service worker's cache name."""
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        digest.update((STATIC / name).read_bytes())
    digest.update((Path(__file__).resolve().parent / "templates" / "diary" / "shell.html").read_bytes())
    for language in LANGUAGES:
        digest.update(repr(sorted(i18n.page_texts(language).items())).encode())
    for therapy in REGISTRY:
        digest.update(repr(definition(therapy)).encode())
    return digest.hexdigest()[:16]


def _shell():
    return render_template("diary/shell.html", language=page_language(), version=version())


for _page in PAGES:
    bp.add_url_rule(f"/{_page}", endpoint=page_endpoint(_page), view_func=_shell)


@bp.route("/sw.js")
def service_worker():
    """Served from /diary/ so that its scope is /diary/ (never the API's or the console's paths)."""
    precache = [url_for("diary.page_today"), url_for("diary.manifest"),
                *(url_for("diary.static", filename=name) for name in SHELL_FILES),
                *(url_for("diary.texts", language=language) for language in LANGUAGES)]
    script = render_template("diary/sw.js", version=version(), precache=precache,
                             forms_prefix=url_for("diary.form", therapy="x")[:-len("x.json")])
    return Response(script, mimetype="text/javascript")


@bp.route("/manifest.webmanifest")
def manifest():
    return Response(render_template("diary/manifest.webmanifest", language=page_language()),
                    mimetype="application/manifest+json")


@bp.route("/texts/<language>.json")
def texts(language: str):
    """Every text of the page's script and forms in `language` (English: the message ids themselves)."""
    if language not in LANGUAGES:
        abort(404)
    return jsonify(i18n.page_texts(language))


@bp.route("/forms/<therapy>.json")
def form(therapy: str):
    """The diary form of a therapy, from the registry, with its red-flag answers (domain/form_definition.py)."""
    if therapy not in REGISTRY:
        abort(404)
    return jsonify(definition(therapy))
