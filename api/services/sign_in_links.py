"""Sign-in links by text (docs/sms.md): single use, at most 15 minutes, bound to one patient, stored as a hash,
audited when issued and when used. A patient asks with their mobile number (the answer never says whether the
number is known), or staff send one from the patient's page. The link opens the diary page, whose script posts
its token (from the address's fragment, never sent in a request line) to be used: that opens a diary cookie
session (`auth.open_cookie_session_by_link`), never an API token."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..clock import now
from ..domain import texting
from ..errors import Conflict, Unauthorized
from ..extensions import db
from ..models import AuthSession, Patient, SignInLink, User
from . import audit
from .access import Actor
from .texting import queue_text

NOT_VALID = "This sign-in link is not valid. Ask for a new one, or sign in with your password."
USED = "This sign-in link was used already. Each link works once: ask for a new one."
EXPIRED = "This sign-in link has expired. Links work for 15 minutes: ask for a new one."
WITHDRAWN = "This sign-in link no longer works, as your account changed since. Ask for a new one."


class LinkRefused(Unauthorized):
    """A sign-in link that opens nothing; its `code` says why, so that the diary page says it in the patient's words.
    A link that was real names the patient's language in `details` (whoever holds it received the patient's text)."""

    code = "sign_in_link_not_valid"


class LinkUsed(LinkRefused):
    code = "sign_in_link_used"


class LinkExpired(LinkRefused):
    code = "sign_in_link_expired"


class LinkWithdrawn(LinkRefused):
    code = "sign_in_link_withdrawn"


def request_link(*, mobile_number: str) -> None:
    """Text a link to the patient whose (texting) number this is; nothing, and the same answer, otherwise. A
    number two patients share proves neither: they sign in with their password, or staff send the link. A patient
    of two clinics is one person: the link goes from the oldest of their records that may be texted."""
    records = list(db.session.execute(select(Patient).join(User, User.id == Patient.user_id).where(
        Patient.mobile_number == mobile_number, Patient.enrolled_at.is_not(None), User.active.is_(True))
        .order_by(Patient.id)).scalars())
    patients = [patient for patient in records if patient.textable]
    if len({record.user_id for record in records}) != 1 or not patients:
        audit.record("sign_in_link.request", patient_id=None, outcome="no_single_patient")
        db.session.commit()
        return
    _issue(patients[0], via="patient", issued_by=None)


def send_link(*, staff: Actor, patient: Patient) -> SignInLink:
    """Staff text a link to their patient (who could not sign in); 409 saying why when it cannot go."""
    if not patient.enrolled or not patient.user.active:
        raise Conflict("The patient has not enrolled yet: give them an enrollment code instead.")
    if not patient.textable:
        raise Conflict("The patient cannot be texted: a mobile number, their consent and no STOP are needed.")
    link = _issue(patient, via="staff", issued_by=staff.id)
    if link is None:
        raise Conflict("The patient's texts for today are used up; try again tomorrow.")
    return link


def _issue(patient: Patient, *, via: str, issued_by: int | None) -> SignInLink | None:
    moment = now()
    nonce = secrets.token_urlsafe(24)
    link = SignInLink(patient_id=patient.id, nonce=nonce, token_hash="", requested_via=via, issued_by=issued_by,
                      created_at=moment,
                      expires_at=moment + timedelta(minutes=current_app.config["SIGN_IN_LINK_MINUTES"]))
    db.session.add(link)
    db.session.flush()
    link.token_hash = texting.token_hash(texting.link_token(current_app.config["SECRET_KEY"], link.id, nonce))
    outcome = queue_text(patient, cause="sign_in_link", key=f"sign-in-link:{link.id}", words="sign_in_link",
                         stale_at=link.expires_at, sign_in_link_id=link.id, night_ok=True)  # they just asked
    if outcome != "queued":  # the day's texts are spent: no link that nobody receives
        db.session.rollback()
        audit.record("sign_in_link.issue", patient_id=patient.id, object_type="patient", object_id=patient.id,
                     outcome=outcome)
        db.session.commit()
        return None
    audit.record("sign_in_link.issue", patient_id=patient.id, object_type="sign_in_link", object_id=link.id)
    db.session.commit()
    return link


def redeem(*, token: str) -> User:
    """The patient's account for a link used for the first time within its life; it cannot be used again.
    A link issued before the account was enrolled again, or while it is deactivated, is refused."""
    link = db.session.execute(select(SignInLink).where(SignInLink.token_hash == texting.token_hash(token))
                              .with_for_update()).scalar_one_or_none()
    if link is None:
        audit.record("sign_in_link.use", patient_id=None, object_type="sign_in_link")
        raise LinkRefused(NOT_VALID)
    patient = db.session.get(Patient, link.patient_id)
    audit.record("sign_in_link.use", patient_id=patient.id, object_type="sign_in_link", object_id=link.id)
    moment = now()
    spoken = {"language": patient.language}
    if link.used_at is not None:
        raise LinkUsed(USED, details=spoken)
    if link.expires_at <= moment:
        raise LinkExpired(EXPIRED, details=spoken)
    enrolled_again = db.session.execute(select(func.max(AuthSession.created_at)).where(
        AuthSession.user_id == patient.user_id, AuthSession.enrollment_code_id.is_not(None))).scalar()
    if not patient.user.active or (enrolled_again is not None and enrolled_again > link.created_at):
        raise LinkWithdrawn(WITHDRAWN, details=spoken)
    link.used_at = moment
    db.session.commit()
    return patient.user
