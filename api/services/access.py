"""Who may reach what: roles per endpoint, and clinic/patient scoping where foreign means 404."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps

from flask import current_app, g
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import aliased

from ..clock import now
from ..errors import Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..extensions.database import get_locked
from ..models import AuthSession, Patient, Trial, User
from . import audit

PATIENT, NURSE, PHYSICIAN, ADMIN = "patient", "nurse", "physician", "admin"
CARE = (NURSE, PHYSICIAN)
STAFF = (NURSE, PHYSICIAN, ADMIN)


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller, as the access rules see them: read once per request from the token's live sign-in session.

    A patient's account has a record at each clinic that registered them; `patients` holds those the person
    enrolled (used the clinic's code), by id, with each one's clinic. A patient reaches exactly their trials."""

    id: int
    role: str
    clinic_id: int  # staff: their clinic; a patient: the clinic that registered the account first
    patients: Mapping[int, int] = field(default_factory=dict)  # a patient's enrolled records: id -> clinic id
    session_id: str | None = None  # the sign-in session the request came with: what it writes is attributed to it

    @property
    def patient_ids(self) -> frozenset[int]:
        return frozenset(self.patients)

    @property
    def first_patient_id(self) -> int | None:
        """The oldest of the patient's enrolled records (their profile's, when one is asked for)."""
        return min(self.patients, default=None)

    def clinic_of(self, patient_id: int | None) -> int | None:
        """The clinic of one of the caller's own patient records (None when it is not theirs)."""
        return self.patients.get(patient_id) if patient_id is not None else None


@dataclass(frozen=True, slots=True)
class Diary:
    """A trial as a write to its diary needs it: whose it is, and whether its diary was closed."""

    trial_id: int
    clinic_id: int
    patient_id: int
    patient_user_id: int
    closure: str | None
    therapy: str


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

        guarded.allowed_roles = roles  # the OpenAPI document's 401 and 403 (api.extensions.openapi)
        return guarded

    return decorate


def actor() -> Actor:
    """The caller, read from the verified token's sign-in session once per request; 401 if that was revoked."""
    found: Actor | None = g.get("actor")
    if found is None:
        rows = db.session.execute(_LIVE_SESSION_ACTOR, {"session_id": token_session_id()}).all()
        if not rows:
            raise Unauthorized("The token was revoked or its account is not active.")
        found = g.actor = _actor_of(rows)
    return found


def _actor_of(rows) -> Actor:
    """The actor of a sign-in session's rows: one per enrolled patient record of the account (one, with no record,
    for staff)."""
    first = rows[0]
    patients = {row.patient_id: row.patient_clinic_id for row in rows if row.patient_id is not None}
    return Actor(first.id, first.role, first.clinic_id, patients, first.session_id)


@dataclass(frozen=True, slots=True)
class CookieKind:
    """A browser face's sign-in sessions: who may hold one, and the setting of its idle timeout."""

    roles: tuple[str, ...]
    idle_setting: str
    max_setting: str


COOKIE_KINDS = {
    "console": CookieKind(STAFF, "CONSOLE_IDLE", "CONSOLE_SESSION_MAX"),
    "diary": CookieKind((PATIENT,), "DIARY_IDLE", "DIARY_SESSION_MAX"),
}


def session_actor(session_id: str, *, kind: str, active: bool) -> Actor | None:
    """The user of a live cookie session of `kind` ("console", "diary"), or None once it was signed out, its
    account deactivated (or re-enrolled), it stayed idle too long (CONSOLE_IDLE, DIARY_IDLE) or reached its end
    (expires_at). A diary session also ends with the diary: when every trial of the patient is closed.

    `active`: the request is the user's own doing (a page, a form), which keeps the session alive; a page's
    background refresh is not, so a worklist left open on a screen still signs out when nobody uses it.
    The actor is kept for the request, as `actor()` keeps the API's.
    """
    rules = COOKIE_KINDS[kind]
    moment = now()
    rows = db.session.execute(_LIVE_COOKIE_SESSION, {"session_id": session_id, "kind": kind}).all()
    row = rows[0] if rows else None
    if (row is None or row.role not in rules.roles or row.expires_at <= moment or row.diary_closed
            or row.last_seen_at + current_app.config[rules.idle_setting] <= moment):
        return None
    g.session_last_seen = row.last_seen_at
    if active and moment - row.last_seen_at >= _TOUCH_EVERY:
        touch_session(session_id, moment)
    g.actor = _actor_of(rows)
    return g.actor


def touch_session(session_id: str, moment) -> None:
    """The user did something now: the idle clock of the cookie session restarts (also within a minute of the last
    touch, when asked for: "Stay signed in")."""
    db.session.execute(update(_sessions).where(_sessions.c.id == session_id).values(last_seen_at=moment))
    db.session.commit()
    g.session_last_seen = moment


def session_idle_left(idle) -> float | None:
    """Seconds before the request's cookie session signs out for inactivity (read by `session_actor`), or None."""
    last_seen = g.get("session_last_seen")
    return None if last_seen is None else max(0.0, (last_seen + idle - now()).total_seconds())


def console_actor(session_id: str, *, active: bool) -> Actor | None:
    """The staff member of a live console session (`session_actor` of kind "console")."""
    return session_actor(session_id, kind="console", active=active)


def signed_in_actor() -> Actor | None:
    """The caller once `actor()` has read it in this request, else None (no token, or not read yet)."""
    return g.get("actor")


def token_session_id() -> str | None:
    """The sign-in session named by the request's verified token."""
    return get_jwt().get("sid")


def token_role() -> str | None:
    """The role the verified token was issued for; its account's role cannot change while it lives."""
    return get_jwt().get("role")


def trial_for(user: Actor, trial_id: int, *, action: str, lock: bool = False) -> Trial:
    """The trial if `user` may see it; 404 exactly as for a missing one otherwise. Audited.

    Another clinic's trial and a missing one take the same path (one light row, or none, then 404): only a trial
    the caller may see is loaded whole, so the time of a 404 does not tell that the trial exists.
    """
    row = db.session.execute(_DIARY, {"trial_id": trial_id}).first()
    audit.record(action, patient_id=row.patient_id if row else None, object_type="trial", object_id=trial_id)
    if row is None or not _may_see(user, clinic_id=row.clinic_id, patient_id=row.patient_id):
        raise NotFound("No such trial.")
    trial = get_locked(Trial, trial_id) if lock else db.session.get(Trial, trial_id)
    if trial is None:  # deleted in between (never, in practice: trials are not deleted)
        raise NotFound("No such trial.")
    return trial


def own_diary(user: Actor, trial_id: int, *, action: str) -> Diary:
    """The diary of a trial `user` may write: only the trial's own patient; staff who can see it get 403. Audited.

    One light query instead of loading the trial: this is the path of every entry a phone sends.
    """
    row = db.session.execute(_DIARY, {"trial_id": trial_id}).first()
    audit.record(action, patient_id=row.patient_id if row else None, object_type="trial", object_id=trial_id)
    if row is None or not _may_see(user, clinic_id=row.clinic_id, patient_id=row.patient_id):
        raise NotFound("No such trial.")
    if user.role != PATIENT:
        raise Forbidden("Only the trial's patient writes its diary.")
    return Diary(*row)


def patient_for(user: Actor, patient_id: int, *, action: str) -> Patient:
    """The patient if `user` is care staff of their clinic; 404 exactly as for a missing one otherwise (the same
    path, as `trial_for`). Audited."""
    clinic_id = db.session.execute(select(_patients.c.clinic_id).where(_patients.c.id == patient_id)).scalar()
    audit.record(action, patient_id=patient_id if clinic_id is not None else None, object_type="patient",
                 object_id=patient_id)
    if clinic_id is None or user.role not in CARE or clinic_id != user.clinic_id:
        raise NotFound("No such patient.")
    patient = db.session.get(Patient, patient_id)
    if patient is None:  # deleted in between (never, in practice: patients are not deleted)
        raise NotFound("No such patient.")
    return patient


def own_records(user: Actor) -> list[Patient]:
    """Every enrolled record of a signed-in patient, the oldest first: what they say about themselves (language,
    goals, number, consent to texts) is one thing, written to each."""
    return list(db.session.execute(
        select(Patient).where(Patient.id.in_(user.patient_ids)).order_by(Patient.id)).scalars())


def may_see_patient(user: Actor, patient_id: int) -> bool:
    """Whether the patient exists and `user` may see their data: staff of their clinic, or the patient."""
    clinic_id = db.session.execute(select(_patients.c.clinic_id).where(_patients.c.id == patient_id)).scalar()
    return clinic_id is not None and _may_see(user, clinic_id=clinic_id, patient_id=patient_id)


def may_see_trial(user: Actor, trial_id: int) -> bool:
    """Whether the trial exists and `user` may see it (no audit: the caller records what it did)."""
    row = db.session.execute(_DIARY, {"trial_id": trial_id}).first()
    return row is not None and _may_see(user, clinic_id=row.clinic_id, patient_id=row.patient_id)


def _may_see(user: Actor, *, clinic_id: int, patient_id: int) -> bool:
    """A patient: their own enrolled records only (another clinic's record of the same person is not theirs until
    they use its code); care staff: their clinic's."""
    if user.role == PATIENT:
        return patient_id in user.patients
    return user.role in CARE and clinic_id == user.clinic_id


_sessions, _users, _trials, _patients = AuthSession.__table__, User.__table__, Trial.__table__, Patient.__table__
# A patient account's records that the person enrolled: what their sign-in reaches.
_ENROLLED_RECORD = and_(_patients.c.user_id == _users.c.id, _patients.c.enrolled_at.is_not(None))
# Built once: every authenticated request runs it (one row per enrolled record of a patient, one for staff).
_LIVE_SESSION_ACTOR = (
    select(_users.c.id, _users.c.role, _users.c.clinic_id, _patients.c.id.label("patient_id"),
           _patients.c.clinic_id.label("patient_clinic_id"), _sessions.c.id.label("session_id"))
    .join_from(_sessions, _users, _sessions.c.user_id == _users.c.id)
    .outerjoin(_patients, _ENROLLED_RECORD)
    .where(_sessions.c.id == bindparam("session_id"), _sessions.c.revoked_at.is_(None), _users.c.active.is_(True))
)
_record = aliased(Patient.__table__)  # the account's records, across clinics, inside the diary_closed test
_ACCOUNT_TRIALS = (select(_trials.c.id).join(_record, _record.c.id == _trials.c.patient_id)
                   .where(_record.c.user_id == _users.c.id, _record.c.enrolled_at.is_not(None)))
_OPEN_TRIAL = _ACCOUNT_TRIALS.where(_trials.c.closure.is_(None)).exists()
_ANY_TRIAL = _ACCOUNT_TRIALS.exists()
_LIVE_COOKIE_SESSION = (
    select(_users.c.id, _users.c.role, _users.c.clinic_id, _patients.c.id.label("patient_id"),
           _patients.c.clinic_id.label("patient_clinic_id"), _sessions.c.id.label("session_id"),
           _sessions.c.expires_at, _sessions.c.last_seen_at,
           # the patient has trials (at any of their clinics), and every one is closed: the diary is over
           and_(_patients.c.id.is_not(None), _ANY_TRIAL, ~_OPEN_TRIAL).label("diary_closed"))
    .join_from(_sessions, _users, _sessions.c.user_id == _users.c.id)
    .outerjoin(_patients, _ENROLLED_RECORD)
    .where(_sessions.c.id == bindparam("session_id"), _sessions.c.kind == bindparam("kind"),
           _sessions.c.revoked_at.is_(None), _users.c.active.is_(True))
)
# Writing last_seen_at on every click would cost a write per page; a minute's precision is plenty for 15.
_TOUCH_EVERY = timedelta(seconds=30)
_DIARY = (
    select(_trials.c.id, _trials.c.clinic_id, _trials.c.patient_id, _patients.c.user_id.label("patient_user_id"),
           _trials.c.closure, _trials.c.therapy)
    .join_from(_trials, _patients, _trials.c.patient_id == _patients.c.id)
    .where(_trials.c.id == bindparam("trial_id"))
)
