"""What a push provider is given, and how it reports a dead token."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import DeliveryError

# The notification fields a push may carry to the phone (plus its delivery id): the app opens the trial and
# signs in to show the rest.
WIRE_FIELDS = ("type", "trial_id")
# Fixed namespace: a delivery id always maps to the same APNs id, so a retry carries the same one.
_APNS_ID_NAMESPACE = uuid.UUID("6f1c8e2a-4a9b-5d7e-9c3f-2b8a1d0e7f64")


@dataclass(frozen=True)
class Push:
    platform: str  # ios, android
    token: str = field(repr=False)  # never in a log line, even through a repr
    title: str
    body: str
    data: dict[str, Any]
    delivery_id: str

    @property
    def uuid(self) -> str:
        """The delivery id as a UUID (APNs wants one in apns-id), the same on every retry."""
        return str(uuid.uuid5(_APNS_ID_NAMESPACE, self.delivery_id))


class TokenRejected(DeliveryError):
    """The provider says this device token will never work again (app removed, token rotated or malformed).
    The message names the provider's reason code only, never the token."""

    def __init__(self, reason: str):
        super().__init__(reason, permanent=True)


def reason_code(value: object) -> str:
    """A provider's error code, safe to log: letters, digits and underscores, at most 40 of them."""
    text = value if isinstance(value, str) else ""
    return "".join(c for c in text if c.isalnum() or c == "_")[:40] or "no reason given"


_providers: dict[tuple, Any] = {}
_providers_lock = threading.Lock()


def cached_provider(settings: tuple, make: Callable[[], Any]) -> Any:
    """One provider per process and settings: it keeps its credentials and connection between pushes. Keyed by
    process too, so that a connection made before a fork is never shared by the children."""
    key = (os.getpid(), *settings)
    with _providers_lock:
        if key not in _providers:
            _providers[key] = make()  # a configuration error raises here, and nothing is kept
        return _providers[key]


def close_providers() -> None:
    """Close every provider's connections (a process shutting down, a test stopping its servers)."""
    with _providers_lock:
        for provider in _providers.values():
            provider.close()
        _providers.clear()
