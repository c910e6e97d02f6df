"""Alerts raised by the safety rules, and the entries that raised them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import UTCDateTime, db

# expected: a covered firing below high (docs/clinical-rules.md §3 "Expected findings"): told to no one, never
# escalated, not an open alert; it stays expected when acknowledged.
ALERT_STATUSES = ("open", "acknowledged", "expected")


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        # One open alert per trial, rule and local day; a repeat adds to it.
        Index("uq_alerts_open", "trial_id", "rule", "local_day", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        # One live expected alert per trial, rule and local day, likewise.
        Index("uq_alerts_expected", "trial_id", "rule", "local_day", unique=True,
              sqlite_where=text("status = 'expected' AND acknowledged_at IS NULL"),
              postgresql_where=text("status = 'expected' AND acknowledged_at IS NULL")),
        Index("ix_alerts_clinic_status", "clinic_id", "status"),
        Index("ix_alerts_escalation", "escalate_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    local_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, acknowledged, expected
    count: Mapped[int] = mapped_column(default=1)
    first_entry_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entries.id"))
    latest_entry_id: Mapped[int | None] = mapped_column(ForeignKey("diary_entries.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # due time of the unacknowledged escalation
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)


class AlertEntry(db.Model):
    """An entry that fired the alert's rule; the alert's count is the number of these."""

    __tablename__ = "alert_entries"
    __table_args__ = (UniqueConstraint("alert_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ExpectedFinding(db.Model):
    """A safety rule a nurse or physician marked expected for one trial until a time, with the reason; ended early
    by setting `ended_at` (kept, never deleted)."""

    __tablename__ = "expected_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
