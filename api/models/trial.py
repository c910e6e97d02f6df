"""Trials and their care teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..domain.blocks import schedule as block_schedule
from ..domain.protocol import effective_protocol
from ..domain.therapies import therapy
from ..domain.trial_status import trial_status
from ..extensions.database import JSONDocument, UTCDateTime, db
from .clinic import Clinic, User
from .patient import Patient


class Trial(db.Model):
    __tablename__ = "trials"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    therapy: Mapped[str] = mapped_column(String(20))
    device: Mapped[str | None] = mapped_column(String(200))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    baseline: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    protocol_overrides: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # Blocks only (docs/blocks.md): {"region", "side", "levels"} and the local anaesthetic.
    target: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    agent: Mapped[str | None] = mapped_column(String(20))
    # NULL while the diary is open; "decided" or "cancelled" once it is closed for good.
    closure: Mapped[str | None] = mapped_column(String(20))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    patient: Mapped[Patient] = relationship(lazy="joined")
    clinic: Mapped[Clinic] = relationship()
    care_team_members: Mapped[list[CareTeamMember]] = relationship(cascade="all, delete-orphan")

    @property
    def protocol(self) -> dict[str, Any]:
        return effective_protocol(self.therapy, self.protocol_overrides, self.agent)

    @property
    def is_block(self) -> bool:
        return therapy(self.therapy).is_block

    @property
    def schedule(self) -> list[datetime] | None:
        """The block diary's expected times (+15, +30, +45, +60 min, then hourly to end_at); None otherwise."""
        return block_schedule(self.start_at, self.end_at) if self.is_block else None

    @property
    def care_team(self) -> list[int]:
        return sorted(m.user_id for m in self.care_team_members)

    def status_at(self, moment: datetime) -> str:
        return trial_status(start_at=self.start_at, end_at=self.end_at, closure=self.closure, moment=moment)

    @property
    def status(self) -> str:
        return self.status_at(now())

    @property
    def diary_open(self) -> bool:
        return self.closure is None


class CareTeamMember(db.Model):
    __tablename__ = "care_team_members"

    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)

    user: Mapped[User] = relationship()


class BlockReminder(db.Model):
    """A due time of a block diary's push reminder (one per scheduled timepoint), swept by beat.

    `previous_at` is the scheduled time before it (the block itself for the first): an entry recorded since
    then makes the reminder unnecessary. `done_at` is set once it was sent or found unnecessary.
    """

    __tablename__ = "block_reminders"
    __table_args__ = (UniqueConstraint("trial_id", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    previous_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # sent, skipped (an entry came), stale, closed
