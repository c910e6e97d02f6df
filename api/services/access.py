"""Who may reach what: roles per endpoint, and clinic/patient scoping where foreign means 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask_jwt_extended import current_user, verify_jwt_in_request
from sqlalchemy import bindparam, select

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import Patient, Trial
from . import audit

PATIENT, NURSE, PHYSICIAN, ADMIN = "patient", "nurse", "physician", "admin"
CARE = (NURSE, PHYSICIAN)


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller, as the access rules see them: read once per request from the token's live session."""

    id: int
    role: str
    clinic_id: int
    patient_id: int | None  # the patient record of a patient's account


@dataclass(frozen=True, slots=True)
class Diary:
    """A trial as a write to its diary needs it: whose it is, and whether its diary was closed."""

    trial_id: int
    clinic_id: int
    patient_id: int
    patient_user_id: int
    closure: str | None


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


def actor() -> Actor:
    return current_user


def can_see_trial(user: Actor, trial: Trial) -> bool:
    return _may_see(user, clinic_id=trial.clinic_id, patient_user_id=trial.patient.user_id)


def trial_for(user: Actor, trial_id: int, *, action: str, lock: bool = False) -> Trial:
    """The trial if `user` may see it; 404 exactly as for a missing one otherwise. Audited."""
    trial = db.session.get(Trial, trial_id, with_for_update=lock or None)
    audit.record(action, patient_id=trial.patient_id if trial else None, object_type="trial", object_id=trial_id)
    if trial is None or not can_see_trial(user, trial):
        raise NotFound("No such trial.")
    return trial


def own_diary(user: Actor, trial_id: int, *, action: str) -> Diary:
    """The diary of a trial `user` may write: only the trial's own patient; staff who can see it get 403. Audited.

    One light query instead of loading the trial: this is the path of every entry a phone sends.
    """
    row = db.session.execute(_DIARY, {"trial_id": trial_id}).first()
    audit.record(action, patient_id=row.patient_id if row else None, object_type="trial", object_id=trial_id)
    if row is None or not _may_see(user, clinic_id=row.clinic_id, patient_user_id=row.patient_user_id):
        raise NotFound("No such trial.")
    if user.role != PATIENT:
        raise Forbidden("Only the trial's patient writes its diary.")
    return Diary(*row)


def patient_for(user: Actor, patient_id: int, *, action: str) -> Patient:
    patient = db.session.get(Patient, patient_id)
    audit.record(action, patient_id=patient.id if patient else None, object_type="patient", object_id=patient_id)
    if patient is None or user.role not in CARE or patient.clinic_id != user.clinic_id:
        raise NotFound("No such patient.")
    return patient


def _may_see(user: Actor, *, clinic_id: int, patient_user_id: int) -> bool:
    if user.role == PATIENT:
        return patient_user_id == user.id
    return user.role in CARE and clinic_id == user.clinic_id


_trials, _patients = Trial.__table__, Patient.__table__
_DIARY = (
    select(_trials.c.id, _trials.c.clinic_id, _trials.c.patient_id, _patients.c.user_id.label("patient_user_id"),
           _trials.c.closure)
    .join_from(_trials, _patients, _trials.c.patient_id == _patients.c.id)
    .where(_trials.c.id == bindparam("trial_id"))
)
