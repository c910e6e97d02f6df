"""Clinics (tenants), their users, and sign-in sessions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions.database import UTCDateTime, db

ROLES = ("patient", "nurse", "physician", "admin")
STAFF_ROLES = ("nurse", "physician", "admin")
CARE_ROLES = ("nurse", "physician")


class Clinic(db.Model):
    __tablename__ = "clinics"
    __table_args__ = (UniqueConstraint("public_id", name="uq_clinics_public_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # What a payer needs on the report's letterhead; set by the clinic's admin.
    address: Mapped[str | None] = mapped_column(Text)
    npi: Mapped[str | None] = mapped_column(String(10))  # the organisation's (type 2) NPI
    # E.164. What a HELP text answers with, and the number the diary page's "when to call" dials.
    phone: Mapped[str | None] = mapped_column(String(16))
    # IANA name: the clinic-wide pages (worklist, alerts) read times in it; a trial's own page reads its trial's.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The clinic's name outside this database (never its row id): seeds its FHIR resources' ids and the default
    # system of its MRNs.
    public_id: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    # The assigning authority of its MRNs as its EHR names it (a URI); None: urn:uuid:<public_id>.
    mrn_system: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    @property
    def mrn_identifier_system(self) -> str:
        """The system of its patients' MRNs in FHIR: the one the clinic configured, else one unique to the clinic."""
        return self.mrn_system or f"urn:uuid:{self.public_id}"


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
    # Set when an admin gave a temporary password: the account signs in only to choose its own (the console's
    # password page) until it does; the API refuses it tokens meanwhile.
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=false())
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
    # "api" (bearer tokens), "console" (the clinic console's cookie) or "diary" (the patient's diary page's
    # cookie). A cookie session also ends after a spell of inactivity: last_seen_at is when its user last did
    # something.
    kind: Mapped[str] = mapped_column(String(10), default="api", server_default="api")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
