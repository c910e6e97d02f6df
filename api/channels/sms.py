"""Text messages through a provider chosen by SMS_PROVIDER:

- `development` (the default): appends each text to instance/sms.jsonl; sends nothing.
- `twilio`: Twilio's Messages API over HTTPS (TWILIO_API_BASE, so that tests run against a local server), with
  an API key or the account's auth token, from a messaging service or a number, asking for status callbacks.

A text's notification names the patient (its destination is the patient's id): the number, the consent and the
opt-out are read when it is sent, so a STOP that came after the text was queued is honoured. A text falling in
the patient's quiet hours waits for 08:00 (NotNow), or is dropped when it would be stale by then. Numbers and
bodies never reach the logs or `last_error`: provider errors are reported by status and error code only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
from flask import current_app

from ..clock import now
from ..domain import texting
from ..extensions import db
from . import DeliveryError, NotNow

log = logging.getLogger(__name__)
PROVIDERS = ("development", "twilio")
STATUS_PATH = "/api/v1/sms/twilio/status"
INBOUND_PATH = "/api/v1/sms/twilio/inbound"
# Twilio's errors that say this number will not take this text however often it is sent.
OPTED_OUT_CODES = {21610}


@dataclass(frozen=True)
class Text:
    to: str = field(repr=False)  # never in a log line, even through a repr
    body: str = field(repr=False)
    delivery_id: str


@dataclass(frozen=True)
class Accepted:
    provider_id: str
    status: str


class RecipientOptedOut(DeliveryError):
    """The provider refuses the number because its owner opted out there (a STOP we did not see)."""

    def __init__(self, code: int):
        super().__init__(f"the provider reports the number opted out (error {code})", permanent=True)


class DevelopmentProvider:
    """Appends each text to instance/sms.jsonl instead of sending it."""

    def send(self, text: Text) -> Accepted:
        path = Path(current_app.config["INSTANCE_PATH"]) / "sms.jsonl"
        with path.open("a") as file:
            file.write(json.dumps({"to": text.to, "body": text.body, "delivery_id": text.delivery_id}) + "\n")
        return Accepted(f"dev-{text.delivery_id}", "sent")


class TwilioProvider:
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP basic authentication."""

    def __init__(self, config):
        self.config = config
        if not config["TWILIO_ACCOUNT_SID"]:
            raise DeliveryError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID", permanent=True)
        if config["TWILIO_API_KEY_SID"]:
            self.auth = (config["TWILIO_API_KEY_SID"], config["TWILIO_API_KEY_SECRET"])
        elif config["TWILIO_AUTH_TOKEN"]:
            self.auth = (config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
        else:
            raise DeliveryError("SMS_PROVIDER=twilio needs TWILIO_AUTH_TOKEN or an API key", permanent=True)
        if not (config["TWILIO_MESSAGING_SERVICE_SID"] or config["TWILIO_FROM_NUMBER"]):
            raise DeliveryError("SMS_PROVIDER=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER",
                                permanent=True)

    def send(self, text: Text) -> Accepted:
        config = self.config
        form = {"To": text.to, "Body": text.body}
        if config["TWILIO_MESSAGING_SERVICE_SID"]:
            form["MessagingServiceSid"] = config["TWILIO_MESSAGING_SERVICE_SID"]
        else:
            form["From"] = config["TWILIO_FROM_NUMBER"]
        if config["TWILIO_STATUS_CALLBACKS"]:
            form["StatusCallback"] = public_url(STATUS_PATH)
        url = (f"{config['TWILIO_API_BASE'].rstrip('/')}/2010-04-01/Accounts/{config['TWILIO_ACCOUNT_SID']}"
               "/Messages.json")
        try:
            response = requests.post(url, data=form, auth=self.auth, timeout=config["SMS_TIMEOUT_SECONDS"],
                                     allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable ({type(exc).__name__})") from None
        if response.status_code in (200, 201):
            answer = response.json()
            return Accepted(str(answer["sid"]), str(answer.get("status") or "queued"))
        code = _error_code(response)
        if response.status_code in (401, 403):
            raise DeliveryError(f"Twilio refused the credentials ({response.status_code} {code})", permanent=True)
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(f"Twilio answered {response.status_code}")
        if code in OPTED_OUT_CODES:
            raise RecipientOptedOut(code)
        raise DeliveryError(f"Twilio refused the text ({response.status_code}, error {code})", permanent=True)


def _error_code(response) -> int | str:
    """Twilio's numeric error code; its message may quote the number, so it is never kept."""
    try:
        code = response.json().get("code")
    except ValueError:
        return "none"
    return code if isinstance(code, int) else "none"


def provider_for(name: str):
    if name == "development":
        return DevelopmentProvider()
    if name == "twilio":
        return TwilioProvider(current_app.config)
    raise DeliveryError(f"no SMS provider named {name!r} (expected one of {', '.join(PROVIDERS)})", permanent=True)


def public_url(path: str) -> str:
    """The address Twilio calls (and signs) for `path`: PUBLIC_BASE_URL's, whatever proxy the request came by."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def send(notification) -> None:
    from ..models import Patient, SignInLink

    patient = db.session.get(Patient, int(notification.destination))
    data = notification.data
    moment = now()
    if patient is None or not patient.mobile_number:
        raise DeliveryError("the patient has no mobile number", permanent=True)
    if patient.sms_opted_out_at is not None:
        raise DeliveryError("the patient opted out of texts (STOP)", permanent=True)
    reply = data.get("kind") == "reply"  # an answer to the patient's own text needs no consent and no daylight
    if not reply and patient.sms_consent_at is None:
        raise DeliveryError("the patient has not agreed to texts", permanent=True)
    if not (reply or data.get("night_ok")) and texting.quiet(moment, patient.timezone):
        until = texting.quiet_hours_end(moment, patient.timezone)
        stale = data.get("stale_at")
        if stale is not None and until >= datetime.fromisoformat(stale):
            raise DeliveryError("dropped: the patient's quiet hours lasted past the time it was for", permanent=True)
        raise NotNow(until)
    body = notification.body
    if (link_id := data.get("sign_in_link_id")) is not None:
        link = db.session.get(SignInLink, link_id)
        if link is None or link.used_at is not None or link.expires_at <= moment:
            raise DeliveryError("dropped: the sign-in link expired before it could be sent", permanent=True)
        token = texting.link_token(current_app.config["SECRET_KEY"], link.id, link.nonce)
        body = body.replace(texting.LINK_SLOT, texting.sign_in_url(current_app.config["PUBLIC_BASE_URL"], token))
    provider = provider_for(current_app.config["SMS_PROVIDER"])
    try:
        accepted = provider.send(Text(to=patient.mobile_number, body=body, delivery_id=notification.delivery_id))
    except RecipientOptedOut:
        # Committed with the failed notification, by the caller: the patient texts START to get texts again.
        patient.sms_opted_out_at = moment
        log.warning("sms: patient %s marked opted out, as the provider reports", patient.id)
        raise
    notification.provider_id, notification.provider_status = accepted.provider_id, accepted.status
