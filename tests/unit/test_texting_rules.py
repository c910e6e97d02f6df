"""The text channel's pure rules (docs/sms.md): mobile numbers, keywords, quiet hours, and every text's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from api import i18n
from api.domain import texting
from api.services.patient_messages import text_message


@pytest.mark.parametrize(("typed", "region", "stored"), [
    ("(201) 555-0123", "US", "+12015550123"), ("+1 201 555 0123", "ES", "+12015550123"),
    ("612 34 56 78", "ES", "+34612345678"), ("+44 7911 123456", "US", "+447911123456")])
def test_mobile_numbers_are_stored_in_e164(typed, region, stored):
    assert texting.mobile_e164(typed, default_region=region) == stored


@pytest.mark.parametrize("typed", ["+44 20 7946 0958", "+34 912 345 678", "12345", "call me", "+1 999 555 0123", ""])
def test_landlines_and_non_numbers_are_refused_with_a_reason(typed):
    with pytest.raises(ValueError, match="Not a mobile phone number"):
        texting.mobile_e164(typed, default_region="US")


@pytest.mark.parametrize(("body", "word"), [
    ("STOP", "stop"), (" stop ", "stop"), ("Stop.", "stop"), ("unsubscribe", "stop"), ("StopAll", "stop"),
    ("cancel", "stop"), ("END", "stop"), ("quit", "stop"), ("start", "start"), ("UNSTOP", "start"),
    ("yes", "start"), ("help", "help"), ("INFO", "help"), ("call", "call"), ("Call!", "call"),
    ("stop please", None), ("can you call me", None), ("", None)])
def test_a_keyword_is_the_whole_text(body, word):
    assert texting.keyword(body) == word


@pytest.mark.parametrize(("utc", "zone", "quiet"), [
    ("2026-06-01T01:30", "America/New_York", True),   # 21:30 EDT
    ("2026-06-01T11:59", "America/New_York", False),  # 07:59 -> quiet
    ("2026-06-01T12:00", "America/New_York", False),  # 08:00 EDT
    ("2026-06-01T19:00", "Europe/Madrid", False),     # 21:00 CEST -> quiet
])
def test_quiet_hours_in_the_patients_timezone(utc, zone, quiet):
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    local = moment.astimezone(texting.ZoneInfo(zone)).time()
    assert texting.quiet(moment, zone) == (local >= texting.QUIET_FROM or local < texting.QUIET_UNTIL)


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["America/New_York", "Europe/Madrid", "Pacific/Auckland", "UTC", "Etc/GMT+11"]))
def test_the_end_of_quiet_hours_is_the_next_eight_oclock_and_never_earlier(moment, zone):
    end = texting.quiet_hours_end(moment, zone)
    assert end >= moment and not texting.quiet(end, zone)
    if texting.quiet(moment, zone):
        local = end.astimezone(texting.ZoneInfo(zone))
        assert (local.hour, local.minute) == (8, 0) and (end - moment).total_seconds() <= 11 * 3600 + 1


def test_every_text_ends_with_the_opt_out_words_in_both_languages():
    """The words are the catalogs' (tests/unit/test_translations.py checks each has its Spanish, same blanks)."""
    values = {"clinic": "C", "phone": "", "link": "L", "asked": "10:00"}
    app = Flask(__name__)
    i18n.init(app)
    with app.app_context():
        for name, message_id in texting.TEXTS.items():
            assert message_id.endswith("Reply STOP to stop."), name
            assert text_message(name, "en", **values).endswith("Reply STOP to stop."), name
            spanish = text_message(name, "es", **values)
            assert spanish.endswith("Responda STOP para no recibir más.") and "Reply" not in spanish, name
        assert text_message("help", "fr", **values).startswith("C: texts about")
        assert "number on your clinic's papers" in text_message("help", "en", **values)
        assert "papeles de su clínica" in text_message("help", "es", **values)


def test_a_sign_in_token_depends_on_the_secret_and_is_stored_only_as_its_hash():
    token = texting.link_token("secret-a", 7, "nonce")
    assert token == texting.link_token("secret-a", 7, "nonce") != texting.link_token("secret-b", 7, "nonce")
    assert texting.token_hash(token) != token and len(texting.token_hash(token)) == 64
    assert texting.sign_in_url("https://d.example/", token).endswith(f"/diary/sign-in/link#token={token}")
