"""Patients: created by the care team with a single-use enrollment code for the phone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from ..clock import now
from ..errors import Conflict
from ..extensions import db
from ..models import EnrollmentCode, Patient, User
from . import audit
from .access import Actor
from .auth import enrollment_code_hash

# No 0/O, 1/I/L: read aloud or typed by an elderly patient from a printed sheet.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class NewPatient:
    patient: Patient
    enrollment_code: str
    enrollment_code_expires_at: object


def create_patient(
    *, staff: Actor, display_name: str, mrn: str, date_of_birth: date, email: str, timezone: str
) -> NewPatient:
    email = email.strip().lower()
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict("An account with this email already exists.", errors={"email": ["Already in use."]})
    if db.session.execute(
        select(Patient.id).where(Patient.clinic_id == staff.clinic_id, Patient.mrn == mrn)
    ).first():
        raise Conflict("A patient with this MRN already exists.", errors={"mrn": ["Already in use."]})
    user = User(clinic_id=staff.clinic_id, email=email, role="patient", password_hash=None)
    patient = Patient(clinic_id=staff.clinic_id, user=user, display_name=display_name, mrn=mrn,
                      date_of_birth=date_of_birth, timezone=timezone)
    db.session.add(patient)
    db.session.flush()
    code, expires_at = _new_enrollment_code(patient, issued_by=staff.id)
    audit.record("patient.create", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return NewPatient(patient, code, expires_at)


def reissue_enrollment_code(*, staff: Actor, patient: Patient) -> NewPatient:
    """A new code (the old ones stop working), for a patient who lost theirs, let it expire, or changed phones.

    For an enrolled patient this is account recovery: using the code signs out every earlier sign-in and
    tells the patient by email (services.auth.enroll). Who issued it is kept on the code and in the audit row.
    """
    for old in db.session.execute(
        select(EnrollmentCode).where(EnrollmentCode.patient_id == patient.id, EnrollmentCode.used_at.is_(None))
    ).scalars():
        old.used_at = now()
    code, expires_at = _new_enrollment_code(patient, issued_by=staff.id)
    audit.record("patient.enrollment_code", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return NewPatient(patient, code, expires_at)


def list_patients(*, staff: Actor) -> list[Patient]:
    audit.record("patient.list", patient_id=None, object_type="clinic", object_id=staff.clinic_id)
    return list(db.session.execute(
        select(Patient).where(Patient.clinic_id == staff.clinic_id).order_by(Patient.id)
    ).scalars())


def _new_enrollment_code(patient: Patient, *, issued_by: int) -> tuple[str, object]:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    expires_at = now() + timedelta(hours=current_app.config["ENROLLMENT_CODE_HOURS"])
    db.session.add(EnrollmentCode(patient_id=patient.id, code_hash=enrollment_code_hash(code), expires_at=expires_at,
                                  issued_by=issued_by))
    return code, expires_at
