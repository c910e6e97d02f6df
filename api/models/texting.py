"""Text messages: what the patients texted back, texts waiting for their time, and sign-in links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import UTCDateTime, db


class InboundMessage(db.Model):
    """A text a patient sent to the clinic's number: a keyword it acted on, or words kept for the care team.

    One row per patient the sending number belongs to (a family phone may be two patients' number); the
    provider's message id makes a webhook the provider sends again harmless.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    keyword: Mapped[str | None] = mapped_column(String(10))  # stop, start, help, call; None: kept for the team
    body: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))  # the call-back a CALL opened
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ScheduledText(db.Model):
    """A text whose time has not come (the evening reminder's follow-up, a text held over quiet hours): a due
    time swept by beat, done once. `stale_at`: past it, the text is dropped rather than sent late."""

    __tablename__ = "scheduled_texts"
    __table_args__ = (Index("ix_scheduled_texts_due", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # follow_up
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    since_at: Mapped[datetime] = mapped_column(UTCDateTime)  # an entry recorded since then makes it unnecessary
    stale_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # sent, skipped, stale, capped, no_consent


class SignInLink(db.Model):
    """A single-use link that opens the patient's diary. Only the token's hash is stored; the text that carries
    it is rendered at sending from `nonce` and the server's secret, so the token is never in the database."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_via: Mapped[str] = mapped_column(String(20))  # patient (typed their number), staff
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
