"""Patients: created by the care team with a single-use enrollment code for the phone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select

from ..clock import now
from ..domain.vocabulary import LANGUAGES
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import EnrollmentCode, Patient, User
from . import audit
from .access import Actor, own_records
from .auth import enrollment_code_hash
from .texting import apply_texting

MAX_GOALS, MAX_GOAL_LENGTH = 3, 120  # "walk to the mailbox", "sleep through the night"
# No 0/O, 1/I/L: read aloud or typed by an elderly patient from a printed sheet.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class NewPatient:
    patient: Patient
    enrollment_code: str
    enrollment_code_expires_at: object


def create_patient(
    *, staff: Actor, display_name: str, mrn: str, date_of_birth: date, email: str, timezone: str,
    language: str = LANGUAGES[0], gender: str = "unknown", **texting: Any
) -> NewPatient:
    """Register a patient (with their mobile number and consent to texts, when given) and a first enrollment code.

    One account per person: an email that is already a patient's account (registered by another clinic) gets this
    clinic's record on that account, answered exactly as a new patient is, so that nothing tells this clinic about
    another. The person's sign-in reaches this clinic's trials once they use this record's code
    (services.auth.enroll). A care team member's email is refused, the same way at every clinic."""
    email = email.strip().lower()
    # One statement whether or not the email is known: the account, and its record at this clinic if any.
    account, here = db.session.execute(
        select(User, Patient.id).outerjoin(Patient, and_(Patient.user_id == User.id,
                                                         Patient.clinic_id == staff.clinic_id))
        .where(User.email == email)).first() or (None, None)
    if account is not None and account.role != "patient":
        raise Conflict("This email is a care team member's account: a patient needs an email of their own.",
                       errors={"email": ["Already in use by a care team account."]})
    if here is not None:
        raise Conflict("A patient of this clinic has this email.", errors={"email": ["Already in use."]})
    if db.session.execute(
        select(Patient.id).where(Patient.clinic_id == staff.clinic_id, Patient.mrn == mrn)
    ).first():
        raise Conflict("A patient with this MRN already exists.", errors={"mrn": ["Already in use."]})
    user = account or User(clinic_id=staff.clinic_id, email=email, role="patient", password_hash=None)
    patient = Patient(clinic_id=staff.clinic_id, user=user, display_name=display_name, mrn=mrn,
                      date_of_birth=date_of_birth, gender=gender, timezone=timezone, language=language, goals=[])
    apply_texting(patient, by=staff, **texting)
    db.session.add(patient)
    db.session.flush()
    code, expires_at = _new_enrollment_code(patient, issued_by=staff.id)
    audit.record("patient.create", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return NewPatient(patient, code, expires_at)


CONTACT_FIELDS = ("email", "language", "caregiver_name", "caregiver_phone")


def update_patient(*, staff: Actor, patient: Patient, gender: str | None = None, **changes: Any) -> Patient:
    """Staff correct the patient's sex for the medical record (one registered before it was asked is `unknown`),
    change their contact details (email, language, caregiver: `None` clears the caregiver) and/or their number or
    consent to texts; each change audited as what it is. A new email already used by another account is a 409."""
    contact = {k: changes.pop(k) for k in CONTACT_FIELDS if k in changes}
    texting = changes
    if gender is not None and gender != patient.gender:
        patient.gender = gender
        audit.record("patient.update", patient_id=patient.id, object_type="patient", object_id=patient.id)
    if contact:
        _change_contact(patient, contact)
    if texting or (gender is None and not contact):
        apply_texting(patient, by=staff, **texting)
        audit.record("patient.texting", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return patient


def _change_contact(patient: Patient, contact: dict[str, Any]) -> None:
    email = contact.pop("email", None)
    if email is not None and email.strip().lower() != patient.user.email:
        email = email.strip().lower()
        if db.session.execute(select(User.id).where(User.email == email)).first():
            raise Conflict("An account with this email already exists.", errors={"email": ["Already in use."]})
        patient.user.email = email
    if contact.get("language") is not None:
        patient.language = contact.pop("language")
    for name in ("caregiver_name", "caregiver_phone"):
        if name in contact:
            setattr(patient, name, contact[name])
    audit.record("patient.contact", patient_id=patient.id, object_type="patient", object_id=patient.id)


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


def own_profile(*, user: Actor) -> Patient:
    """The signed-in patient's own record (language, goals, clinic): of a patient of several clinics, the oldest
    of the records they enrolled (each trial names its own clinic). Audited: goals are patient data."""
    patient = db.session.get(Patient, user.first_patient_id) if user.first_patient_id is not None else None
    if patient is None:
        raise NotFound("No patient record for this account.")
    audit.record("patient.profile_read", patient_id=patient.id, object_type="patient", object_id=patient.id)
    return patient


def update_own_profile(*, user: Actor, language: str | None = None, goals: list[str] | None = None) -> Patient:
    """The patient changes their language or replaces their goals (up to MAX_GOALS, in their own words), at every
    clinic they enrolled with."""
    patient = own_profile(user=user)
    for record in own_records(user):
        if language is not None:
            record.language = language
        if goals is not None:
            record.goals = [goal.strip() for goal in goals if goal.strip()][:MAX_GOALS]
    audit.record("patient.profile_update", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return patient


def list_patients(*, staff: Actor, search: str | None = None) -> list[Patient]:
    """The clinic's patients; with `search`, those whose name or MRN holds it (any case; % and _ are plain text)."""
    audit.record("patient.list", patient_id=None, object_type="clinic", object_id=staff.clinic_id)
    query = select(Patient).where(Patient.clinic_id == staff.clinic_id).order_by(Patient.id)
    if search:
        query = query.where(or_(Patient.display_name.icontains(search, autoescape=True),
                                Patient.mrn.icontains(search, autoescape=True)))
    return list(db.session.execute(query).scalars())


def _new_enrollment_code(patient: Patient, *, issued_by: int) -> tuple[str, object]:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    expires_at = now() + timedelta(hours=current_app.config["ENROLLMENT_CODE_HOURS"])
    db.session.add(EnrollmentCode(patient_id=patient.id, code_hash=enrollment_code_hash(code), expires_at=expires_at,
                                  issued_by=issued_by))
    return code, expires_at
