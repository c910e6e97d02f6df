"""Who may reach what: roles per endpoint, and clinic/patient scoping where foreign means 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import g
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy import bindparam, select

from ..errors import Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..models import AuthSession, Patient, Trial, User
from . import audit

PATIENT, NURSE, PHYSICIAN, ADMIN = "patient", "nurse", "physician", "admin"
CARE = (NURSE, PHYSICIAN)


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller, as the access rules see them: read once per request from the token's live sign-in session."""

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


def requires(*roles: str, session_checked_by_view: bool = False) -> Callable:
    """View decorator: a valid bearer token of one of `roles` whose sign-in session is live, else 401 or 403.

    The session (revoked by logout or by a deactivated account) is looked up before the view runs, unless
    `session_checked_by_view`: then the view's write checks it in its own statement (the diary's entry
    POST, where that saves a round trip on every entry) and calls `actor()` for anything else it does.
    """

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            g.pop("actor", None)  # of an earlier request, where one app context serves several (tests)
            verify_jwt_in_request()
            role = token_role() if session_checked_by_view else actor().role
            if role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return guarded

    return decorate


def actor() -> Actor:
    """The caller, read from the verified token's sign-in session once per request; 401 if that was revoked."""
    found: Actor | None = g.get("actor")
    if found is None:
        row = db.session.execute(_LIVE_SESSION_ACTOR, {"session_id": token_session_id()}).first()
        if row is None:
            raise Unauthorized("The token was revoked or its account is not active.")
        found = g.actor = Actor(*row)
    return found


def signed_in_actor() -> Actor | None:
    """The caller once `actor()` has read it in this request, else None (no token, or not read yet)."""
    return g.get("actor")


def token_session_id() -> str | None:
    """The sign-in session named by the request's verified token."""
    return get_jwt().get("sid")


def token_role() -> str | None:
    """The role the verified token was issued for; its account's role cannot change while it lives."""
    return get_jwt().get("role")


def can_see_trial(user: Actor, trial: Trial) -> bool:
    return _may_see(user, clinic_id=trial.clinic_id, patient_user_id=trial.patient.user_id)


def trial_for(user: Actor, trial_id: int, *, action: str, lock: bool = False) -> Trial:
    """The trial if `user` may see it; 404 exactly as for a missing one otherwise. Audited."""
    # OF trials: PostgreSQL refuses FOR UPDATE on the outer-joined patient that the trial loads with it.
    trial = db.session.get(Trial, trial_id, with_for_update={"of": Trial} if lock else None)
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


_sessions, _users, _trials, _patients = AuthSession.__table__, User.__table__, Trial.__table__, Patient.__table__
# Built once: every authenticated request runs it.
_LIVE_SESSION_ACTOR = (
    select(_users.c.id, _users.c.role, _users.c.clinic_id, _patients.c.id)
    .join_from(_sessions, _users, _sessions.c.user_id == _users.c.id)
    .outerjoin(_patients, _patients.c.user_id == _users.c.id)
    .where(_sessions.c.id == bindparam("session_id"), _sessions.c.revoked_at.is_(None), _users.c.active.is_(True))
)
_DIARY = (
    select(_trials.c.id, _trials.c.clinic_id, _trials.c.patient_id, _patients.c.user_id.label("patient_user_id"),
           _trials.c.closure)
    .join_from(_trials, _patients, _trials.c.patient_id == _patients.c.id)
    .where(_trials.c.id == bindparam("trial_id"))
)
