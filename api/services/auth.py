"""Sign-in, token refresh with rotation, logout, and patient enrollment."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select, update

from ..clock import now
from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..extensions.database import get_locked
from ..models import AuthSession, EnrollmentCode, Patient, User
from . import audit
from .notifications import account_reenrolled
from .passwords import hash_password, password_problem, verify

BAD_CREDENTIALS = "Email or password is not correct."
BAD_CODE = "The enrollment code is not valid or has expired."
PATIENTS_USE_THE_APP = ("The clinic console is for the care team. Patients keep their diary in the Trial Diary "
                        "phone app.")


class PatientAccount(Unauthorized):
    """Correct credentials of a patient's account, at the staff-only console."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def login(*, email: str, password: str) -> Tokens:
    """Tokens for a correct email and password; one answer for every failure."""
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if not verify(user.password_hash if user else None, password) or not user.active:
        raise Unauthorized(BAD_CREDENTIALS)
    tokens = _open_session(user)
    db.session.commit()
    return tokens


def open_console_session(*, email: str, password: str) -> str:
    """A console sign-in session's id for a staff member's correct email and password; one answer for every
    failure (as `login`), and a patient with correct credentials is pointed to the phone app."""
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if not verify(user.password_hash if user else None, password) or not user.active:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.role == "patient":
        raise PatientAccount(PATIENTS_USE_THE_APP)
    moment = now()
    session = AuthSession(id=str(uuid.uuid4()), user=user, refresh_jti="", kind="console", last_seen_at=moment,
                          expires_at=moment + current_app.config["CONSOLE_SESSION_MAX"])
    db.session.add(session)
    db.session.commit()
    return session.id


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


def enroll(*, enrollment_code: str, password: str) -> Tokens:
    """Turn a single-use enrollment code into the patient's password and first tokens.

    A patient who was enrolled already is being re-enrolled (a new phone, or someone with a code issued by
    the clinic): that is account recovery, so every earlier sign-in of the account is revoked and the patient is
    told by email. The new sign-in session names the code, and the code names who issued it.
    """
    code_hash = enrollment_code_hash(enrollment_code)
    code = db.session.execute(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash).with_for_update()
    ).scalar_one_or_none()
    if code is None or code.used_at is not None or code.expires_at <= now():
        raise Unauthorized(BAD_CODE)
    patient = db.session.get(Patient, code.patient_id)
    if problem := password_problem(password, email=patient.user.email):
        db.session.rollback()  # the code stays usable
        raise Invalid("The password is not allowed.", errors={"password": [problem]})
    moment = now()
    reenrolled = patient.user.password_hash is not None
    audit.record("patient.reenroll" if reenrolled else "patient.enroll", patient_id=patient.id,
                 object_type="enrollment_code", object_id=code.id)
    if reenrolled:
        db.session.execute(update(AuthSession).where(AuthSession.user_id == patient.user_id,
                                                     AuthSession.revoked_at.is_(None)).values(revoked_at=moment))
        account_reenrolled(patient, at=moment)
    code.used_at = moment
    patient.user.password_hash = hash_password(password)
    tokens = _open_session(patient.user, enrollment_code_id=code.id)
    db.session.commit()
    return tokens


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
