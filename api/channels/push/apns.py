"""Apple Push Notification service: HTTP/2 POST {APNS_ENDPOINT}/3/device/{token}, token-based auth.

The provider token is an ES256 JWT (header kid = APNS_KEY_ID, claims iss = APNS_TEAM_ID and iat) signed with
the .p8 key in APNS_KEY_FILE (PyJWT with cryptography). Apple refuses one older than an hour and one
refreshed more often than every 20 minutes: each process signs one and keeps it for 50 minutes. httpx
speaks HTTP/2 only here (APNs has no HTTP/1.1), over one kept-alive connection per process.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .. import DeliveryError
from .base import Push, TokenRejected, cached_provider, reason_code

log = logging.getLogger(__name__)
TOKEN_LIFETIME_SECONDS = 50 * 60


def provider(config) -> ApnsProvider:
    names = ("APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC", "APNS_ENDPOINT", "APNS_CA_FILE",
             "PUSH_TIMEOUT_SECONDS")
    settings = tuple(config[name] for name in names)
    return cached_provider(("apns", *settings), lambda: ApnsProvider(*settings))


class ApnsProvider:
    def __init__(self, key_file: str, key_id: str, team_id: str, topic: str, endpoint: str, ca_file: str,
                 timeout: float):
        missing = [name for name, value in (("APNS_KEY_FILE", key_file), ("APNS_KEY_ID", key_id),
                                            ("APNS_TEAM_ID", team_id), ("APNS_TOPIC", topic)) if not value]
        if missing:
            raise DeliveryError(f"APNs is not configured: set {', '.join(missing)}", permanent=True)
        try:
            key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise DeliveryError(f"APNS_KEY_FILE is not a readable .p8 key ({type(exc).__name__})",
                                permanent=True) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DeliveryError("APNS_KEY_FILE is not an elliptic-curve (ES256) key", permanent=True)
        try:
            verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"APNS_CA_FILE cannot be read ({type(exc).__name__})", permanent=True) from None
        self.key, self.key_id, self.team_id, self.topic = key, key_id, team_id, topic
        self.endpoint = endpoint.rstrip("/")
        self.client = httpx.Client(http1=False, http2=True, verify=verify, timeout=timeout)
        self.lock = threading.Lock()
        self._token: str | None = None
        self._signed_at = 0.0

    def close(self) -> None:
        self.client.close()

    def send(self, push: Push) -> None:
        headers = {
            "authorization": f"bearer {self._provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-id": push.uuid,  # the same on every retry of this notification
            # A retry that reaches a phone still showing the first copy replaces it instead of adding one.
            "apns-collapse-id": push.delivery_id,
        }
        payload = {"aps": {"alert": {"title": push.title, "body": push.body}, "sound": "default"}, **push.data}
        # The token comes from the phone: quoted, it cannot change the path.
        url = f"{self.endpoint}/3/device/{quote(push.token, safe='')}"
        try:
            response = self.client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"APNs unreachable ({type(exc).__name__})") from None
        status = response.status_code
        if status == 200:
            return
        try:
            reason = reason_code(response.json().get("reason"))
        except (ValueError, AttributeError):
            reason = reason_code("")
        if status == 410 or (status == 400 and reason == "BadDeviceToken"):
            raise TokenRejected(f"APNs {status} {reason}")
        if status == 429 or status >= 500:
            raise DeliveryError(f"APNs busy or failing ({status} {reason})")
        if status == 403:
            # Sign a new token for the next message only when this one expired: re-signing on every refusal
            # would itself be refused (TooManyProviderTokenUpdates).
            if reason == "ExpiredProviderToken":
                with self.lock:
                    self._token = None
            log.error("push: APNs refused our credentials (%s %s): check APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID",
                      status, reason)
            raise DeliveryError(f"APNs refused the credentials ({status} {reason})", permanent=True)
        raise DeliveryError(f"APNs refused the message ({status} {reason})", permanent=True)

    def _provider_token(self) -> str:
        with self.lock:
            if self._token is None or time.monotonic() - self._signed_at >= TOKEN_LIFETIME_SECONDS:
                self._token = jwt.encode({"iss": self.team_id, "iat": int(time.time())}, self.key,
                                         algorithm="ES256", headers={"kid": self.key_id})
                self._signed_at = time.monotonic()
            return self._token
