"""Clinic staff accounts."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from ..clock import now
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import AuthSession, Clinic, User
from .access import Actor
from .passwords import hash_password, password_problem, verify


def create_staff_user(*, clinic_id: int, email: str, role: str, password: str, display_name: str | None = None) -> User:
    """A staff account in the clinic; 409 when the email is taken anywhere."""
    email = email.strip().lower()
    if db.session.execute(select(User.id).where(User.email == email)).first():
        raise Conflict("An account with this email already exists.", errors={"email": ["Already in use."]})
    user = User(clinic_id=clinic_id, email=email, role=role, display_name=display_name,
                password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def bootstrap_user(*, clinic_name: str, email: str, role: str, password: str) -> User:
    """For the command line: creates the clinic when it does not exist yet."""
    clinic = db.session.execute(select(Clinic).where(Clinic.name == clinic_name)).scalar_one_or_none()
    if clinic is None:
        clinic = Clinic(name=clinic_name)
        db.session.add(clinic)
        db.session.flush()
    return create_staff_user(clinic_id=clinic.id, email=email, role=role, password=password)


def list_staff(*, admin: Actor) -> list[User]:
    return list(db.session.execute(
        select(User).where(User.clinic_id == admin.clinic_id, User.role != "patient").order_by(User.id)
    ).scalars())


def staff_member(*, admin: Actor, user_id: int) -> User:
    """A staff account of the admin's clinic; another clinic's, a patient's or a missing one is the same 404."""
    user = db.session.get(User, user_id)
    if user is None or user.clinic_id != admin.clinic_id or user.role == "patient":
        raise NotFound("No such staff account.")
    return user


def deactivate_staff_user(*, admin: Actor, user_id: int) -> User:
    """Deactivate a staff account of the admin's clinic and end its sign-in sessions (API and console) at once."""
    user = staff_member(admin=admin, user_id=user_id)
    if user.id == admin.id:
        raise Invalid("You cannot deactivate your own account.", errors={"user_id": ["That is your own account."]})
    user.active = False
    _end_sessions(user)
    db.session.commit()
    return user


TEMPORARY_PASSWORD_BYTES = 12  # 16 URL-safe characters: 96 random bits


def reset_staff_password(*, admin: Actor, user_id: int) -> tuple[User, str]:
    """Give a colleague a new random password, to be handed over in person or by phone, and end the account's
    sign-in sessions at once (whoever knew the old password is out). Returns the account and the password, which
    is stored only as its hash: the caller shows it once. It is temporary: the account signs in only to choose a
    password of its own (`change_own_password`). The admin's own password is changed like anyone's."""
    user = staff_member(admin=admin, user_id=user_id)
    if user.id == admin.id:
        raise Invalid("Change your own password on the Your password page, not here.",
                      errors={"user_id": ["That is your own account."]})
    if not user.active:
        raise Invalid("The account is deactivated: it cannot sign in with any password.",
                      errors={"user_id": ["Deactivated."]})
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    while password_problem(password, email=user.email):  # a random draw is almost never refused; never hand one out
        password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user.password_hash = hash_password(password)
    user.password_change_required = True
    _end_sessions(user)
    db.session.commit()
    return user, password


def change_own_password(*, user: Actor, current: str, new: str, repeated: str) -> User:
    """A staff member's password of their own, in place of the current one (a temporary one included). Every other
    sign-in of the account ends (its API tokens, other browsers); the one that asked stays. 422 naming the field:
    the current password not right, the new one refused by the password rules, or the two copies differing."""
    account = db.session.get(User, user.id)
    if not verify(account.password_hash, current):
        raise Invalid("Not changed: the current password is not right.",
                      errors={"current_password": ["Not the current password."]})
    if problem := password_problem(new, email=account.email):
        raise Invalid("Not changed: see the new password.", errors={"new_password": [problem]})
    if new != repeated:
        raise Invalid("Not changed: the two new passwords differ.",
                      errors={"repeat_password": ["Not the same as the new password."]})
    if new == current:
        raise Invalid("Not changed: choose a password different from the current one.",
                      errors={"new_password": ["The same as the current password."]})
    account.password_hash = hash_password(new)
    account.password_change_required = False
    _end_sessions(account, keep=user.session_id)
    db.session.commit()
    return account


def _end_sessions(user: User, *, keep: str | None = None) -> None:
    moment = now()
    for session in db.session.execute(
            select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))).scalars():
        if session.id != keep:
            session.revoked_at = moment


def staff_names(*, user: Actor, user_ids) -> dict[int, str]:
    """Display names (or emails) of staff of the caller's clinic, for "acknowledged by" and care teams."""
    ids = set(user_ids) - {None}
    if not ids:
        return {}
    return {u.id: u.display_name or u.email for u in db.session.execute(
        select(User).where(User.id.in_(ids), User.clinic_id == user.clinic_id)).scalars()}


def care_staff(*, user: Actor) -> list[User]:
    """The clinic's active nurses and physicians: who can be put on a care team."""
    return list(db.session.execute(
        select(User).where(User.clinic_id == user.clinic_id, User.role.in_(("nurse", "physician")),
                           User.active.is_(True)).order_by(User.role.desc(), User.display_name, User.id)).scalars())
def update_staff_profile(*, admin: Actor, user_id: int, changes: dict) -> User:
    """The admin sets a colleague's display name or NPI (`None` clears it); another clinic's user is 404."""
    user = staff_member(admin=admin, user_id=user_id)
    for field in ("display_name", "npi"):
        if field in changes:
            setattr(user, field, changes[field])
    db.session.commit()
    return user
