"""Local servers that speak the push providers' protocols, with keys and certificates made for the test.

- FcmServer: Google's OAuth2 token endpoint (verifies the RS256 JWT assertion with the service account's
  public key) and FCM HTTP v1 messages:send (checks the bearer token it issued and the message's shape).
- ApnsServer: APNs over HTTP/2 with TLS only (hypercorn, ALPN h2, a certificate signed by a test CA): verifies
  the ES256 provider token with the public key, its kid and iss, and the apns-* headers.

Each answers like the real service to the tokens it is told are unregistered or malformed, and with 503 to
the next `failures` messages. Nothing here reaches the internet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import secrets
import socket
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config

from .conftest import free_port

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # what google-auth puts in `aud`


def _pem_private_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class FcmServer:
    """The token endpoint and messages:send of FCM HTTP v1, over plain HTTP on 127.0.0.1."""

    def __init__(self, folder: Path, project_id: str = "trial-diary-test"):
        self.folder, self.project_id = folder, project_id
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        self.client_email = f"push@{project_id}.iam.gserviceaccount.com"
        self.lock = threading.Lock()
        self.grants: list[dict] = []  # the verified claims of each accepted assertion
        self.issued: set[str] = set()
        self.messages: list[dict] = []  # accepted messages: {"headers", "body", "raw"}
        self.answers: list[int] = []  # the status of every messages:send request, in order
        self.unregistered: set[str] = set()
        self.malformed: set[str] = set()
        self.failures = 0
        self.expires_in = 3599  # seconds, as Google's token endpoint answers
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def service_account_file(self, key=None, name: str = "service-account.json") -> Path:
        """A service-account JSON as Google issues it, with token_uri on this server; `key` another key."""
        path = self.folder / name
        path.write_text(json.dumps({
            "type": "service_account", "project_id": self.project_id, "private_key_id": self.key_id,
            "private_key": _pem_private_key(key or self.key).decode(), "client_email": self.client_email,
            "client_id": "1234567890", "token_uri": f"{self.url}/token",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        }))
        return path

    def start(self) -> FcmServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()

    # --- protocol ---

    def token(self, form: dict[str, list[str]]) -> tuple[int, dict]:
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type"}
        assertion = form["assertion"][0]
        try:
            if jwt.get_unverified_header(assertion).get("kid") != self.key_id:
                raise jwt.InvalidTokenError("kid")
            claims = jwt.decode(assertion, self.key.public_key(), algorithms=["RS256"],
                                audience=[GOOGLE_TOKEN_AUDIENCE, f"{self.url}/token"], issuer=self.client_email,
                                options={"require": ["iss", "aud", "iat", "exp", "scope"]})
        except jwt.InvalidTokenError:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if FCM_SCOPE not in claims["scope"].split():
            return 400, {"error": "invalid_scope"}
        access_token = secrets.token_urlsafe(32)
        with self.lock:
            self.grants.append(claims)
            self.issued.add(access_token)
        return 200, {"access_token": access_token, "expires_in": self.expires_in, "token_type": "Bearer"}

    def send(self, path: str, headers, raw: bytes) -> tuple[int, dict]:
        if path != f"/v1/projects/{self.project_id}/messages:send":
            return 404, {"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}}
        scheme, _, access_token = (headers.get("Authorization") or "").partition(" ")
        if scheme != "Bearer" or access_token not in self.issued:
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                   "status": "UNAUTHENTICATED"}}
        try:
            message = json.loads(raw)["message"]
            token = message["token"]
            assert isinstance(token, str) and token
            assert isinstance(message["notification"]["title"], str)
            assert isinstance(message["notification"]["body"], str)
            assert all(isinstance(v, str) for v in message.get("data", {}).values())  # FCM: strings only
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        with self.lock:
            if self.failures:
                self.failures -= 1
                return 503, {"error": {"code": 503, "message": "The service is currently unavailable.",
                                       "status": "UNAVAILABLE"}}
        if token in self.unregistered:
            return 404, _fcm_error(404, "UNREGISTERED", "Requested entity was not found.", status="NOT_FOUND")
        if token in self.malformed:
            reason = "The registration token is not a valid FCM registration token"
            error = _fcm_error(400, "INVALID_ARGUMENT", reason)
            error["error"]["details"].append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                                              "fieldViolations": [{"field": "message.token", "description": reason}]})
            return 400, error
        with self.lock:
            self.messages.append({"headers": dict(headers), "body": json.loads(raw), "raw": raw})
        return 200, {"name": f"projects/{self.project_id}/messages/{uuid.uuid4().int % 10**16}"}

    def _handler(self):
        fcm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    status, answer = fcm.token(parse_qs(raw.decode()))
                else:
                    status, answer = fcm.send(self.path, self.headers, raw)
                    with fcm.lock:
                        fcm.answers.append(status)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler


def _fcm_error(code: int, error_code: str, message: str, status: str = "INVALID_ARGUMENT") -> dict:
    return {"error": {"code": code, "message": message, "status": status, "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}]}}


class ApnsServer:
    """APNs' /3/device/{token} over HTTP/2 and TLS, on 127.0.0.1 with a certificate from a test CA."""

    def __init__(self, folder: Path, topic: str = "test.trialdiary.patient"):
        self.folder, self.topic = folder, topic
        self.key_id, self.team_id = "KEY4TEST01", "TEAM4TEST1"
        self.signing_key = ec.generate_private_key(ec.SECP256R1())
        self.key_file = folder / f"AuthKey_{self.key_id}.p8"
        self.key_file.write_bytes(_pem_private_key(self.signing_key))
        self.ca_file, cert_file, tls_key_file = _certificates(folder)
        self.port = free_port()
        self.config = Config()
        self.config.bind = [f"127.0.0.1:{self.port}"]
        self.config.certfile, self.config.keyfile = str(cert_file), str(tls_key_file)
        self.config.alpn_protocols = ["h2"]  # APNs speaks HTTP/2 only
        self.config.errorlog = None
        self.config.graceful_timeout = 0.2  # the clients keep their connection open: do not wait for them
        self.lock = threading.Lock()
        self.received: list[dict] = []  # accepted pushes: {"token", "headers", "payload", "raw", "claims"}
        self.answers: list[tuple[int, str]] = []  # (status, reason) of every request, in order
        self.provider_tokens: set[str] = set()
        self.unregistered: set[str] = set()
        self.malformed: set[str] = set()
        self.failures = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shutdown: asyncio.Event | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> ApnsServer:
        ready = threading.Event()

        async def main():
            self.loop, self.shutdown = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await serve(self.app, self.config, shutdown_trigger=self.shutdown.wait)

        self.thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
        self.thread.start()
        ready.wait(10)
        probe = ssl.create_default_context(cafile=str(self.ca_file))
        probe.set_alpn_protocols(["h2"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:  # a whole TLS handshake, so that the server is not left waiting for one
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw:
                    with probe.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                        assert tls.selected_alpn_protocol() == "h2"
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the APNs test server did not start")

    def stop(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.shutdown.set)
            self.thread.join(10)

    # --- protocol ---

    def handle(self, scope, raw: bytes) -> tuple[int, str]:
        if scope["http_version"] != "2" or scope["method"] != "POST" or not scope["path"].startswith("/3/device/"):
            return 404, "BadPath"
        token = unquote(scope["path"].removeprefix("/3/device/"))
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        scheme, _, provider_token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not provider_token:
            return 403, "MissingProviderToken"
        try:
            header = jwt.get_unverified_header(provider_token)
            claims = jwt.decode(provider_token, self.signing_key.public_key(), algorithms=["ES256"],
                                options={"require": ["iss", "iat"], "verify_aud": False})
            if header.get("kid") != self.key_id or claims["iss"] != self.team_id:
                raise jwt.InvalidTokenError("kid or iss")
        except jwt.InvalidTokenError:
            return 403, "InvalidProviderToken"
        if not time.time() - 3600 <= claims["iat"] <= time.time() + 60:
            return 403, "ExpiredProviderToken"
        if headers.get("apns-topic") != self.topic:
            return 400, "BadTopic"
        if headers.get("apns-push-type") != "alert":
            return 400, "InvalidPushType"
        try:
            if str(uuid.UUID(headers.get("apns-id", ""))) != headers["apns-id"]:
                raise ValueError
        except ValueError:
            return 400, "BadMessageId"
        try:
            payload = json.loads(raw)
            alert = payload["aps"]["alert"]
            assert isinstance(alert["title"], str) and isinstance(alert["body"], str)
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, "PayloadEmpty"
        with self.lock:
            if self.failures:
                self.failures -= 1
                return 503, "ServiceUnavailable"
        if token in self.unregistered:
            return 410, "Unregistered"
        if token in self.malformed:
            return 400, "BadDeviceToken"
        with self.lock:
            self.provider_tokens.add(provider_token)
            self.received.append({"token": token, "headers": headers, "payload": payload, "raw": raw,
                                  "claims": claims})
        return 200, ""

    async def app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw, more = b"", True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        status, reason = self.handle(scope, raw)
        with self.lock:
            self.answers.append((status, reason))
        apns_id = dict(scope["headers"]).get(b"apns-id", str(uuid.uuid4()).encode())
        body = b"" if status == 200 else json.dumps(
            {"reason": reason, **({"timestamp": int(time.time() * 1000)} if status == 410 else {})}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"apns-id", apns_id), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signed for 127.0.0.1 and localhost: (ca, cert, key) files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trial Diary test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "apns-ca.pem", folder / "apns-server.pem", folder / "apns-server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_private_key(key))
    return paths
