"""Diary entries, idempotent on the phone's client_id, with their earlier versions kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import JSONDocument, UTCDateTime, db


class DiaryEntry(db.Model):
    __tablename__ = "diary_entries"
    __table_args__ = (
        UniqueConstraint("trial_id", "client_id"),
        Index("ix_diary_entries_sync", "trial_id", "updated_at", "id"),
        Index("ix_diary_entries_recorded", "trial_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"))
    client_id: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    utc_offset_minutes: Mapped[int]  # the offset the phone sent, to give recorded_at back as recorded
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # every field but client_id, recorded_at
    content_hash: Mapped[str] = mapped_column(String(64))  # of the current version
    original_hash: Mapped[str] = mapped_column(String(64))  # of the first version, for replays
    version: Mapped[int] = mapped_column(default=1)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(Text)
    # The sign-in session that wrote the current version (NULL for entries stored before it was recorded).
    auth_session_id: Mapped[str | None] = mapped_column(ForeignKey("auth_sessions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def recorded_at_local(self) -> datetime:
        """recorded_at with the offset the phone sent it with."""
        return self.recorded_at.astimezone(timezone(timedelta(minutes=self.utc_offset_minutes)))

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    # Not a column: the trial's therapy, when the service that stored or loaded the entry already read it (the new
    # entry's own statement returns it), so that the entry's `late` needs no read of the trial (entry_is_late).
    known_therapy = None

    @property
    def received_at(self) -> datetime:
        """When the server first stored the entry (a correction keeps it): the measure of a timely diary."""
        return self.created_at


class DiaryEntryVersion(db.Model):
    """A version of an entry that a correction replaced."""

    __tablename__ = "diary_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"), index=True)
    version: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    utc_offset_minutes: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    replaced_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    auth_session_id: Mapped[str | None] = mapped_column(ForeignKey("auth_sessions.id"))  # that wrote this version
