"""A local server that speaks Twilio's Messages API (the create call), and plays Twilio's part in the callbacks:
it signs delivery status callbacks and inbound messages exactly as Twilio does (HMAC-SHA1 of the full URL and the
sorted form parameters with the account's auth token, base64), through the twilio library's own signer.

It checks HTTP basic authentication with the account SID and auth token, and the form a create call sends; it
answers 503 to the next `failures` calls and can be stopped and started again on the same port."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator

from .conftest import free_port


class TwilioServer:
    def __init__(self, account_sid: str = "AC" + "1" * 32, auth_token: str = "twilio-test-auth-token-0123456789"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.port = free_port()
        self.messages: list[dict] = []  # accepted: {"sid", "To", "Body", "From", "StatusCallback", ...}
        self.refused: list[int] = []
        self.failures = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **extra: str) -> dict[str, str]:
        """The environment that points the app at this server."""
        return {"SMS_PROVIDER": "twilio", "TWILIO_API_BASE": self.url, "TWILIO_ACCOUNT_SID": self.account_sid,
                "TWILIO_AUTH_TOKEN": self.auth_token, "TWILIO_FROM_NUMBER": "+12015550199", **extra}

    def start(self) -> TwilioServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # the test's output stays quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                expected = f"/2010-04-01/Accounts/{owner.account_sid}/Messages.json"
                credentials = base64.b64encode(f"{owner.account_sid}:{owner.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {credentials}":
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if urlsplit(self.path).path != expected:
                    return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
                with owner.lock:
                    if owner.failures:
                        owner.failures -= 1
                        return self._answer(503, {"code": 20503, "message": "Service unavailable"})
                if not form.get("To", "").startswith("+") or not form.get("Body") or not (
                        form.get("From") or form.get("MessagingServiceSid")):
                    return self._answer(400, {"code": 21211, "message": f"The 'To' number {form.get('To')} is "
                                                                       "not a valid phone number."})
                sid = "SM" + uuid.uuid4().hex
                with owner.lock:
                    owner.messages.append({"sid": sid, **form})
                return self._answer(201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"],
                                          "account_sid": owner.account_sid, "num_segments": "1"})

            def _answer(self, status: int, payload: dict):
                if status >= 400:
                    owner.refused.append(status)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def to(self, number: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["To"] == number]

    # --- Twilio's calls to the app, signed as Twilio signs them ------------------------------------------------

    def signed_post(self, client, url: str, form: dict, *, token: str | None = None):
        """POST `form` to the app at `url` (the public address Twilio was given) with Twilio's signature."""
        signature = RequestValidator(token or self.auth_token).compute_signature(url, form)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    def status_callback(self, client, message: dict, status: str, error_code: str | None = None, **kwargs):
        form = {"MessageSid": message["sid"], "SmsSid": message["sid"], "MessageStatus": status,
                "SmsStatus": status, "AccountSid": self.account_sid, "To": message["To"],
                "From": message.get("From", ""), "ApiVersion": "2010-04-01"}
        if error_code:
            form["ErrorCode"] = error_code
        return self.signed_post(client, message["StatusCallback"], form, **kwargs)

    def inbound(self, client, public_base: str, number: str, body: str, **kwargs):
        sid = "SM" + uuid.uuid4().hex
        form = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid, "From": number,
                "To": "+12015550199", "Body": body, "NumMedia": "0", "NumSegments": "1", "FromCountry": "US"}
        return self.signed_post(client, f"{public_base}/api/v1/sms/twilio/inbound", form, **kwargs)
