"""Web Push from a real worker to a local push service (RFC 8030) that checks the VAPID signature (RFC 8292); the
test decrypts the payload (RFC 8291, aes128gcm) with the subscription's private key it made, as the browser would:
the reminder in the patient's language, without patient data. A subscription the service reports gone (410) is
deactivated."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update

from api.channels.push import close_providers, webpush
from api.extensions import db
from api.models import Device, Notification, Patient
from api.services import notifications

from ..diary.helpers import DiaryPage
from ..factories import PASSWORD, ClinicFactory, PatientFactory, TrialFactory, UserFactory
from .conftest import wait_for

pytestmark = pytest.mark.integration


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1: accepts a message for a known subscription whose VAPID token (ES256, signed by
    the key named in `k`) is for this origin and unexpired; 410 for a subscription it was told is gone."""

    def __init__(self):
        self.received: list[dict] = []
        self.gone: set[str] = set()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> PushService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = service.accept(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def accept(self, path: str, headers: dict, body: bytes) -> int:
        name = path.rsplit("/", 1)[-1]
        if name in self.gone:
            return 410
        scheme, _, params = headers.get("authorization", "").partition(" ")
        try:
            fields = dict(part.strip().split("=", 1) for part in params.split(","))
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(fields["k"]))
            claims = jwt.decode(fields["t"], key, algorithms=["ES256"], audience=self.origin,
                                options={"require": ["aud", "exp", "sub"]})
        except (KeyError, ValueError, jwt.InvalidTokenError):
            return 401
        if scheme != "vapid" or headers.get("content-encoding") != "aes128gcm" or "ttl" not in headers:
            return 400
        with self.lock:
            self.received.append({"name": name, "headers": headers, "body": body, "claims": claims, "key": fields["k"]})
        return 201


class Browser:
    """What a browser keeps for one push subscription: its ECDH key pair and auth secret."""

    def __init__(self, endpoint: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"sixteen byte key"
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.subscription = {"endpoint": endpoint, "expirationTime": None,
                             "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def push_service():
    service = PushService().start()
    yield service
    close_providers()
    service.stop()


def test_a_reminder_reaches_the_browser_in_the_patients_language(push_service, pg, workers, tmp_path):
    key_file = tmp_path / "vapid.pem"
    webpush.generate_key(key_file)
    settings = {"PUSH_PROVIDER": "native", "VAPID_PRIVATE_KEY_FILE": str(key_file), "WEB_PUSH_ALLOW_PRIVATE": "true",
                "VAPID_SUBJECT": "mailto:clinic@example.test", "NOTIFICATION_RETRY_BASE_SECONDS": "1"}
    identity = ["Lucía", "Pérez", "L.P.", "MRN-WEB-77"]
    with pg.app_context():
        clinic = ClinicFactory()
        patient = PatientFactory(clinic=clinic, display_name="Lucía Pérez", mrn="MRN-WEB-77", timezone="UTC")
        TrialFactory(patient=patient, care_team=[UserFactory(clinic=clinic)], timezone="UTC")
        db.session.execute(update(Patient).where(Patient.id == patient.id).values(language="es"))
        db.session.commit()
        email = patient.user.email
    identity.append(email)
    browser, gone = Browser(f"{push_service.origin}/push/sub-1"), Browser(f"{push_service.origin}/push/sub-2")
    push_service.gone.add("sub-2")
    page = DiaryPage(pg.test_client())
    assert page.sign_in(email, PASSWORD).status_code == 200
    for subscriber in (browser, gone):
        with pg.app_context():  # WEB_PUSH_ALLOW_PRIVATE for the registration too: the service is on 127.0.0.1
            pg.config["WEB_PUSH_ALLOW_PRIVATE"] = True
            try:
                assert page.post("devices", {"subscription": subscriber.subscription}).status_code == 201
            finally:
                pg.config["WEB_PUSH_ALLOW_PRIVATE"] = False

    with pg.app_context():  # the evening sweep (due: the hour is midnight); the worker's beat delivers
        pg.config["REMINDER_LOCAL_HOUR"] = 0
        try:
            assert notifications.send_evening_reminders() == 2
        finally:
            pg.config["REMINDER_LOCAL_HOUR"] = 19
    workers.start(**settings)

    wait_for(lambda: push_service.received, 90, message="the reminder at the push service")
    message = push_service.received[0]
    assert message["name"] == "sub-1"
    assert message["claims"]["sub"] == "mailto:clinic@example.test"
    assert message["claims"]["exp"] > time.time()
    assert message["key"] == webpush.public_key({"VAPID_PRIVATE_KEY_FILE": str(key_file)})
    payload = browser.decrypt(message["body"])
    assert payload["title"] == "Su diario de la prueba"
    assert payload["body"] == "Todavía no ha anotado nada hoy. Solo toma un minuto."
    assert set(payload["data"]) == {"type", "trial_id", "delivery_id"} and payload["data"]["type"] == "reminder"
    for value in identity:
        assert value not in json.dumps(payload, ensure_ascii=False) and value.encode() not in message["body"]

    def settled():
        with pg.app_context():
            rows = {n.destination: (n.state, n.last_error) for n in db.session.execute(select(Notification))
                    .scalars()}
            devices = {d.id: d.active for d in db.session.execute(select(Device)).scalars()}
            db.session.rollback()
        return rows if len(rows) == 2 and all(state != "pending" for state, _ in rows.values()) else None, devices

    wait_for(lambda: settled()[0], 60, message="both reminders settled")
    rows, devices = settled()
    states = {device_id: rows[str(device_id)] for device_id in devices}
    first, second = sorted(devices)
    assert states[first] == ("sent", None)
    assert states[second][0] == "failed" and "no longer registered" in states[second][1]
    assert devices == {first: True, second: False}
    assert push_service.origin not in states[second][1] and "sub-2" not in states[second][1]
    log = Path(tmp_path / "worker.log").read_text()
    assert "sub-1" not in log and browser.subscription["keys"]["p256dh"] not in log
