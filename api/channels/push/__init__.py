"""Push to patients' phones through a provider chosen by PUSH_PROVIDER:

- `development` (the default): appends each push to instance/push.jsonl (token shortened); sends nothing.
- `fcm`: every device through Firebase Cloud Messaging HTTP v1 (an app built with the Firebase SDK on both
  platforms registers FCM tokens for iPhones too).
- `apns`: every device through Apple's APNs (an iPhone-only app); an Android device's push fails.
- `native`: by the device's platform: android through FCM, ios through APNs (each app registers its
  platform's own token).

A browser (platform `web`, the diary page) is reached through the standard Web Push protocol (webpush.py) under
every provider but `development`: it needs no vendor account, only this service's VAPID key.

A push carries only what the design allows on a lock screen: a title and body without patient data, the
trial id, the message type and the delivery id (stable across retries). A token the provider reports as
unregistered deactivates the device and fails the push for good; a provider that is busy or unreachable
raises a retryable DeliveryError (the notification's backoff retries it); refused credentials fail it.
Device tokens and provider credentials never reach the logs or `last_error`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from flask import current_app

from ...clock import now
from ...extensions import db
from .. import DeliveryError
from .base import WIRE_FIELDS, Push, TokenRejected, close_providers

log = logging.getLogger(__name__)

# The HTTP/2 client logs request URLs at INFO, and its header codec logs headers at DEBUG: an APNs URL holds
# the device token, and the headers the provider credentials. Their warnings still come through.
for _name in ("httpx", "httpcore", "h2", "hpack", "google.auth"):
    logging.getLogger(_name).setLevel(logging.WARNING)

PROVIDERS = ("development", "fcm", "apns", "native")
__all__ = ["PROVIDERS", "close_providers", "provider_for", "send"]
PLATFORMS = {"android", "ios", "web"}


class DevelopmentProvider:
    """Appends each push to instance/push.jsonl (token shortened) instead of sending it."""

    def send(self, push: Push) -> None:
        path = Path(current_app.config["INSTANCE_PATH"]) / "push.jsonl"
        with path.open("a") as file:
            file.write(json.dumps({"platform": push.platform, "token_tail": push.token[-6:], "title": push.title,
                                   "body": push.body, "data": push.data}) + "\n")


def provider_for(name: str, platform: str):
    """The provider that delivers to a device of `platform` under PUSH_PROVIDER `name`."""
    if platform not in PLATFORMS:
        raise DeliveryError(f"no push provider for platform {platform!r}", permanent=True)
    if name == "development":
        return DevelopmentProvider()
    if platform == "web" and name in PROVIDERS:
        from .webpush import provider
        return provider(current_app.config)
    if name == "fcm" or (name == "native" and platform == "android"):
        from .fcm import provider
        return provider(current_app.config)
    if name == "apns" and platform != "ios":
        raise DeliveryError("PUSH_PROVIDER=apns delivers to iOS devices only", permanent=True)
    if name in ("apns", "native"):
        from .apns import provider
        return provider(current_app.config)
    raise DeliveryError(f"no push provider named {name!r} (expected one of {', '.join(PROVIDERS)})",
                        permanent=True)


def send(notification) -> None:
    from ...models import Device

    device = db.session.get(Device, int(notification.destination))
    if device is None or not device.active:
        raise DeliveryError("the device is no longer registered", permanent=True)
    provider = provider_for(current_app.config["PUSH_PROVIDER"], device.platform)
    # Only the fields the design allows leave the server, whatever the notification row holds.
    data = {"delivery_id": notification.delivery_id,
            **{k: notification.data[k] for k in WIRE_FIELDS if notification.data.get(k) is not None}}
    push = Push(platform=device.platform, token=device.token, title=notification.subject, body=notification.body,
                data=data, delivery_id=notification.delivery_id)
    try:
        provider.send(push)
    except TokenRejected as exc:
        # Committed with the failed notification, by the caller; registering the token again reactivates it.
        device.active, device.deactivated_at = False, now()
        log.warning("push: device %s deactivated, the provider reports its token unregistered (%s)",
                    device.id, exc)
        raise DeliveryError("the device is no longer registered with the push service", permanent=True) from None
