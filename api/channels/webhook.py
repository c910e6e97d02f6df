"""Clinic webhooks: JSON POSTs signed with HMAC-SHA256 over timestamp and body, to public HTTPS only.

Only globally routable addresses receive webhooks (a cloud's metadata service, shared address space, 6to4 or
Teredo wrappings of private addresses are not): the URL's host is checked when the admin registers it, and
again when a delivery connects. The delivery resolves the name itself, connects only to an allowed address
and checks the connected peer, so a name that resolves to a public address at registration and to a private
one later (DNS rebinding) reaches nothing. Redirects are not followed: a 3xx is a failed delivery.
WEBHOOK_ALLOW_PRIVATE (development, tests) lifts the address rule.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection

from ..extensions import db
from . import DeliveryError

SIGNATURE_HEADER = "X-TrialDiary-Signature"
DELIVERY_HEADER = "X-TrialDiary-Delivery"
# What a nurse reads when a delivery could not connect: nothing about what listens where.
UNREACHABLE = "webhook: the endpoint could not be reached"
NOT_ALLOWED = "Only publicly routable addresses may receive webhooks."


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`; receivers recompute it and compare."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# IPv6 forms that carry an IPv4 address in their last 32 bits: IPv4-compatible, IPv4-translated and NAT64.
_LOW_32_BITS_IPV4 = tuple(ipaddress.ip_network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96",
                                                             "64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None] + list(ip.teredo or ())
    if any(ip in network for network in _LOW_32_BITS_IPV4):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_allowed(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address, and so is every IPv4 address that an IPv6 one wraps."""
    ip = ipaddress.ip_address(address.split("%")[0] if isinstance(address, str) else address)
    if ip.is_multicast or not ip.is_global:
        return False
    return ip.version == 4 or all(address_allowed(v4) for v4 in _embedded_ipv4(ip))


def url_problem(url: str, *, allow_private: bool, resolve: bool = True) -> str | None:
    """Why `url` may not receive webhooks, or None. With `resolve`, every address of its host name is checked."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError:
        return "Must be a valid URL."
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return "Must be an https:// URL."
    if not hostname:
        return "Must name a host."
    if allow_private:
        return None
    try:
        literal = ipaddress.ip_address(hostname)
    except ValueError:
        literal = None
    if literal is not None:
        return None if address_allowed(literal) else NOT_ALLOWED
    if not resolve:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(hostname, port or 443, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        return "The host name does not resolve."
    return None if all(address_allowed(a) for a in addresses) else NOT_ALLOWED


class AddressRefused(Exception):
    """The host name resolved to no allowed address. Not an OSError, so that urllib3 neither retries nor wraps it."""


class _CheckedConnection:
    """Connects only to an address that address_allowed() accepts, and checks the peer it is connected to.

    TLS still verifies the certificate against the host name (urllib3 uses `self.host` for it).
    """

    allow_private = False

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        allowed = [info for info in infos if self.allow_private or address_allowed(info[4][0])]
        if not allowed:
            raise AddressRefused(NOT_ALLOWED)
        error: OSError | None = None
        for info in allowed:
            try:  # an address literal: urllib3 applies the timeout, socket options and source address
                sock = connection.create_connection((info[4][0], self.port), self.timeout,
                                                    source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except OSError as exc:
                error = exc
                continue
            if not (self.allow_private or address_allowed(sock.getpeername()[0])):
                sock.close()
                raise AddressRefused(NOT_ALLOWED)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error


@lru_cache(maxsize=2)
def _pool_classes(allow_private: bool) -> dict[str, type]:
    http = type("CheckedHTTPConnection", (_CheckedConnection, HTTPConnection), {"allow_private": allow_private})
    https = type("CheckedHTTPSConnection", (_CheckedConnection, HTTPSConnection), {"allow_private": allow_private})
    return {"http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https})}


class _CheckedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.allow_private)


def checked_session(*, allow_private: bool) -> requests.Session:
    """A requests session whose connections go only to allowed addresses; no proxy from the environment."""
    session = requests.Session()
    session.trust_env = False  # a proxy would connect on our behalf, past the address check
    adapter = _CheckedAdapter(allow_private)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def send(notification) -> None:
    from ..models import Webhook

    hook = db.session.get(Webhook, int(notification.destination))
    if hook is None or not hook.active:
        raise DeliveryError("the webhook was removed", permanent=True)
    config = current_app.config
    allow_private = config["WEBHOOK_ALLOW_PRIVATE"]
    if problem := url_problem(hook.url, allow_private=allow_private, resolve=False):
        raise DeliveryError(f"webhook address refused: {problem}", permanent=True)
    body = json.dumps({"id": notification.delivery_id, "type": notification.data.get("type", notification.cause),
                       "created_at": notification.created_at.isoformat(), "data": notification.data},
                      sort_keys=True).encode()
    timestamp = int(time.time())
    try:
        with checked_session(allow_private=allow_private) as session:
            response = session.post(
                hook.url, data=body, timeout=config["WEBHOOK_TIMEOUT_SECONDS"], allow_redirects=False,
                headers={"Content-Type": "application/json", DELIVERY_HEADER: notification.delivery_id,
                         SIGNATURE_HEADER: signature(hook.secret, timestamp, body)})
    except AddressRefused as exc:
        raise DeliveryError(f"webhook address refused: {NOT_ALLOWED}", permanent=True) from exc
    except requests.RequestException as exc:
        raise DeliveryError(UNREACHABLE) from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered {response.status_code}")
