"""Every message sent to a patient (pushes, emails and texts), in one place and in the patient's own language.

None carries patient data: a lock screen and an inbox are not private (safety.md "Channels"). The texts are
English message ids, translated through the gettext catalogs (api/i18n.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from ..domain.texting import NO_PHONE, TEXTS
from ..i18n import speaking


@dataclass(frozen=True)
class Message:
    subject: str  # a push's title, an email's subject
    body: str


def evening_reminder(language: str | None) -> Message:
    with speaking(language):
        return Message(_("Your trial diary"), _("You have not recorded today yet. It takes a minute."))


def block_reminder(language: str | None) -> Message:
    with speaking(language):
        return Message(_("Your block diary"),
                       _("How is your pain now? Record it in your diary: it takes a few seconds."))


def care_team_told(language: str | None) -> Message:
    """After the patient's own entry raised a critical or high alert."""
    with speaking(language):
        return Message(_("Trial Diary"),
                       _("Your care team has been notified. If your symptoms are severe, call emergency services."))


def account_reenrolled(language: str | None, *, at: datetime) -> Message:
    """Every earlier sign-in of the account was ended by a new enrollment; if it was not them, they call."""
    with speaking(language):
        return Message(
            _("Your Trial Diary account was signed in on a new phone"),
            _("An enrollment code issued by your clinic was used on %(day)s at %(time)s UTC to set a new password "
              "for your Trial Diary account. Every phone or browser that was signed in before has been signed "
              "out.\n\nIf this was you, there is nothing to do. If it was not, call your clinic now.\n",
              day=at.strftime("%Y-%m-%d"), time=at.strftime("%H:%M")))


def text_message(name: str, language: str | None, **values: str) -> str:
    """The text message `name` (domain/texting.py `TEXTS`) in `language`, its blanks filled in; a clinic without a
    phone number on file is named by words that tell the patient where to find it."""
    with speaking(language):
        if "phone" in values and not values["phone"]:
            values["phone"] = _(NO_PHONE)
        return _(TEXTS[name], **values)
