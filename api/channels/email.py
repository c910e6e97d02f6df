"""Email over SMTP, or into instance/mail/ as .eml files when no SMTP host is configured (development)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from flask import current_app

from . import DeliveryError


def message_of(notification) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = notification.destination
    message["Subject"] = notification.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{notification.delivery_id}@trial-diary>"
    message["X-TrialDiary-Delivery"] = notification.delivery_id
    message.set_content(notification.body)
    return message


def send(notification) -> None:
    config = current_app.config
    message = message_of(notification)
    if not config["SMTP_HOST"]:
        folder = Path(config["INSTANCE_PATH"]) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{notification.delivery_id}.eml").write_bytes(bytes(message))
        return
    try:
        if config["SMTP_SSL"]:
            client = smtplib.SMTP_SSL(config["SMTP_HOST"], config["SMTP_PORT"],
                                      timeout=config["SMTP_TIMEOUT_SECONDS"], context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT_SECONDS"])
        with client:
            if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
                client.starttls(context=ssl.create_default_context())
            if config["SMTP_USER"]:
                client.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError("the mail server refused the recipient", permanent=True) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP: {type(exc).__name__}") from exc
