"""Every text a patient reads has its Spanish translation: each message id found in the code (the diary page's
script, its templates, the domain's form words, the messages to patients) is in the Spanish catalog, translated,
with the same placeholders."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from api.config import ROOT
from api.i18n import TRANSLATIONS, page_texts

PLACEHOLDERS = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")
METHODS = [("api/**.py", "python"), ("api/diary/templates/**.html", "jinja2"),
           ("api/diary/templates/**.webmanifest", "jinja2"), ("api/diary/static/**.js", "javascript")]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "T": None}


def _catalog():
    with (TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source)


def _ids_in_the_code() -> set[str]:
    found = set()
    for _path, _line, message, _comments, _context in extract_from_dir(ROOT, METHODS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_id_of_the_code_has_its_spanish_translation():
    catalog = _catalog()
    translated = {m.id: m for m in catalog if m.id}
    missing = sorted(_ids_in_the_code() - set(translated))
    assert missing == [], f"not in api/translations/es (run pybabel extract and update, see api/i18n.py): {missing}"
    for message in translated.values():
        assert message.string and not message.fuzzy, f"no Spanish for {message.id!r}"
        assert sorted(PLACEHOLDERS.findall(message.id)) == sorted(PLACEHOLDERS.findall(message.string)), message.id


def test_the_page_gets_both_languages_texts_from_the_catalog():
    spanish, english = page_texts("es"), page_texts("en")
    assert spanish.keys() == english.keys()
    assert spanish["Worst pain you can imagine"] == "El peor dolor que pueda imaginar"
    assert english["Worst pain you can imagine"] == "Worst pain you can imagine"
    assert "Your trial diary" not in spanish  # push texts stay on the server
