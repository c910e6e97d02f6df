"""Clinics (tenants), their users, and sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions.database import UTCDateTime, db

ROLES = ("patient", "nurse", "physician", "admin")
STAFF_ROLES = ("nurse", "physician", "admin")
CARE_ROLES = ("nurse", "physician")


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # What a payer needs on the report's letterhead; set by the clinic's admin.
    address: Mapped[str | None] = mapped_column(Text)
    npi: Mapped[str | None] = mapped_column(String(10))  # the organisation's (type 2) NPI
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str | None] = mapped_column(String(200))
    npi: Mapped[str | None] = mapped_column(String(10))  # a physician's (type 1) NPI: needed to sign a decision
    # NULL until a patient enrolls: such an account cannot sign in.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    clinic: Mapped[Clinic] = relationship()


class AuthSession(db.Model):
    """One sign-in: its access and refresh tokens carry its id, so logout revokes exactly them."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    refresh_jti: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The code a patient's sign-in was opened with at enrollment: who issued it is on the code.
    enrollment_code_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment_codes.id"))
    # "api" (bearer tokens) or "console" (the clinic console's cookie). A console session also ends after
    # a spell of inactivity: last_seen_at is when its user last did something.
    kind: Mapped[str] = mapped_column(String(10), default="api", server_default="api")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
