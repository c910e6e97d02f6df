"""A block diary's reminders (docs/blocks.md "The diary schedule and reminders"), by push, or by text to a patient
without the app (docs/sms.md): one due-time row per scheduled timepoint, written with the trial, swept by beat
like every other due time."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..clock import now
from ..domain import blocks
from ..extensions import db
from ..models import BlockReminder, Device, DiaryEntry, Trial
from . import patient_messages
from .notifications import _add as add_notification  # the one insert of a notification row (idempotent by key)
from .notifications import phones_of
from .texting import queue_text


def schedule_reminders(trial: Trial) -> None:
    """(Re)write the trial's pending reminders from its schedule, in the caller's transaction: on creation and
    when end_at moves. Reminders already sent or dropped stay as they were."""
    db.session.execute(delete(BlockReminder).where(BlockReminder.trial_id == trial.id, BlockReminder.done_at.is_(None)))
    done = set(db.session.execute(select(BlockReminder.due_at).where(BlockReminder.trial_id == trial.id)).scalars())
    previous = trial.start_at
    for due in blocks.schedule(trial.start_at, trial.end_at):
        if due not in done:
            db.session.add(BlockReminder(trial_id=trial.id, due_at=due, previous_at=previous))
        previous = due


def send_block_reminders(*, limit: int = 500) -> int:
    """Push each due reminder unless an entry was recorded since the previous scheduled time. Idempotent: a row
    is done once, and its notifications have a key per device. Returns the notifications created."""
    moment = now()
    stale = timedelta(minutes=current_app.config["BLOCK_REMINDER_STALE_MINUTES"])
    rows = list(db.session.execute(
        select(BlockReminder, Trial).join(Trial, Trial.id == BlockReminder.trial_id)
        .where(BlockReminder.done_at.is_(None), BlockReminder.due_at <= moment)
        .order_by(BlockReminder.due_at).limit(limit).with_for_update(skip_locked=True, of=BlockReminder)
    ).all())
    if not rows:
        db.session.rollback()
        return 0
    trial_ids = {trial.id for _, trial in rows}
    last_entry = dict(db.session.execute(
        select(DiaryEntry.trial_id, func.max(DiaryEntry.recorded_at))
        .where(DiaryEntry.trial_id.in_(trial_ids), DiaryEntry.voided_at.is_(None)).group_by(DiaryEntry.trial_id)
    ).all())
    devices: dict[int, list[Device]] = {}
    for device in db.session.execute(select(Device).where(  # a deactivated phone gets nothing (a dead token)
            Device.user_id.in_({trial.patient.user_id for _, trial in rows}), Device.active.is_(True))
            .order_by(Device.id)).scalars():
        devices.setdefault(device.user_id, []).append(device)
    created = 0
    for reminder, trial in rows:
        last = last_entry.get(trial.id)
        if trial.closure is not None or reminder.due_at > trial.end_at:
            reminder.outcome = "closed"
        elif moment - reminder.due_at > stale:
            reminder.outcome = "stale"
        elif last is not None and last >= reminder.previous_at:
            reminder.outcome = "skipped"
        else:
            reminder.outcome = "sent"
            minutes = round((reminder.due_at - trial.start_at).total_seconds() / 60)
            if not phones_of(trial, devices):  # no phone with the app: a text, if the patient agreed
                patient = trial.patient
                created += queue_text(
                    patient, cause="block_reminder", key=f"block-reminder:{trial.id}:{reminder.due_at.isoformat()}:sms",
                    words="block_reminder", trial=trial, stale_at=reminder.due_at + stale,
                    night_ok=patient.sms_block_night_consent) == "queued"
            message = patient_messages.block_reminder(trial.patient.language)
            for device in phones_of(trial, devices):
                created += add_notification(
                    f"block-reminder:{trial.id}:{reminder.due_at.isoformat()}:device:{device.id}", trial, "reminder",
                    "push", trial.patient.user_id, str(device.id), message.subject, message.body,
                    {"type": "block_reminder", "trial_id": trial.id, "due_at": reminder.due_at.isoformat(),
                     "minutes_after_block": minutes})
        reminder.done_at = moment
    db.session.commit()
    return created
