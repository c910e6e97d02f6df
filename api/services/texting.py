"""Text messages (docs/sms.md): a patient's number and consent, the one place a text is queued (consent, the
daily cap, quiet hours), the evening reminder's follow-up, and the provider's callbacks: delivery status and
the texts patients send back (STOP, START, HELP, CALL, or words kept for the care team)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ..clock import now
from ..domain import texting
from ..extensions import db
from ..extensions.database import dialect_statement
from ..metrics import texts as metrics
from ..models import Clinic, DiaryEntry, InboundMessage, Notification, Patient, ScheduledText, Trial
from . import audit
from .access import PATIENT, Actor, own_records
from .notifications import _add as add_notification  # the one insert of a notification row (idempotent by key)
from .patient_messages import text_message

log = logging.getLogger(__name__)
UNSET: Any = object()
# Which allowance a text counts against (docs/sms.md): a block's timepoints have their own; answers to the
# patient's own texts count against none.
BLOCK_CAUSES = ("block_reminder",)
CAPPED_CAUSES = ("reminder", "follow_up", "sign_in_link")
SUBJECTS = {"reminder": "Evening reminder (text)", "follow_up": "Reminder follow-up (text)",
            "block_reminder": "Block timepoint reminder (text)", "sign_in_link": "Sign-in link (text)",
            "reply": "Answer to the patient's text"}
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
               "undelivered": 4, "failed": 4, "read": 5}
FINAL_FAILURES = ("undelivered", "failed")


# --- the patient's number and consent ------------------------------------------------------------------------

def apply_texting(patient: Patient, *, by: Actor, mobile_number: Any = UNSET, sms_consent: Any = UNSET,
                  sms_block_night_consent: Any = UNSET, source: str | None = None) -> None:
    """Set what was sent, in the caller's transaction: the number (None clears it), consent given (recorded with
    when, who and where: `source`, else the patient in the phone app, or staff on the patient's word) or
    withdrawn, and consent to a block's texts at night. A STOP is lifted only by the patient texting START: the
    provider refuses texts to that number until."""
    moment = now()
    if mobile_number is not UNSET:
        patient.mobile_number = mobile_number
    if sms_consent is True and patient.sms_consent_at is None:
        patient.sms_consent_at, patient.sms_consent_by = moment, by.id
        patient.sms_consent_source = source or ("patient" if by.role == PATIENT else "staff")
    elif sms_consent is False:
        patient.sms_consent_at = patient.sms_consent_by = patient.sms_consent_source = None
    if sms_block_night_consent is True and patient.sms_block_night_consent_at is None:
        patient.sms_block_night_consent_at = moment
    elif sms_block_night_consent is False:
        patient.sms_block_night_consent_at = None


def update_texting(*, user: Actor, patient: Patient, **changes: Any) -> Patient:
    """Change a patient's number or consent (staff of the clinic, or the patient); audited."""
    apply_texting(patient, by=user, **changes)
    audit.record("patient.texting", patient_id=patient.id, object_type="patient", object_id=patient.id)
    db.session.commit()
    return patient


def own_patient(*, user: Actor) -> Patient:
    """The signed-in patient's own record (for their texting settings: of a patient of several clinics, the oldest
    one, which holds what they set themselves as every other does); audited."""
    patient = db.session.get(Patient, user.first_patient_id)
    audit.record("patient.texting.read", patient_id=patient.id, object_type="patient", object_id=patient.id)
    return patient


def update_own_texting(*, user: Actor, **changes: Any) -> Patient:
    """The patient sets their number or consent, for every clinic they enrolled with (one person, one phone);
    audited; returns the oldest record."""
    records = own_records(user)
    for record in records:
        apply_texting(record, by=user, **changes)
    audit.record("patient.texting", patient_id=records[0].id, object_type="patient", object_id=records[0].id)
    db.session.commit()
    return records[0]


# --- queueing a text: the one place ---------------------------------------------------------------------------

def queue_text(patient: Patient, *, cause: str, key: str, words: str, trial: Trial | None = None,
               stale_at: datetime | None = None, night_ok: bool = False, sign_in_link_id: int | None = None,
               **values: str) -> str:
    """A notification row for one text, in the caller's transaction, unless a rule says no. Returns `queued`, or
    why not: `exists` (its key was queued before), `not_textable` (no number, consent, or a STOP), `capped`
    (the day's allowance is spent), `stale` (quiet hours last past the time it is for).

    A text falling in quiet hours is queued due at 08:00 (the notification row is the due time) unless stale by
    then; answers to the patient's own texts (`reply`) need no consent and go at once, day or night."""
    reply = cause == "reply"
    if not (patient.textable or (reply and patient.mobile_number and patient.sms_opted_out_at is None)):
        return "not_textable"
    moment = now()
    due = moment
    if not (reply or night_ok):
        due = texting.quiet_hours_end(moment, patient.timezone)
        if stale_at is not None and due >= stale_at:
            return "stale"
    if not reply and _spent(patient, cause, moment):
        return "capped"
    clinic = db.session.get(Clinic, patient.clinic_id)
    link = texting.LINK_SLOT if sign_in_link_id else texting.diary_url(current_app.config["PUBLIC_BASE_URL"])
    body = text_message(words, patient.language, clinic=clinic.name, link=link, phone=texting.readable(clinic.phone),
                        **values)
    data = {"type": f"sms.{words}", "kind": cause, "night_ok": night_ok,
            "stale_at": stale_at.isoformat() if stale_at else None, "sign_in_link_id": sign_in_link_id}
    if trial is not None:
        data["trial_id"] = trial.id
    created = add_notification(key, trial, cause, "sms", patient.user_id, str(patient.id), SUBJECTS[cause], body,
                               data, clinic_id=patient.clinic_id, trial_id=trial.id if trial else None)
    if not created:
        return "exists"
    if due > moment:
        db.session.execute(Notification.__table__.update().where(Notification.key == key)
                           .values(next_attempt_at=due))
    return "queued"


def _spent(patient: Patient, cause: str, moment: datetime) -> bool:
    """Whether the patient's texts today (their local day) of `cause`'s allowance reached its limit."""
    block = cause in BLOCK_CAUSES
    limit = current_app.config["SMS_BLOCK_DAILY_LIMIT" if block else "SMS_DAILY_LIMIT"]
    sent = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.channel == "sms", Notification.destination == str(patient.id),
        Notification.created_at >= texting.local_day_start(moment, patient.timezone),
        Notification.cause.in_(BLOCK_CAUSES if block else CAPPED_CAUSES))).scalar_one()
    return sent >= limit


# --- the evening reminder by text, and its follow-up ----------------------------------------------------------

def remind_by_text(trial: Trial, *, day_start: datetime, day_end: datetime) -> int:
    """The evening reminder by text to a patient without an active phone, and its follow-up's due time (two
    hours later, if still no entry); in the caller's transaction. Returns the texts queued (0 or 1)."""
    patient = trial.patient
    day = day_start.date().isoformat()
    outcome = queue_text(patient, cause="reminder", key=f"reminder:{trial.id}:{day}:sms", words="reminder",
                         trial=trial, stale_at=day_end)
    if outcome != "queued":
        return 0
    moment = now()
    # A follow-up that quiet hours push to the next morning still helps (an entry can be recorded afterwards),
    # until noon.
    db.session.execute(_insert_scheduled(), dict(
        key=f"follow-up:{trial.id}:{day}", kind="follow_up", patient_id=patient.id, trial_id=trial.id,
        due_at=moment + timedelta(hours=current_app.config["SMS_FOLLOW_UP_HOURS"]), since_at=day_start,
        stale_at=day_end + timedelta(hours=12)))
    return 1


@dialect_statement
def _insert_scheduled(insert):
    return insert(ScheduledText.__table__).on_conflict_do_nothing(index_elements=["key"])


def send_scheduled_texts(*, limit: int = 500) -> int:
    """Queue the due follow-ups whose diary is still empty; a follow-up due in quiet hours moves to 08:00.
    Idempotent: a row is done once, and its text has a key. Returns the texts queued."""
    moment = now()
    rows = list(db.session.execute(
        select(ScheduledText).where(ScheduledText.done_at.is_(None), ScheduledText.due_at <= moment)
        .order_by(ScheduledText.due_at).limit(limit).with_for_update(skip_locked=True)).scalars())
    queued = 0
    for row in rows:
        patient = db.session.get(Patient, row.patient_id)
        trial = db.session.get(Trial, row.trial_id) if row.trial_id else None
        resume = texting.quiet_hours_end(moment, patient.timezone)
        if moment < resume < row.stale_at:
            row.due_at = resume  # checked again then: an entry may come meanwhile
            continue
        if resume >= row.stale_at:
            row.outcome = "stale"
        elif trial is None or trial.closure is not None or _recorded_since(trial.id, row.since_at):
            row.outcome = "skipped"
        else:
            row.outcome = queue_text(patient, cause="follow_up", key=f"{row.key}:sms", words="follow_up",
                                     trial=trial, stale_at=row.stale_at)
            queued += row.outcome == "queued"
        row.done_at = moment
    db.session.commit()
    return queued


def _recorded_since(trial_id: int, since: datetime) -> bool:
    return db.session.execute(select(DiaryEntry.id).where(
        DiaryEntry.trial_id == trial_id, DiaryEntry.voided_at.is_(None), DiaryEntry.recorded_at >= since)
        .limit(1)).first() is not None


# --- the provider's callbacks ---------------------------------------------------------------------------------

def status_reported(*, provider_id: str, status: str, error_code: str | None) -> bool:
    """A delivery status from the provider: recorded on the text's row (never moving back, as callbacks may
    arrive out of order); undelivered or failed fails the notification. False for a text we did not send."""
    notification = db.session.execute(select(Notification).where(Notification.provider_id == provider_id)
                                      .with_for_update()).scalar_one_or_none()
    if notification is None:
        db.session.rollback()
        return False
    if STATUS_RANK.get(status, 0) >= STATUS_RANK.get(notification.provider_status or "", 0) and \
            notification.provider_status not in FINAL_FAILURES:
        notification.provider_status = status
        if status in FINAL_FAILURES:
            notification.state = "failed"
            notification.last_error = f"the carrier did not deliver the text ({status}, error {error_code or 'none'})"
            if error_code == "21610":  # the number opted out at the carrier: a STOP we did not see
                patient = db.session.get(Patient, int(notification.destination))
                if patient is not None and patient.sms_opted_out_at is None:
                    patient.sms_opted_out_at = now()
        if status in FINAL_FAILURES or status == "delivered":
            metrics.count(status)
    db.session.commit()
    return True


def receive(*, provider_id: str, from_number: str, body: str) -> int:
    """A text a patient sent: STOP opts every patient with this number out at once, START back in; HELP is
    answered with the clinic's name and phone; CALL asks for a call-back; any other words are kept for the care
    team. A provider sending the same message again changes nothing. Returns the patients it concerned."""
    from .call_backs import call_back_for  # call-backs queue their answer through this module

    patients = list(db.session.execute(select(Patient).where(Patient.mobile_number == from_number)
                                       .order_by(Patient.id)).scalars())
    seen = set(db.session.execute(select(InboundMessage.patient_id).where(
        InboundMessage.provider_id == provider_id)).scalars())
    patients = [p for p in patients if p.id not in seen]
    if not patients:
        log.info("sms: inbound text %s matched no patient, or was handled before", provider_id[:40])
        db.session.rollback()
        return 0
    word = texting.keyword(body)
    moment = now()
    for patient in patients:
        message = InboundMessage(provider_id=provider_id, clinic_id=patient.clinic_id, patient_id=patient.id,
                                 keyword=word, body=body, received_at=moment)
        db.session.add(message)
        reply_key = f"reply:{provider_id}:clinic:{patient.clinic_id}"  # one answer per clinic, for a shared phone
        if word == "stop" and patient.sms_opted_out_at is None:
            patient.sms_opted_out_at = moment
            metrics.count("opted_out")
        elif word == "start":
            if patient.sms_opted_out_at is not None:
                metrics.count("opted_in")
            patient.sms_opted_out_at = None
            if patient.sms_consent_at is None:
                patient.sms_consent_at, patient.sms_consent_source = moment, "keyword"
        elif word == "help":
            queue_text(patient, cause="reply", key=reply_key, words="help")
        elif word == "call":
            trial = current_trial(patient)
            if trial is None:
                queue_text(patient, cause="reply", key=reply_key, words="call_the_clinic")
                continue
            alert, created = call_back_for(trial, moment=moment)
            message.alert_id = alert.id
            asked = alert.opened_at.astimezone(ZoneInfo(patient.timezone)).strftime("%H:%M")
            queue_text(patient, cause="reply", key=reply_key,
                       words="call_requested" if created else "call_already_requested", asked=asked)
    audit.record("sms.inbound", patient_id=patients[0].id, object_type="inbound_message", object_id=provider_id[:64])
    db.session.commit()
    return len(patients)


def current_trial(patient: Patient) -> Trial | None:
    """The patient's trial whose diary is open, the latest started first: where a call-back belongs."""
    return db.session.execute(select(Trial).where(Trial.patient_id == patient.id, Trial.closure.is_(None))
                              .order_by(Trial.start_at.desc(), Trial.id.desc()).limit(1)).scalar_one_or_none()


def messages_of(*, patient: Patient, limit: int = 100) -> list[InboundMessage]:
    """What the patient texted, newest first, for a caller that already checked access (and audited it)."""
    return list(db.session.execute(select(InboundMessage).where(InboundMessage.patient_id == patient.id)
                                   .order_by(InboundMessage.id.desc()).limit(limit)).scalars())
