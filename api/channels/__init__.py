"""Delivery channels: email (SMTP), clinic webhooks (signed HTTPS), push to phones (provider interface).

Each `send(notification)` either returns (delivered) or raises DeliveryError; a retry sends the same
delivery id (Message-ID, X-TrialDiary-Delivery), so receivers can drop a second copy.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """The message did not go out; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def send(notification) -> None:
    from . import email, push, webhook

    {"email": email.send, "webhook": webhook.send, "push": push.send}[notification.channel](notification)
