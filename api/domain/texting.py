"""Text messages as pure rules (docs/sms.md): mobile numbers, keywords, quiet hours, and every text's words.

The words are English message ids of the gettext catalogs (marked with `N_`), translated into the patient's
language where a text is queued. No text says anything about the patient: the clinic's name, what to do, a link,
and the opt-out words the carriers expect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberType

from .forms import N_

# --- mobile numbers -------------------------------------------------------------------------------------------

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
NOT_A_MOBILE = ("Not a mobile phone number. Give it with its country code if it is not a {region} number, "
                "such as +1 201 555 0123.")


def mobile_e164(text: str, *, default_region: str) -> str:
    """The number in E.164 (+12015550123), or ValueError saying why it cannot receive texts.

    A number without a leading + is read as one of `default_region`. Landlines, pagers and numbers no region
    issues are refused; a region whose numbers do not say whether they are mobile (the US) is accepted.
    """
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise ValueError(NOT_A_MOBILE.format(region=default_region)) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValueError(NOT_A_MOBILE.format(region=default_region))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable(e164: str | None) -> str:
    """A stored number as staff dial it (+1 201-555-0123)."""
    if not e164:
        return ""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- what a patient texts -------------------------------------------------------------------------------------

# Twilio's default keywords for long codes (and the CTIA's): opting out, back in, and asking for help.
KEYWORDS = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), "stop"),
    **dict.fromkeys(("START", "UNSTOP", "YES"), "start"),
    **dict.fromkeys(("HELP", "INFO"), "help"),
    **dict.fromkeys(("CALL", "LLAMAR", "LLAMADA"), "call"),
}


def keyword(body: str) -> str | None:
    """stop, start, help or call when the whole text is one of their words (any case, spaces or a final full stop
    around it), else None: a sentence that mentions STOP is words for the care team, as carriers treat it."""
    word = body.strip().rstrip(".!").strip().upper()
    return KEYWORDS.get(word)


# --- when a text may go ---------------------------------------------------------------------------------------

QUIET_FROM, QUIET_UNTIL = time(21), time(8)


def quiet(moment: datetime, zone: str) -> bool:
    """Whether `moment` falls in quiet hours (21:00 to 08:00) in `zone`."""
    local = moment.astimezone(ZoneInfo(zone)).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_hours_end(moment: datetime, zone: str) -> datetime:
    """`moment` itself outside quiet hours, else the next 08:00 in `zone`."""
    if not quiet(moment, zone):
        return moment
    local = moment.astimezone(ZoneInfo(zone))
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, tzinfo=ZoneInfo(zone))


def local_day_start(moment: datetime, zone: str) -> datetime:
    """Midnight of `moment`'s day in `zone`."""
    local = moment.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date(), time(0), tzinfo=ZoneInfo(zone))


# --- links ----------------------------------------------------------------------------------------------------

# Where a sign-in link's address goes in a stored text: the token exists only while the text is sent.
LINK_SLOT = "{sign-in-link}"


def diary_url(base: str) -> str:
    """The patient's diary page (patient-diary.md)."""
    return f"{base.rstrip('/')}/diary/"


def sign_in_url(base: str, token: str) -> str:
    """The diary's sign-in link: the token in the fragment, so that no server or proxy log ever holds it, and a
    messaging app's link preview (a GET of the page) cannot use it up: the page sends it."""
    return f"{base.rstrip('/')}/diary/sign-in/link#token={token}"


def link_token(secret: str, link_id: int, nonce: str) -> str:
    """A sign-in link's token, derived from the server's secret: the database holds only its hash."""
    digest = hmac.new(secret.encode(), f"sign-in-link:{link_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode(errors="surrogatepass")).hexdigest()


# --- the words ------------------------------------------------------------------------------------------------

# Every text's words: English message ids of the gettext catalogs (api/translations), translated into the
# patient's language when the text is queued (services/patient_messages.py). Blanks: %(clinic)s, %(link)s,
# %(phone)s, %(asked)s.
TEXTS: dict[str, str] = {
    "reminder": N_("%(clinic)s: time for today's diary. It takes a minute: %(link)s Reply STOP to stop."),
    "follow_up": N_("%(clinic)s: your diary is still waiting for today's entry. You can fill it in now: %(link)s "
                    "Reply STOP to stop."),
    "block_reminder": N_("%(clinic)s: how is your pain now? Record it in your diary: %(link)s Reply STOP to stop."),
    "sign_in_link": N_("%(clinic)s: open your diary with this link. It works once, for 15 minutes: %(link)s "
                       "If you did not ask for it, ignore this text. Reply STOP to stop."),
    "help": N_("%(clinic)s: texts about your diary. Questions? Call %(phone)s. Reply CALL and your care team will "
               "call you back. Reply STOP to stop."),
    "call_requested": N_("%(clinic)s: we asked your care team to call you back. In an emergency, call emergency "
                         "services now. Reply STOP to stop."),
    "call_already_requested": N_("%(clinic)s: you asked us to call you back at %(asked)s. Your care team will call "
                                 "you. In an emergency, call emergency services now. Reply STOP to stop."),
    "call_the_clinic": N_("%(clinic)s: please call your clinic at %(phone)s. Reply STOP to stop."),
}
# Where the clinic has not given its phone number yet.
NO_PHONE = N_("the number on your clinic's papers")
