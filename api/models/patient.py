"""Patients and their single-use enrollment codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import now
from ..extensions.database import JSONDocument, UTCDateTime, db
from .clinic import Clinic, User

# Who recorded a patient's consent to texts: staff (on the patient's word), the patient, or a START text.
CONSENT_SOURCES = ("staff", "patient", "diary", "keyword")
# Administrative gender as FHIR R4 and US Core define it, asked at registration; "unknown" when not asked or declined.
GENDERS = ("female", "male", "other", "unknown")

class Patient(db.Model):
    __tablename__ = "patients"
    # One account per person (their email), a record per clinic that registered them: a patient of two clinics has
    # two records, each seen by its own clinic only.
    __table_args__ = (UniqueConstraint("clinic_id", "mrn"),
                      UniqueConstraint("clinic_id", "user_id", name="uq_patients_clinic_id_user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    mrn: Mapped[str] = mapped_column(String(64))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(10), default="unknown", server_default="unknown")  # one of GENDERS
    timezone: Mapped[str] = mapped_column(String(64))
    # What every message to the patient is written in (the diary page, pushes, emails): "en" or "es".
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Up to three short goals in the patient's own words ("walk to the mailbox"), shown beside the result.
    goals: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # When the person first used this record's enrollment code: only then does their sign-in reach this clinic's
    # trials (a second clinic's record joins an account the person already has by their using its code).
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Texts (docs/sms.md): the mobile number in E.164, and the patient's consent with when and how it was given
    # (staff recorded it, the patient ticked it, or texted START). STOP sets sms_opted_out_at until START.
    mobile_number: Mapped[str | None] = mapped_column(String(16), index=True)
    # Who else the clinic may call about the patient (a spouse, a daughter): a name and an E.164 number.
    caregiver_name: Mapped[str | None] = mapped_column(String(200))
    caregiver_phone: Mapped[str | None] = mapped_column(String(16))
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms_consent_source: Mapped[str | None] = mapped_column(String(20))  # one of CONSENT_SOURCES
    sms_consent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Agreed to a block's timepoint texts inside quiet hours (21:00-08:00) too; when, or None.
    sms_block_night_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    clinic: Mapped[Clinic] = relationship()

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def enrolled(self) -> bool:
        """This clinic's record was enrolled: the person used its code (what another clinic did is not shown)."""
        return self.enrolled_at is not None

    @property
    def sms_consent(self) -> bool:
        return self.sms_consent_at is not None

    @property
    def sms_block_night_consent(self) -> bool:
        return self.sms_block_night_consent_at is not None

    @property
    def textable(self) -> bool:
        """A number, consent, and no STOP since: texts may go to this patient."""
        return bool(self.mobile_number) and self.sms_consent_at is not None and self.sms_opted_out_at is None


class EnrollmentCode(db.Model):
    __tablename__ = "enrollment_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256: the code itself is never stored
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # the staff member who issued it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
