"""Safety alerts: the rules run on every new or corrected entry (after commit, through the outbox), the
daily missed-diary check, and acknowledgement by the care team."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clock import now
from ..domain.safety import RANK, Finding, findings
from ..errors import Conflict, NotFound
from ..extensions import db
from ..extensions.database import get_locked
from ..models import Alert, AlertEntry, DiaryEntry, Trial
from . import audit
from .access import CARE, Actor, may_see_trial
from .notifications import alert_raised, escalation_time
from .trials import active_day_trials


def check_entry(*, entry_id: int, version: int) -> int:
    """Run the safety rules on one version of an entry, in the caller's transaction. Idempotent: an entry
    counts once per alert. A corrected entry is checked again as its new version; a voided one raises nothing."""
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.voided_at is not None or entry.version != version:
        return 0
    trial = db.session.get(Trial, entry.trial_id)
    return sum(_raise(trial, finding, _local_day(trial, entry.recorded_at), entry)
               for finding in findings(entry.content, baseline_pain=trial.baseline["pain"], therapy=trial.therapy))


def raise_missed_diaries(*, chunk: int = 500) -> int:
    """Low alerts for whole local days (after the implant day) of active day-bucket trials with no entry."""
    moment = now()
    created = 0
    trials = active_day_trials(moment)
    for first in range(0, len(trials), chunk):
        batch = {t.id: t for t in trials[first:first + chunk]}
        recorded: dict[int, set[date]] = defaultdict(set)
        for trial_id, at in db.session.execute(select(DiaryEntry.trial_id, DiaryEntry.recorded_at).where(
                DiaryEntry.trial_id.in_(batch), DiaryEntry.voided_at.is_(None))):
            recorded[trial_id].add(_local_day(batch[trial_id], at))
        flagged: dict[int, set[date]] = defaultdict(set)
        for trial_id, day in db.session.execute(select(Alert.trial_id, Alert.local_day).where(
                Alert.trial_id.in_(batch), Alert.rule == "missed_diary")):
            flagged[trial_id].add(day)
        for trial in batch.values():
            day = _local_day(trial, trial.start_at) + timedelta(days=1)
            today = _local_day(trial, moment)
            while day < today:
                if day not in recorded[trial.id] and day not in flagged[trial.id]:
                    created += _raise(trial, Finding("missed_diary", "low"), day, None)
                day += timedelta(days=1)
    db.session.commit()
    return created


def list_alerts(*, user: Actor, status: str | None = None, severity: str | None = None, trial_id: int | None = None,
                limit: int = 200) -> list[Alert]:
    if trial_id is not None and not may_see_trial(user, trial_id):
        # Another clinic's trial, or none: the same empty list, audited as refused.
        audit.record("alert.list", patient_id=None, object_type="trial", object_id=trial_id, outcome="not_found")
        return []
    query = select(Alert).where(Alert.clinic_id == user.clinic_id)
    if status:
        query = query.where(Alert.status == status)
    if severity:
        query = query.where(Alert.severity == severity)
    if trial_id is not None:
        query = query.where(Alert.trial_id == trial_id)
    audit.record("alert.list", patient_id=None, object_type="clinic", object_id=user.clinic_id)
    alerts = list(db.session.execute(query.order_by(Alert.id.desc()).limit(limit)).scalars())
    return sorted(alerts, key=lambda a: (a.status != "open", -RANK[a.severity], -a.id))


def acknowledge(*, user: Actor, alert_id: int, note: str | None) -> Alert:
    """Acknowledge an open alert: its escalation is called off. An alert already acknowledged is a 409 naming who
    acknowledged it and when, so that a second note is never silently dropped."""
    alert = get_locked(Alert, alert_id)
    trial = db.session.get(Trial, alert.trial_id) if alert else None
    audit.record("alert.acknowledge", patient_id=trial.patient_id if trial else None, object_type="alert",
                 object_id=alert_id)
    if alert is None or alert.clinic_id != user.clinic_id or user.role not in CARE:
        raise NotFound("No such alert.")
    if alert.status != "open":
        raise Conflict("This alert was already acknowledged.", details={
            "acknowledged_by": alert.acknowledged_by, "acknowledged_at": alert.acknowledged_at.isoformat()})
    moment = now()
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", moment, user.id
    alert.acknowledgement_note, alert.escalate_at, alert.updated_at = note, None, moment
    db.session.commit()
    return alert


def _raise(trial: Trial, finding: Finding, day: date, entry: DiaryEntry | None) -> int:
    """Open an alert, or add the entry to the open one of this trial, rule and day. Returns 1 if opened."""
    alert = db.session.execute(
        select(Alert).where(Alert.trial_id == trial.id, Alert.rule == finding.rule, Alert.local_day == day,
                            Alert.status == "open").with_for_update()
    ).scalar_one_or_none()
    moment = now()
    if alert is None:
        alert = Alert(clinic_id=trial.clinic_id, trial_id=trial.id, rule=finding.rule, severity=finding.severity,
                      local_day=day, status="open", count=1 if entry else 0, opened_at=moment, updated_at=moment,
                      first_entry_id=entry.id if entry else None, latest_entry_id=entry.id if entry else None,
                      escalate_at=escalation_time(finding.severity, moment))
        db.session.add(alert)
        db.session.flush()
        if entry is not None:
            db.session.add(AlertEntry(alert_id=alert.id, entry_id=entry.id))
        alert_raised(alert, trial)
        return 1
    if entry is not None and not db.session.execute(select(AlertEntry.id).where(
            AlertEntry.alert_id == alert.id, AlertEntry.entry_id == entry.id)).first():
        db.session.add(AlertEntry(alert_id=alert.id, entry_id=entry.id))
        alert.count += 1
        alert.latest_entry_id, alert.updated_at = entry.id, moment
    if RANK[finding.severity] > RANK[alert.severity]:  # e.g. a dressing off, then the lead out: now high
        alert.severity, alert.updated_at = finding.severity, moment
        alert.escalate_at = escalation_time(finding.severity, moment)
        alert_raised(alert, trial)
    return 0


def _local_day(trial: Trial, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(trial.timezone)).date()

