"""Patients and their single-use enrollment codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions.database import UTCDateTime, db
from .clinic import Clinic, User


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "mrn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    mrn: Mapped[str] = mapped_column(String(64))
    date_of_birth: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    user: Mapped[User] = relationship()
    clinic: Mapped[Clinic] = relationship()

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def enrolled(self) -> bool:
        return self.user.password_hash is not None


class EnrollmentCode(db.Model):
    __tablename__ = "enrollment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256: the code itself is never stored
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the staff member who issued it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
