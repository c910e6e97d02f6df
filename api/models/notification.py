"""Notifications (one message, one recipient, one channel), clinic webhooks, patients' devices."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import JSONDocument, UTCDateTime, db

# Every cause and channel a notification is written with (services/notifications.py, services/texting.py).
CAUSES = ("alert", "evaluation", "reminder", "digest", "account", "follow_up", "block_reminder", "sign_in_link",
          "reply")
CHANNELS = ("email", "webhook", "push", "sms")
STATES = ("pending", "sent", "failed")
PLATFORMS = ("ios", "android", "web")  # web: a browser with the diary page (Web Push)


class Notification(db.Model):
    """Written in the transaction of its cause; `key` (cause, recipient, channel) makes it happen once."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        # The daily cap of texts counts a patient's texts of the day (destination is the patient's id).
        Index("ix_notifications_sms_patient", "destination", "created_at", sqlite_where=text("channel = 'sms'"),
              postgresql_where=text("channel = 'sms'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trials.id"), index=True)
    cause: Mapped[str] = mapped_column(String(40))  # alert, escalation, evaluation, reminder, digest
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # email, webhook, push, sms
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    destination: Mapped[str] = mapped_column(String(500))  # address, webhook id, device id, patient id (sms)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The provider's id of an accepted text (Twilio's MessageSid) and the last status its callbacks reported:
    # queued, sent, delivered, undelivered, failed.
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    provider_status: Mapped[str | None] = mapped_column(String(20))

    @property
    def delivery_id(self) -> str:
        """Stable across retries: receivers can drop a second copy."""
        return f"td-{self.id}-{self.key_digest}"

    @property
    def key_digest(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Device(db.Model):
    """A patient's phone, or a browser with the diary page. `active` turns false when the push provider reports
    its token unregistered (the app was removed, the token rotated, the subscription ended) or another patient
    registers the same token; registering it again reactivates it. Inactive devices get no pushes."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))  # ios, android, web (the token: a push subscription's JSON)
    token: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """Background work that must not be lost, committed with its cause and swept to workers by beat."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))  # the task name that handles it
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
