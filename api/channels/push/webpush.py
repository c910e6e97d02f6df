"""Web Push to the diary page in a browser: RFC 8030 (the push service), RFC 8291 (the payload encrypted to the
subscription's keys, aes128gcm) and RFC 8292 (VAPID: our ES256 key signs a JWT for the push service's origin).

pywebpush encrypts and posts; py-vapid signs. A `web` device's token is the browser's push subscription, JSON
`{"endpoint", "keys": {"p256dh", "auth"}}`. The endpoint is a URL the browser (so the user) gave us: like a
webhook's it must be https on a globally routable host (channels/webhook.py), checked at registration and again
when connecting, unless WEB_PUSH_ALLOW_PRIVATE (development, tests). 404 and 410 mean the subscription is gone:
the device is deactivated. Subscriptions and endpoints never reach the logs or `last_error`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .. import DeliveryError
from ..webhook import AddressRefused, checked_session, url_problem
from .base import Push, TokenRejected, cached_provider

log = logging.getLogger(__name__)
UNREACHABLE = "web push: the push service could not be reached"
TOKEN_DESCRIPTION = ('The browser\'s push subscription as JSON: {"endpoint": "https://...", "keys": {"p256dh": ..., '
                     '"auth": ...}} (PushSubscription.toJSON()).')


# --- subscriptions -------------------------------------------------------------------------------------------

def _b64url(text: Any) -> bytes:
    if not isinstance(text, str) or not text or len(text) > 200:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def subscription(token: str, *, allow_private: bool) -> tuple[str | None, str | None]:
    """(the subscription as stored: canonical JSON, None) or (None, why it cannot receive pushes)."""
    try:
        parsed = json.loads(token)
    except ValueError:
        return None, "Must be a push subscription as JSON."
    if not isinstance(parsed, dict) or not isinstance(parsed.get("endpoint"), str):
        return None, "Must be a push subscription as JSON, with an endpoint."
    endpoint, keys = parsed["endpoint"], parsed.get("keys")
    if len(endpoint) > 2000:
        return None, "The endpoint is too long."
    if problem := url_problem(endpoint, allow_private=allow_private):
        return None, f"The endpoint is not allowed: {problem}"
    if not isinstance(keys, dict):
        return None, "The subscription has no keys (p256dh and auth)."
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url(keys.get("p256dh")))
    except (ValueError, binascii.Error):
        return None, "keys.p256dh must be the browser's P-256 public key, base64url."
    try:
        auth = _b64url(keys.get("auth"))
    except (ValueError, binascii.Error):
        auth = b""
    if len(auth) != 16:
        return None, "keys.auth must be the browser's 16-byte secret, base64url."
    canonical = {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}
    return json.dumps(canonical, sort_keys=True, separators=(",", ":")), None


# --- VAPID keys ----------------------------------------------------------------------------------------------

def generate_key(path: Path) -> bool:
    """Write a new VAPID (P-256) private key to `path` (mode 0600) unless one is there; True when written."""
    if path.exists():
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(pem)
    temporary.chmod(0o600)
    temporary.replace(path)
    return True


def public_key(config) -> str | None:
    """The VAPID public key the page subscribes with (base64url, uncompressed point); None when there is no key."""
    path = Path(config["VAPID_PRIVATE_KEY_FILE"])
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- delivery ------------------------------------------------------------------------------------------------

def provider(config) -> WebPushProvider:
    settings = ("web", config["VAPID_PRIVATE_KEY_FILE"], config["VAPID_SUBJECT"], config["PUSH_TIMEOUT_SECONDS"],
                config["WEB_PUSH_ALLOW_PRIVATE"], config["WEB_PUSH_TTL_SECONDS"])
    return cached_provider(settings, lambda: WebPushProvider(
        key_file=settings[1], subject=settings[2], timeout=settings[3], allow_private=settings[4], ttl=settings[5]))


class WebPushProvider:
    def __init__(self, *, key_file: str, subject: str, timeout: float, allow_private: bool, ttl: int):
        if not Path(key_file).exists():
            raise DeliveryError("web push is not configured: no VAPID key (run `flask web-push-keys`)", permanent=True)
        from py_vapid import Vapid  # here: pywebpush brings aiohttp, which API processes never need

        self.vapid = Vapid.from_file(key_file)
        self.subject, self.timeout, self.allow_private, self.ttl = subject, timeout, allow_private, ttl
        self.session = checked_session(allow_private=allow_private)
        self._signed: dict[str, tuple[float, dict[str, str]]] = {}  # per push service origin

    def close(self) -> None:
        self.session.close()

    def send(self, push: Push) -> None:
        subscription = json.loads(push.token)
        endpoint = subscription["endpoint"]
        if url_problem(endpoint, allow_private=self.allow_private, resolve=False):
            raise TokenRejected("endpoint_not_allowed")
        payload = json.dumps({"title": push.title, "body": push.body, "data": push.data}, separators=(",", ":"))
        # Topic (RFC 8030 §5.4): a retry replaces a copy the push service still holds, instead of adding one.
        headers = {**self._vapid_headers(endpoint), "Urgency": "normal",
                   "Topic": hashlib.sha256(push.delivery_id.encode()).hexdigest()[:32]}
        from pywebpush import WebPusher

        try:
            response = WebPusher(subscription, requests_session=self.session).send(
                payload, headers=headers, ttl=self.ttl, timeout=self.timeout, content_encoding="aes128gcm")
        except AddressRefused:
            raise TokenRejected("endpoint_not_allowed") from None
        except requests.RequestException:
            raise DeliveryError(UNREACHABLE) from None
        status = response.status_code
        if status in (200, 201, 202):
            return
        if status in (404, 410):  # the subscription expired or the user revoked it (RFC 8030 §7.3)
            raise TokenRejected(f"push service answered {status}")
        if status in (401, 403):
            log.error("web push: the push service refused our VAPID credentials (%s)", status)
            raise DeliveryError(f"web push: credentials refused ({status})", permanent=True)
        if status == 429 or status >= 500:
            raise DeliveryError(f"web push: the push service answered {status}")
        raise DeliveryError(f"web push: the push service refused the message ({status})", permanent=True)

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        """VAPID Authorization for the push service's origin, signed once and kept while it has over an hour
        left (RFC 8292 allows up to 24 hours)."""
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        expires, headers = self._signed.get(origin, (0.0, {}))
        if expires - time.time() < 3600:
            expires = int(time.time()) + 12 * 3600
            headers = self.vapid.sign({"sub": self.subject, "aud": origin, "exp": expires})
            self._signed[origin] = (expires, headers)
        return dict(headers)
