"""Who may reach what: roles per endpoint, and clinic/patient scoping where foreign means 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask_jwt_extended import current_user, verify_jwt_in_request

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import Patient, Trial, User
from . import audit

PATIENT, NURSE, PHYSICIAN, ADMIN = "patient", "nurse", "physician", "admin"
CARE = (NURSE, PHYSICIAN)


def requires(*roles: str) -> Callable:
    """View decorator: a valid bearer token of one of `roles`, else 401 or 403."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            verify_jwt_in_request()
            if current_user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return guarded

    return decorate


def actor() -> User:
    return current_user


def can_see_trial(user: User, trial: Trial) -> bool:
    if user.role == PATIENT:
        return trial.patient.user_id == user.id
    return user.role in CARE and trial.clinic_id == user.clinic_id


def trial_for(user: User, trial_id: int, *, action: str, lock: bool = False) -> Trial:
    """The trial if `user` may see it; 404 exactly as for a missing one otherwise. Audited."""
    trial = db.session.get(Trial, trial_id, with_for_update=lock or None)
    audit.record(action, patient_id=trial.patient_id if trial else None, object_type="trial", object_id=trial_id)
    if trial is None or not can_see_trial(user, trial):
        raise NotFound("No such trial.")
    return trial


def own_trial_for(user: User, trial_id: int, *, action: str, lock: bool = False) -> Trial:
    """A trial whose diary `user` writes: only the trial's own patient; staff who can see it get 403."""
    trial = trial_for(user, trial_id, action=action, lock=lock)
    if user.role != PATIENT:
        raise Forbidden("Only the trial's patient writes its diary.")
    return trial


def patient_for(user: User, patient_id: int, *, action: str) -> Patient:
    patient = db.session.get(Patient, patient_id)
    audit.record(action, patient_id=patient.id if patient else None, object_type="patient", object_id=patient_id)
    if patient is None or user.role not in CARE or patient.clinic_id != user.clinic_id:
        raise NotFound("No such patient.")
    return patient
