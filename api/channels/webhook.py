"""Clinic webhooks: JSON POSTs signed with HMAC-SHA256 over timestamp and body, to public HTTPS only."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

import requests
from flask import current_app

from ..extensions import db
from . import DeliveryError

SIGNATURE_HEADER = "X-TrialDiary-Signature"
DELIVERY_HEADER = "X-TrialDiary-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`; receivers recompute it and compare."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` may not receive webhooks, or None. Checked at registration and again before each send."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "Must be an https:// URL."
    if not parts.hostname:
        return "Must name a host."
    if allow_private:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror:
        return "The host name does not resolve."
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            return "Private, loopback and link-local addresses are not allowed."
    return None


def send(notification) -> None:
    from ..models import Webhook

    hook = db.session.get(Webhook, int(notification.destination))
    if hook is None or not hook.active:
        raise DeliveryError("the webhook was removed", permanent=True)
    config = current_app.config
    if problem := url_problem(hook.url, allow_private=config["WEBHOOK_ALLOW_PRIVATE"]):
        raise DeliveryError(f"webhook address refused: {problem}", permanent=True)
    body = json.dumps({"id": notification.delivery_id, "type": notification.data.get("type", notification.cause),
                       "created_at": notification.created_at.isoformat(), "data": notification.data},
                      sort_keys=True).encode()
    timestamp = int(time.time())
    try:
        response = requests.post(hook.url, data=body, timeout=config["WEBHOOK_TIMEOUT_SECONDS"], allow_redirects=False,
                                 headers={"Content-Type": "application/json", DELIVERY_HEADER: notification.delivery_id,
                                          SIGNATURE_HEADER: signature(hook.secret, timestamp, body)})
    except requests.RequestException as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered {response.status_code}")
