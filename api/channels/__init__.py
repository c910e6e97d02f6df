"""Delivery channels: email (SMTP), clinic webhooks (signed HTTPS), push to phones and text messages (provider
interfaces).

Each `send(notification)` either returns (delivered) or raises DeliveryError; a retry sends the same
delivery id (Message-ID, X-TrialDiary-Delivery), so receivers can drop a second copy.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """The message did not go out; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class NotNow(DeliveryError):
    """Held back on purpose (a text in the patient's quiet hours): delivered at `until`, no attempt counted."""

    def __init__(self, until):
        super().__init__("waiting for the end of quiet hours")
        self.until = until


def send(notification) -> None:
    from . import email, push, sms, webhook

    {"email": email.send, "webhook": webhook.send, "push": push.send, "sms": sms.send}[notification.channel](
        notification)
