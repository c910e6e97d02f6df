"""Languages: Flask-Babel with gettext catalogs for everything a patient reads (the diary page, pushes, emails).

The catalogs are `api/translations/<language>/LC_MESSAGES/messages.po` (committed; English is the message ids
themselves). The compiled `.mo` files are build output: `compile_catalogs()` writes each one at start-up when it
is missing or older than its `.po` (atomically: several processes may start at once). Extract and update:

    .venv/bin/pybabel extract -F babel.cfg -k N_ -k T -o api/translations/messages.pot .
    .venv/bin/pybabel update -i api/translations/messages.pot -d api/translations --no-fuzzy-matching

The console and the API's own messages stay English: the locale is English unless a patient's face (the diary
page) or a message to a patient chose another.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask_babel import Babel, force_locale, gettext

from .domain.vocabulary import LANGUAGES

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The message ids whose texts the diary page's script and form definitions use (its /diary/texts/<lang>.json).
PAGE_SOURCES = ("api/diary/static/", "api/domain/forms.py", "api/domain/therapies.py")

babel = Babel()


def init(app: Flask) -> None:
    compile_catalogs()
    babel.init_app(app, default_locale=LANGUAGES[0], locale_selector=_selected_language,
                   default_translation_directories=str(TRANSLATIONS))


def _selected_language() -> str:
    return g.get("language") or LANGUAGES[0]


def supported(language: str | None) -> str:
    """`language` if the diary speaks it, else English."""
    return language if language in LANGUAGES else LANGUAGES[0]


@contextmanager
def speaking(language: str | None):
    """Messages composed inside are in `language` (a patient's), whatever the request's own language."""
    with force_locale(supported(language)):
        yield


def translate(message: str, language: str | None, **values) -> str:
    """`message` (an English message id) in `language`, with `values` put in."""
    with speaking(language):
        return gettext(message, **values)


def compile_catalogs() -> None:
    """Write each catalog's `.mo` next to its `.po` when it is missing or older."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        handle, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo-tmp")
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.replace(temporary, mo)


@cache
def page_texts(language: str) -> dict[str, str]:
    """The diary page's texts in `language`: every message id used by its script and its forms, translated."""
    texts = {}
    for message_id, translation in _catalog_messages(language):
        texts[message_id] = translation or message_id
    return texts


def _catalog_messages(language: str) -> list[tuple[str, str]]:
    """(message id, translation) of the page's messages, read from the Spanish catalog's references (English:
    the message ids themselves)."""
    with (TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    found = []
    for message in catalog:
        if not message.id or not any(path.startswith(PAGE_SOURCES) for path, _ in message.locations):
            continue
        found.append((message.id, message.string if language != LANGUAGES[0] and language == catalog.locale.language
                      else message.id))
    return found
