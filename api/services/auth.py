"""Sign-in, token refresh with rotation, logout, and patient enrollment."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import or_, select, update

from ..clock import now
from ..errors import Forbidden, Invalid, Unauthorized
from ..extensions import db
from ..extensions.database import get_locked
from ..models import AuthSession, EnrollmentCode, Patient, Trial, User
from . import audit, sign_in_links
from .access import COOKIE_KINDS
from .notifications import account_reenrolled
from .passwords import hash_password, password_problem, verify

BAD_CREDENTIALS = "Email or password is not correct."
TEMPORARY_PASSWORD = ("This password is a temporary one: sign in to the clinic console with it and choose a password "
                      "of your own, then sign in here with that.")
# One answer for a code that is not valid, used or expired, and for a second clinic's code with a password that is
# not the account's (services.auth._redeem): the holder of a valid code does not learn which.
BAD_CODE = ("The enrollment code is not valid or has expired, or the password is not correct: if you already keep "
            "the diary with another clinic, enter the password you use there.")
PATIENTS_USE_THE_APP = ("The clinic console is for the care team. Patients keep their diary on the diary page "
                        "(/diary/) or in the phone app.")
STAFF_USE_THE_CONSOLE = "The diary page is for patients. The care team signs in to the clinic console."
DIARY_CLOSED = "The diary is closed: every trial of this patient was decided or cancelled."


class PatientAccount(Unauthorized):
    """Correct credentials of a patient's account, at the staff-only console."""


TOKEN_TYPE = "Bearer"


class StaffAccount(Unauthorized):
    """Correct credentials of a staff account, at the patients' diary page."""

    code = "staff_account"


class PasswordChangeRequired(Forbidden):
    """A staff account with a temporary password: it chooses its own in the console before the API gives it tokens."""

    code = "password_change_required"


class DiaryClosed(Unauthorized):
    """A patient whose every trial is closed: their diary page has nothing left to write to."""

    code = "diary_closed"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = TOKEN_TYPE


def login(*, email: str, password: str) -> Tokens:
    """Tokens for a correct email and password; one answer for every failure."""
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if not verify(user.password_hash if user else None, password) or not user.active:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.password_change_required:  # told only to whoever holds the (temporary) password
        raise PasswordChangeRequired(TEMPORARY_PASSWORD)
    tokens = _open_session(user)
    db.session.commit()
    return tokens


def open_cookie_session(*, kind: str, email: str, password: str) -> str:
    """A browser face's sign-in session id ("console" for staff, "diary" for patients) for a correct email and
    password; one answer for every failure (as `login`). A correct account at the wrong face is told where to go,
    and a patient whose diary is closed is told so."""
    return _cookie_sign_in(kind=kind, email=email, password=password).session_id


@dataclass(frozen=True)
class CookieSignIn:
    session_id: str
    password_change_required: bool  # a temporary password: the console lets it only choose the account's own


def _cookie_sign_in(*, kind: str, email: str, password: str) -> CookieSignIn:
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if not verify(user.password_hash if user else None, password) or not user.active:
        raise Unauthorized(BAD_CREDENTIALS)
    if kind == "console" and user.role == "patient":
        raise PatientAccount(PATIENTS_USE_THE_APP)
    if kind == "diary":
        if user.role != "patient":
            raise StaffAccount(STAFF_USE_THE_CONSOLE)
        _ensure_diary_open(user.id)
    signed_in = CookieSignIn(_cookie_session(user, kind), user.password_change_required)
    db.session.commit()
    return signed_in


def open_cookie_session_by_link(*, kind: str, token: str) -> str:
    """A browser face's sign-in session (the diary page's) for a sign-in link texted to the patient, used here
    (sign_in_links.redeem: once, within its life, not after a re-enrollment or deactivation). A link that opened a
    closed diary is spent, and the patient is told the diary is closed."""
    user = sign_in_links.redeem(token=token)
    _ensure_diary_open(user.id)
    session_id = _cookie_session(user, kind)
    db.session.commit()
    return session_id


def open_console_session(*, email: str, password: str) -> CookieSignIn:
    """A console sign-in session for a staff member's correct email and password (`open_cookie_session`)."""
    return _cookie_sign_in(kind="console", email=email, password=password)


def refresh(*, session_id: str, refresh_jti: str) -> Tokens:
    """New tokens for a live refresh token; a refresh token used twice revokes its session (theft)."""
    session = get_locked(AuthSession, session_id)
    if session is None or session.revoked_at is not None or not session.user.active:
        raise Unauthorized("The refresh token was revoked.")
    if session.refresh_jti != refresh_jti:
        session.revoked_at = now()
        db.session.commit()
        raise Unauthorized("The refresh token was already used; sign in again.")
    tokens = _issue(session)
    db.session.commit()
    return tokens


def logout(*, session_id: str) -> None:
    """Revoke the session that the presented token belongs to (its access and refresh tokens)."""
    session = db.session.get(AuthSession, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = now()
        db.session.commit()


def enroll(*, enrollment_code: str, password: str, language: str | None = None) -> Tokens:
    """Turn a single-use enrollment code into the patient's password (and language) and first tokens."""
    patient, code = _redeem(enrollment_code, password, language)
    tokens = _open_session(patient.user, enrollment_code_id=code.id)
    db.session.commit()
    return tokens


def enroll_with_cookie(*, kind: str, enrollment_code: str, password: str, language: str | None = None) -> str:
    """As `enroll`, opening a browser face's cookie session (the diary page) instead of issuing tokens."""
    patient, code = _redeem(enrollment_code, password, language, diary_must_be_open=True)
    session_id = _cookie_session(patient.user, kind, enrollment_code_id=code.id)
    db.session.commit()
    return session_id


def _redeem(enrollment_code: str, password: str, language: str | None, *,
            diary_must_be_open: bool = False) -> tuple[Patient, EnrollmentCode]:
    """Use a single-use enrollment code: enroll its clinic's record of the patient (and set its language, when
    chosen), so that the account's sign-in reaches that clinic's trials.

    - An account without a password: the password chosen here becomes the account's.
    - A record of a second clinic, on an account the person already has (a password, set with another
      clinic's code): the password must be the account's own; it is not changed, nothing is signed out, and
      the record joins the account. Anything else is the answer of a bad code, and the code stays usable: the
      holder of the code learns nothing they could not by guessing the password. (So a clinic's code never
      opens what the person keeps at another clinic.)
    - A record enrolled already is being re-enrolled (a new phone, a lost password, a code issued by the clinic):
      that is account recovery, so the password is replaced, every earlier sign-in of the account is revoked and
      the patient is told by email. The account's records at other clinics stop being enrolled: each comes back
      with that clinic's own code and the new password, so no clinic's code opens another clinic's trials.
    The new sign-in session names the code, and the code names who issued it.
    """
    code_hash = enrollment_code_hash(enrollment_code)
    code = db.session.execute(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash).with_for_update()
    ).scalar_one_or_none()
    if code is None or code.used_at is not None or code.expires_at <= now():
        raise Unauthorized(BAD_CODE)
    patient = db.session.get(Patient, code.patient_id)
    account = patient.user
    joins = patient.enrolled_at is None and account.password_hash is not None
    if joins:
        if not verify(account.password_hash, password):
            db.session.rollback()  # the code stays usable
            audit.record("patient.enroll", patient_id=patient.id, object_type="enrollment_code", object_id=code.id)
            raise Unauthorized(BAD_CODE)  # the refusal is in the clinic's audit trail
    elif problem := password_problem(password, email=account.email):
        db.session.rollback()  # the code stays usable
        raise Invalid("The password is not allowed.", errors={"password": [problem]})
    reenrolled = patient.enrolled_at is not None
    if diary_must_be_open:  # a recovery keeps this record's trials only (below)
        _ensure_diary_open(patient.user_id, with_record=patient.id, only=reenrolled)
    moment = now()
    if language is not None:
        patient.language = language
    audit.record("patient.reenroll" if reenrolled else "patient.enroll", patient_id=patient.id,
                 object_type="enrollment_code", object_id=code.id)
    if reenrolled:
        db.session.execute(update(AuthSession).where(AuthSession.user_id == patient.user_id,
                                                     AuthSession.revoked_at.is_(None)).values(revoked_at=moment))
        db.session.execute(update(Patient).where(Patient.user_id == patient.user_id, Patient.id != patient.id)
                           .values(enrolled_at=None))
        account_reenrolled(patient, at=moment)
    code.used_at = moment
    if patient.enrolled_at is None:
        patient.enrolled_at = moment
    if not joins:
        account.password_hash = hash_password(password)
    return patient, code


def enrollment_code_hash(code: str) -> str:
    canonical = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(canonical.encode()).hexdigest()


def token_session_id(token: str) -> str:
    return decode_token(token)["sid"]


def _open_session(user: User, *, enrollment_code_id: int | None = None) -> Tokens:
    session = AuthSession(
        id=str(uuid.uuid4()), user=user, refresh_jti="", enrollment_code_id=enrollment_code_id,
        expires_at=now() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"],
    )
    db.session.add(session)
    return _issue(session)


def _cookie_session(user: User, kind: str, *, enrollment_code_id: int | None = None) -> str:
    moment = now()
    longest = current_app.config[COOKIE_KINDS[kind].max_setting]
    session = AuthSession(id=str(uuid.uuid4()), user=user, refresh_jti="", kind=kind, last_seen_at=moment,
                          enrollment_code_id=enrollment_code_id, expires_at=moment + longest)
    db.session.add(session)
    return session.id


def _ensure_diary_open(user_id: int, *, with_record: int | None = None, only: bool = False) -> None:
    """A patient with trials, all of them closed, has no diary to keep (a patient with none yet may sign in).
    Their trials: those of every record they enrolled and of `with_record` (being enrolled now), or of
    `with_record` `only`."""
    record = Patient.id == with_record
    closures = db.session.execute(
        select(Trial.closure).join(Patient, Patient.id == Trial.patient_id)
        .where(Patient.user_id == user_id, record if only else or_(Patient.enrolled_at.is_not(None), record))
    ).scalars().all()
    if closures and all(closure is not None for closure in closures):
        db.session.rollback()
        raise DiaryClosed(DIARY_CLOSED)


def _issue(session: AuthSession) -> Tokens:
    refresh_jti = str(uuid.uuid4())
    claims = {"sid": session.id, "role": session.user.role}
    access = create_access_token(identity=str(session.user.id), additional_claims=claims)
    refresh_token = create_refresh_token(
        identity=str(session.user.id), additional_claims={**claims, "jti": refresh_jti}
    )
    session.refresh_jti = refresh_jti
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return Tokens(access, refresh_token, int(expires.total_seconds()))
