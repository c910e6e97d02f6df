"""Notifications: routing (who is told, on which channel), delivery with retries, and the scheduled
messages (escalations, the patient's evening reminder, the nurses' daily digest)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, select

from .. import channels
from ..channels import DeliveryError, NotNow
from ..clock import now
from ..domain.safety import ESCALATION_AUDIENCE, LABELS, initials, told_at_once
from ..domain.therapies import therapy
from ..extensions import db
from ..extensions.database import dialect_statement
from ..metrics import texts
from ..models import Alert, CareTeamMember, Device, DiaryEntry, Evaluation, Notification, Trial, User, Webhook
from . import patient_messages
from .access import Actor, trial_for
from .dispatch import at_once, claim_due, sweep_grace

log = logging.getLogger(__name__)


# --- routing -----------------------------------------------------------------------------------------

def audience(trial: Trial, groups: Iterable[str]) -> list[User]:
    """The active staff named by `groups`: care_team, care_nurses, care_physicians, clinic_physicians."""
    members = list(db.session.execute(
        select(User).join(CareTeamMember, CareTeamMember.user_id == User.id)
        .where(CareTeamMember.trial_id == trial.id, User.active.is_(True))
    ).scalars())
    chosen: dict[int, User] = {}
    for group in groups:
        if group == "care_team":
            picked = members
        elif group == "care_nurses":
            picked = [u for u in members if u.role == "nurse"]
        elif group == "care_physicians":
            picked = [u for u in members if u.role == "physician"]
        elif group == "clinic_physicians":
            picked = list(db.session.execute(select(User).where(
                User.clinic_id == trial.clinic_id, User.role == "physician", User.active.is_(True))).scalars())
        else:
            raise ValueError(group)
        chosen.update((u.id, u) for u in picked)
    return [chosen[k] for k in sorted(chosen)]


def alert_raised(alert: Alert, trial: Trial) -> None:
    """Tell who must hear of `alert` at its severity now, in the caller's transaction: no one of an expected one."""
    if alert.status != "open":
        return
    _notify_staff(alert, trial, told_at_once(alert.status, alert.severity), stage="opened")
    _notify_patient(alert, trial)


def escalate_due_alerts(*, limit: int = 200) -> int:
    """Escalate open alerts whose escalation time passed without acknowledgement. Idempotent."""
    moment = now()
    alerts = list(db.session.execute(
        select(Alert).where(Alert.status == "open", Alert.escalate_at <= moment, Alert.escalated_at.is_(None))
        .order_by(Alert.escalate_at).limit(limit).with_for_update(skip_locked=True)
    ).scalars())
    for alert in alerts:
        trial = db.session.get(Trial, alert.trial_id)
        _notify_staff(alert, trial, ESCALATION_AUDIENCE.get(alert.severity, ()), stage="escalated")
        alert.escalated_at = moment
    db.session.commit()
    return len(alerts)


def escalation_time(severity: str, opened: datetime) -> datetime | None:
    minutes = {"critical": current_app.config["CRITICAL_ESCALATION_MINUTES"],
               "high": current_app.config["HIGH_ESCALATION_MINUTES"]}.get(severity)
    return None if minutes is None else opened + timedelta(minutes=minutes)


def final_evaluation_stored(evaluation: Evaluation, trial: Trial) -> None:
    """Tell the care team the trial's final result, in the transaction that stores the evaluation: the first one, or
    a change of what they were told ("final result revised: from ... to ...").

    A final message not yet handed to a worker says a result the team has not read: a newer result replaces it
    (the row is removed, never sent) instead of following it. The first final message of a trial registered after
    its end waits FINAL_RESULT_GRACE_MINUTES from the registration, for the phone to send the diary it kept
    offline: a result computed before the phone syncs is "insufficient data", and the care team would read it, then
    its revision a minute later.
    """
    row = therapy(trial.therapy)
    for unsent in db.session.execute(select(Notification).where(
            Notification.trial_id == trial.id, Notification.cause == "evaluation", Notification.state == "pending",
            Notification.dispatched_at.is_(None)).with_for_update(skip_locked=True)).scalars():
        db.session.delete(unsent)
    told = db.session.execute(select(Notification.data).where(
        Notification.trial_id == trial.id, Notification.cause == "evaluation",
        (Notification.state != "pending") | Notification.dispatched_at.is_not(None))
        .order_by(Notification.id.desc()).limit(1)).scalar_one_or_none()
    told_outcome = told.get("outcome") if told else None
    if told_outcome == evaluation.outcome:
        return  # what they were told stands
    moment = now()
    due = moment
    if told is None and trial.created_at >= trial.end_at:
        due = max(moment, trial.created_at + timedelta(minutes=current_app.config["FINAL_RESULT_GRACE_MINUTES"]))
    relief = evaluation.metrics.get("pain_relief_percent")
    who = initials(trial.patient.display_name)
    result = row.outcome_words(evaluation.outcome)
    if told_outcome is None:
        subject = f"Trial {trial.id} ({who}): final result {result}"
        opening = f"The {row.short} {trial.id} of patient {who} has ended.\nFinal result: {result}\n"
    else:
        before = row.outcome_words(told_outcome)
        subject = f"Trial {trial.id} ({who}): final result revised: {before} to {result}"
        opening = (f"Final result revised: the {row.short} {trial.id} of patient {who} now reads {result}, not "
                   f"{before} as first sent. The diary changed after the first result (entries sent late from the "
                   f"phone, or corrected).\n")
    body = (f"{opening}{'Peak relief' if row.is_block else 'Pain relief'}: "
            f"{'not assessed' if relief is None else f'{relief} %'}\n"
            f"{row.decision_question}: {row.decision_choices()}.\n\n"
            f"Open the trial to read the evaluation and record the decision: {_trial_link(trial)}\n")
    data = {"type": "evaluation.final", "trial_id": trial.id, "evaluation_id": evaluation.id,
            "outcome": evaluation.outcome, "revised_from": told_outcome, "pain_relief_percent": relief,
            "patient_initials": who, "link": _trial_link(trial)}
    cause = f"evaluation:{evaluation.id}"
    for user in audience(trial, ("care_team",)):
        _add(f"{cause}:user:{user.id}:email", trial, "evaluation", "email", user.id, user.email, subject, body, data,
             due=due)
    _webhooks(cause, trial, "evaluation", subject, body, data, due=due)


def account_reenrolled(patient, *, at: datetime) -> None:
    """Tell the patient their account was enrolled again (every earlier sign-in was ended); in the caller's
    transaction. If it was not them, someone with a code from the clinic has their account: they call the clinic."""
    user = patient.user
    message = patient_messages.account_reenrolled(patient.language, at=at)
    _add(f"account:{user.id}:reenrolled:{at.isoformat()}", None, "account", "email", user.id, user.email,
         message.subject, message.body, {"type": "account.reenrolled", "at": at.isoformat()}, trial_id=None,
         clinic_id=patient.clinic_id)


def send_evening_reminders() -> int:
    """Remind patients of active day-bucket trials with no entry today by the reminder hour: a push to each
    active phone, or a text to a patient with none (docs/sms.md)."""
    from . import texting  # here: texting queues its rows through this module
    from .trials import active_day_trials  # here: trials -> evaluations -> notifications at import time

    moment = now()
    hour = current_app.config["REMINDER_LOCAL_HOUR"]
    due = {t.id: t for t in active_day_trials(moment) if moment.astimezone(ZoneInfo(t.timezone)).hour >= hour}
    if not due:
        return 0
    last_entry = dict(db.session.execute(
        select(DiaryEntry.trial_id, func.max(DiaryEntry.recorded_at))
        .where(DiaryEntry.trial_id.in_(due), DiaryEntry.voided_at.is_(None)).group_by(DiaryEntry.trial_id)).all())
    devices: dict[int, list[Device]] = {}
    for device in db.session.execute(select(Device).where(
            Device.user_id.in_({t.patient.user_id for t in due.values()}), Device.active.is_(True))).scalars():
        devices.setdefault(device.user_id, []).append(device)
    created = 0
    for trial in due.values():
        local = moment.astimezone(ZoneInfo(trial.timezone))
        day_start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo).astimezone(UTC)
        if (last := last_entry.get(trial.id)) is not None and last >= day_start:
            continue
        if not phones_of(trial, devices):  # no phone with the app: a text, if the patient agreed to texts
            day_end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
            created += texting.remind_by_text(trial, day_start=day_start, day_end=day_end)
            continue
        message = patient_messages.evening_reminder(trial.patient.language)
        for device in phones_of(trial, devices):
            created += _add(f"reminder:{trial.id}:{local.date()}:device:{device.id}", trial, "reminder", "push",
                            trial.patient.user_id, str(device.id), message.subject, message.body,
                            {"type": "reminder", "trial_id": trial.id})
    db.session.commit()
    return created


def phones_of(trial: Trial, devices: dict[int, list[Device]]) -> list[Device]:
    """The phones (of `devices`, by user) that reminders of the trial go to: its patient's, once the patient
    enrolled the trial's clinic's record. A patient of another clinic whose sign-in does not reach this clinic's
    trials yet gets what a new patient gets (a text, if they agreed), never a push to the phone of their account."""
    return devices.get(trial.patient.user_id, []) if trial.patient.enrolled else []


def send_daily_digests() -> int:
    """Once a day (from DIGEST_HOUR_UTC): each nurse gets the open low alerts of their care teams."""
    moment = now()
    if moment.hour < current_app.config["DIGEST_HOUR_UTC"]:
        return 0
    rows = db.session.execute(
        select(User, Alert, Trial)
        .join(CareTeamMember, CareTeamMember.user_id == User.id)
        .join(Trial, Trial.id == CareTeamMember.trial_id)
        .join(Alert, and_(Alert.trial_id == Trial.id, Alert.status == "open", Alert.severity == "low"))
        .where(User.role == "nurse", User.active.is_(True))
        .order_by(User.id, Alert.trial_id, Alert.id)
    ).all()
    by_nurse: dict[int, tuple[User, list[tuple[Alert, Trial]]]] = {}
    for user, alert, trial in rows:
        by_nurse.setdefault(user.id, (user, []))[1].append((alert, trial))
    created = 0
    for user, items in by_nurse.values():
        lines = [f"- trial {trial.id} ({initials(trial.patient.display_name)}): {LABELS[alert.rule]}"
                 f"{f' x{alert.count}' if alert.count > 1 else ''} on {alert.local_day} {_trial_link(trial)}"
                 for alert, trial in items]
        body = "Open low-priority alerts on your trials:\n\n" + "\n".join(lines) + "\n"
        first_trial = items[0][1]
        created += _add(f"digest:{user.id}:{moment.date()}", first_trial, "digest", "email", user.id, user.email,
                        f"Trial Diary daily digest: {len(items)} open low-priority alert(s)", body,
                        {"type": "digest", "alert_ids": [a.id for a, _ in items]}, trial_id=None)
    db.session.commit()
    return created


def trial_notifications(*, user: Actor, trial_id: int) -> list[Notification]:
    """The notifications about a trial (pending, sent or failed), newest first: the care team sees delivery."""
    trial = trial_for(user, trial_id, action="notification.list")
    return notifications_of(trial.id)


def notifications_of(trial_id: int, *, limit: int | None = None) -> list[Notification]:
    """A trial's notifications, newest first, for a caller that already checked access (and audited it)."""
    return list(db.session.execute(
        select(Notification).where(Notification.trial_id == trial_id).order_by(Notification.id.desc()).limit(limit)
    ).scalars())


# --- delivery --------------------------------------------------------------------------------------

def claim_due_notifications(*, limit: int = 500) -> list[int]:
    """Due notifications, marked dispatched (the caller sends them and commits); an alert's first."""
    rows = claim_due(Notification, due=Notification.next_attempt_at, where=(Notification.state == "pending",),
                     lease_seconds=current_app.config["NOTIFICATION_LEASE_SECONDS"], limit=limit, grace=sweep_grace())
    return [row.id for row in sorted(rows, key=lambda row: row.alert_id is None)]


def urgent_notifications(notification_ids: list[int]) -> set[int]:
    """Those of `notification_ids` that tell of an alert: sent through the urgent queue."""
    if not notification_ids:
        return set()
    return set(db.session.execute(select(Notification.id).where(
        Notification.id.in_(notification_ids), Notification.alert_id.is_not(None))).scalars())


def deliver(*, notification_id: int) -> str:
    """Send one notification if it is still pending. Idempotent: a sent or failed one is left alone, and
    the row stays locked while sending, so two workers never send it twice."""
    notification = db.session.execute(
        select(Notification).where(Notification.id == notification_id).with_for_update(skip_locked=True)
    ).scalar_one_or_none()
    if notification is None or notification.state != "pending":
        db.session.rollback()
        return "skipped"
    moment = now()
    notification.attempts += 1
    try:
        channels.send(notification)
    except NotNow as exc:  # held back on purpose (a text in quiet hours): not an attempt, not an error
        notification.attempts -= 1
        notification.next_attempt_at, notification.dispatched_at = exc.until, None
    except DeliveryError as exc:
        notification.last_error = str(exc)[:500]
        give_up = moment - notification.created_at > timedelta(hours=current_app.config["NOTIFICATION_RETRY_HOURS"])
        if exc.permanent or give_up:
            notification.state = "failed"
        else:
            base = current_app.config["NOTIFICATION_RETRY_BASE_SECONDS"]
            notification.next_attempt_at = moment + timedelta(seconds=min(base * 2 ** (notification.attempts - 1),
                                                                          3600))
            notification.dispatched_at = None
        log.warning("notification %s not delivered (attempt %s): %s", notification.id, notification.attempts,
                    notification.last_error)
    else:
        notification.state, notification.sent_at, notification.last_error = "sent", moment, None
    state = notification.state
    db.session.commit()
    if notification.channel == "sms" and state != "pending":
        texts.count(state)
    return state


# --- the patient's phone, when their own entry raised a serious alert ------------------------------

PATIENT_ALERT_SEVERITIES = ("critical", "high")


def _notify_patient(alert: Alert, trial: Trial) -> None:
    """A push to each of the patient's active phones when an entry of theirs raised a critical or high alert:
    they learn that someone was told, and what to do meanwhile. It names no symptom (a lock screen is
    public); once per alert and device, also when a lower alert is raised to high or critical later."""
    if alert.severity not in PATIENT_ALERT_SEVERITIES or alert.latest_entry_id is None or not trial.patient.enrolled:
        return
    patient_user_id = trial.patient.user_id
    devices = db.session.execute(select(Device.id).where(Device.user_id == patient_user_id,
                                                         Device.active.is_(True)).order_by(Device.id)).scalars()
    message = patient_messages.care_team_told(trial.patient.language)
    for device_id in devices:
        _add(f"alert:{alert.id}:patient:device:{device_id}", trial, "alert", "push", patient_user_id,
             str(device_id), message.subject, message.body, {"type": "alert", "trial_id": trial.id},
             alert_id=alert.id, urgent=True)


# --- helpers ---------------------------------------------------------------------------------------

def _notify_staff(alert: Alert, trial: Trial, groups: Iterable[str], *, stage: str) -> None:
    groups = tuple(groups)
    if not groups:
        return
    who = initials(trial.patient.display_name)
    label = LABELS[alert.rule]
    again = "Not acknowledged yet: " if stage == "escalated" else ""
    subject = f"[{alert.severity.upper()}] {again}{label}: trial {trial.id} ({who})"
    body = (f"{again}{label}, severity {alert.severity}.\n"
            f"Patient {who}, {therapy(trial.therapy).short} {trial.id}, local day {alert.local_day}"
            f"{f', reported {alert.count} times' if alert.count > 1 else ''}.\n\n"
            f"Sign in to read the entry and acknowledge: {_trial_link(trial)}\n")
    data = {"type": f"alert.{stage}", "alert_id": alert.id, "trial_id": trial.id, "rule": alert.rule,
            "severity": alert.severity, "local_day": alert.local_day.isoformat(), "patient_initials": who,
            "link": _trial_link(trial)}
    cause = f"alert:{alert.id}:{stage}:{alert.severity}"
    urgent = alert.severity in PATIENT_ALERT_SEVERITIES  # critical and high: their messages are sent first
    for user in audience(trial, groups):
        _add(f"{cause}:user:{user.id}:email", trial, "alert", "email", user.id, user.email, subject, body, data,
             alert_id=alert.id, urgent=urgent)
    _webhooks(cause, trial, "alert", subject, body, data, alert_id=alert.id, urgent=urgent)


def _webhooks(cause: str, trial: Trial, kind: str, subject: str, body: str, data: dict, alert_id=None,
              urgent: bool = False, due: datetime | None = None) -> None:
    hooks = db.session.execute(select(Webhook).where(Webhook.clinic_id == trial.clinic_id,
                                                     Webhook.active.is_(True))).scalars()
    for hook in hooks:
        _add(f"{cause}:webhook:{hook.id}", trial, kind, "webhook", None, str(hook.id), subject, body, data,
             alert_id=alert_id, urgent=urgent, due=due)


def _add(key: str, trial: Trial | None, cause: str, channel: str, recipient: int | None, destination: str,
         subject: str, body: str, data: dict[str, Any], *, alert_id=None, trial_id: Any = "trial",
         clinic_id: int | None = None, urgent: bool = False, due: datetime | None = None) -> int:
    """One notification row, unless its key exists already (then nothing: it is not sent twice), sent from `due`
    (now by default). An alert's is sent as soon as the transaction that raised the alert commits, in the same
    wake-up of the worker."""
    moment = now()
    # Counted from RETURNING: a driver's rowcount for INSERT ... ON CONFLICT DO NOTHING is not portable
    # (psycopg reports -1 where SQLite reports 1).
    inserted = db.session.execute(_insert_notification(), dict(
        key=key, clinic_id=trial.clinic_id if clinic_id is None else clinic_id,
        trial_id=trial.id if trial_id == "trial" else trial_id, cause=cause,
        alert_id=alert_id, channel=channel, recipient_user_id=recipient, destination=destination, subject=subject,
        body=body, data=data, state="pending", attempts=0, next_attempt_at=due or moment, created_at=moment,
    )).scalars().all()
    if alert_id is not None:
        for notification_id in inserted:
            at_once("notifications.deliver", notification_id, urgent=urgent)
    return len(inserted)


@dialect_statement
def _insert_notification(insert):
    table = Notification.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


def _trial_link(trial: Trial) -> str:
    """The trial's page in the clinic console, where the recipient signs in to read the rest."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/console/trials/{trial.id}"

