"""Firebase Cloud Messaging, HTTP v1 API: POST {FCM_ENDPOINT}/v1/projects/{project}/messages:send.

Credentials: an OAuth2 access token for the service account in FCM_SERVICE_ACCOUNT_FILE, obtained and
refreshed by google-auth (Google's own library: it signs the RS256 JWT assertion, posts it to the account's
`token_uri` with the jwt-bearer grant, and keeps the token until shortly before it expires). One provider
per process holds the token and a keep-alive HTTP client.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from urllib.parse import quote

import google.auth.transport.requests
import httpx
import requests
from google.auth import exceptions as auth_errors
from google.oauth2 import service_account

from .. import DeliveryError
from .base import Push, TokenRejected, cached_provider, reason_code

log = logging.getLogger(__name__)
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def provider(config) -> FcmProvider:
    settings = ("fcm", config["FCM_SERVICE_ACCOUNT_FILE"], config["FCM_PROJECT_ID"], config["FCM_ENDPOINT"],
                config["PUSH_TIMEOUT_SECONDS"])
    return cached_provider(settings, lambda: FcmProvider(
        service_account_file=settings[1], project_id=settings[2], endpoint=settings[3], timeout=settings[4]))


class _TokenRequest(google.auth.transport.requests.Request):
    """google-auth's requests transport, with our timeout instead of its two minutes."""

    def __init__(self, timeout: float):
        super().__init__(requests.Session())
        self.timeout = timeout

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        return super().__call__(url, method=method, body=body, headers=headers, timeout=self.timeout, **kwargs)


class FcmProvider:
    def __init__(self, *, service_account_file: str, project_id: str, endpoint: str, timeout: float):
        if not service_account_file:
            raise DeliveryError("FCM is not configured: set FCM_SERVICE_ACCOUNT_FILE", permanent=True)
        try:
            info = json.loads(Path(service_account_file).read_text())
            self.credentials = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
        except (OSError, ValueError, TypeError, AttributeError) as exc:  # google-auth: ValueError when malformed
            raise DeliveryError(f"FCM_SERVICE_ACCOUNT_FILE is not a readable service-account key "
                                f"({type(exc).__name__})", permanent=True) from None
        project = project_id or info.get("project_id")
        if not project:
            raise DeliveryError("FCM project unknown: set FCM_PROJECT_ID", permanent=True)
        self.url = f"{endpoint.rstrip('/')}/v1/projects/{quote(project, safe='')}/messages:send"
        self.token_request = _TokenRequest(timeout)
        self.client = httpx.Client(http2=True, timeout=timeout)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.client.close()
        self.token_request.session.close()

    def send(self, push: Push) -> None:
        message = {
            "token": push.token,
            "notification": {"title": push.title, "body": push.body},
            "data": {key: str(value) for key, value in push.data.items()},  # FCM data values are strings
            # A retry that reaches a phone still holding the first copy replaces it instead of showing two.
            "android": {"priority": "high", "collapse_key": push.delivery_id},
            "apns": {"headers": {"apns-collapse-id": push.delivery_id}},
        }
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        try:
            response = self.client.post(self.url, json={"message": message}, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"FCM unreachable ({type(exc).__name__})") from None
        if response.status_code == 200:
            return
        status = response.status_code
        code, names_the_token = _error(response)
        if status == 404 and code == "UNREGISTERED":
            raise TokenRejected(f"FCM {status} {code}")
        # INVALID_ARGUMENT is also what a malformed message gets: only a violation on message.token says the
        # token itself is bad (and our messages are built here, so that is the one FCM can mean).
        if status == 400 and code == "INVALID_ARGUMENT" and names_the_token:
            raise TokenRejected(f"FCM {status} {code} (message.token)")
        if status == 429 or status >= 500:
            raise DeliveryError(f"FCM busy or failing ({status} {code})")
        if status in (401, 403):
            if status == 401:
                with self.lock:
                    self.credentials.token = None  # fetch a new access token for the next message
            log.error("push: FCM refused our credentials (%s %s): check the service account and FCM_PROJECT_ID",
                      status, code)
            raise DeliveryError(f"FCM refused the credentials ({status} {code})", permanent=True)
        raise DeliveryError(f"FCM refused the message ({status} {code})", permanent=True)

    def _access_token(self) -> str:
        with self.lock:
            if not self.credentials.valid:  # none yet, or expiring within google-auth's margin (minutes)
                try:
                    self.credentials.refresh(self.token_request)
                except auth_errors.TransportError:
                    raise DeliveryError("FCM token endpoint unreachable") from None
                except auth_errors.RefreshError as exc:
                    code = reason_code(exc.args[1].get("error") if len(exc.args) > 1 and isinstance(
                        exc.args[1], dict) else "")
                    if exc.retryable:
                        raise DeliveryError(f"FCM token endpoint busy or failing ({code})") from None
                    log.error("push: the FCM token endpoint refused the service account (%s)", code)
                    raise DeliveryError(f"FCM refused the service account ({code})", permanent=True) from None
            return self.credentials.token


def _error(response: httpx.Response) -> tuple[str, bool]:
    """FCM's error code (the FcmError errorCode, else the status) and whether it names message.token."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return reason_code(""), False
    details = [d for d in error.get("details") or () if isinstance(d, dict)]
    code = next((d["errorCode"] for d in details if d.get("errorCode")), error.get("status"))
    names_the_token = any(isinstance(v, dict) and v.get("field") == "message.token"
                          for d in details for v in d.get("fieldViolations") or ())
    return reason_code(code), names_the_token
