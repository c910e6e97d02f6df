"""Safety alerts: the rules run on every new or corrected entry (after commit, through the outbox), the
daily missed-diary check, and acknowledgement by the care team."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..clock import now
from ..domain.numbers import percentile, rounded
from ..domain.safety import RANK, Finding, alert_status, covers_day, covers_entry, findings
from ..errors import Conflict, NotFound
from ..extensions import db
from ..extensions.database import get_locked
from ..models import Alert, AlertEntry, DiaryEntry, Notification, Trial, User
from . import audit
from .access import CARE, Actor, may_see_trial
from .expected_findings import expectations_of
from .notifications import alert_raised, escalation_time
from .trials import active_day_trials


def check_entry(*, entry_id: int, version: int) -> int:
    """Run the safety rules on one version of an entry, in the caller's transaction. Idempotent: an entry
    counts once per alert. A corrected entry is checked again as its new version; a voided one raises nothing."""
    entry = db.session.get(DiaryEntry, entry_id)
    if entry is None or entry.voided_at is not None or entry.version != version:
        return 0
    trial = db.session.get(Trial, entry.trial_id)
    found = findings(entry.content, baseline_pain=trial.baseline["pain"], therapy=trial.therapy)
    expected = expectations_of(trial.id) if found else []
    moment = now()
    return sum(_raise(trial, finding, _local_day(trial, entry.recorded_at), entry,
                      covered=covers_entry(expected, finding.rule, entry.recorded_at, moment))
               for finding in found)


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
            expected = None
            while day < today:
                if day not in recorded[trial.id] and day not in flagged[trial.id]:
                    expected = expectations_of(trial.id) if expected is None else expected
                    covered = covers_day(expected, "missed_diary", _day_end(trial, day), moment)
                    created += _raise(trial, Finding("missed_diary", "low"), day, None, covered=covered)
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
    # Open first, most severe first; within a severity an escalated alert (nobody answered in time) before a newer one.
    return sorted(alerts, key=lambda a: (a.status != "open", -RANK[a.severity], a.escalated_at is None, -a.id))


def alert_stories(alerts: list[Alert]) -> dict[int, dict]:
    """For each alert (of a list the caller may see): what the patient reported (the latest entry that fired it), who
    was told at once and to whom it escalated (the staff messages written about it, with their delivery), and
    whether the patient's own phone was told. Three queries, whatever the number of alerts."""
    if not alerts:
        return {}
    entry_ids = {a.latest_entry_id for a in alerts} - {None}
    entries = {e.id: e for e in db.session.execute(select(DiaryEntry).where(DiaryEntry.id.in_(entry_ids))).scalars()}
    sent = list(db.session.execute(
        select(Notification).where(Notification.alert_id.in_([a.id for a in alerts]))
        .order_by(Notification.created_at, Notification.id)).scalars())
    recipients = {n.recipient_user_id for n in sent if n.channel == "email"} - {None}
    names = {u.id: u.display_name or u.email
             for u in db.session.execute(select(User).where(User.id.in_(recipients))).scalars()}
    stories = {a.id: {"entry": entries.get(a.latest_entry_id), "told": [], "escalated_to": [], "patient_told": False}
               for a in alerts}
    for note in sent:
        story = stories[note.alert_id]
        if note.channel in ("push", "sms"):
            story["patient_told"] = True
            continue
        who = names.get(note.recipient_user_id, note.destination) if note.channel == "email" else "the clinic webhook"
        told = {"who": who, "channel": note.channel, "state": note.state, "at": note.sent_at or note.created_at}
        story["escalated_to" if (note.data or {}).get("type") == "alert.escalated" else "told"].append(told)
    return stories


def statistics(*, user: Actor, days: int) -> dict:
    """What the clinic's alerts stored in the last `days` days cost, per rule and severity (the alert's severity now):
    raised (all of them) = expected + acknowledged (open ones answered) + still open; the median and 90th percentile
    minutes from opened to acknowledged of those acknowledged; notifications sent about them."""
    moment = now()
    since = moment - timedelta(days=days)
    audit.record("alert.statistics", patient_id=None, object_type="clinic", object_id=user.clinic_id)
    in_period = (Alert.clinic_id == user.clinic_id, Alert.opened_at >= since)
    rows: dict[tuple[str, str], dict] = {}
    minutes: dict[tuple[str, str], list[float]] = defaultdict(list)
    for rule, severity, status, opened_at, acknowledged_at in db.session.execute(
            select(Alert.rule, Alert.severity, Alert.status, Alert.opened_at, Alert.acknowledged_at).where(*in_period)):
        row = rows.setdefault((rule, severity), {"rule": rule, "severity": severity, "raised": 0, "expected": 0,
                                                 "acknowledged": 0, "still_open": 0, "notifications_sent": 0})
        row["raised"] += 1
        row[{"open": "still_open", "acknowledged": "acknowledged", "expected": "expected"}[status]] += 1
        if status == "acknowledged":
            minutes[(rule, severity)].append((acknowledged_at - opened_at).total_seconds() / 60)
    for rule, severity, sent in db.session.execute(
            select(Alert.rule, Alert.severity, func.count(Notification.id))
            .join(Notification, Notification.alert_id == Alert.id)
            .where(*in_period, Notification.state == "sent").group_by(Alert.rule, Alert.severity)):
        rows[(rule, severity)]["notifications_sent"] = sent
    for key, row in rows.items():
        row["median_minutes_to_acknowledge"] = rounded(percentile(minutes[key], 50), 1)
        row["p90_minutes_to_acknowledge"] = rounded(percentile(minutes[key], 90), 1)
    ordered = sorted(rows.values(), key=lambda r: (-RANK[r["severity"]], r["rule"]))
    return {"days": days, "since": since, "rules": ordered}


def acknowledge(*, user: Actor, alert_id: int, note: str | None) -> Alert:
    """Acknowledge an open alert: its escalation is called off. An expected alert may be acknowledged too: it stays
    expected, with who acknowledged it. An alert already acknowledged is a 409 naming who acknowledged it and when,
    so that a second note is never silently dropped."""
    alert = get_locked(Alert, alert_id)
    trial = db.session.get(Trial, alert.trial_id) if alert else None
    audit.record("alert.acknowledge", patient_id=trial.patient_id if trial else None, object_type="alert",
                 object_id=alert_id)
    if alert is None or alert.clinic_id != user.clinic_id or user.role not in CARE:
        raise NotFound("No such alert.")
    if alert.acknowledged_at is not None:
        raise Conflict("This alert was already acknowledged.", details={
            "acknowledged_by": alert.acknowledged_by, "acknowledged_at": alert.acknowledged_at.isoformat()})
    moment = now()
    if alert.status == "open":
        alert.status = "acknowledged"
    alert.acknowledged_at, alert.acknowledged_by = moment, user.id
    alert.acknowledgement_note, alert.escalate_at, alert.updated_at = note, None, moment
    db.session.commit()
    return alert


def _raise(trial: Trial, finding: Finding, day: date, entry: DiaryEntry | None, *, covered: bool = False) -> int:
    """Store a firing of a rule for this trial and local day (docs/clinical-rules.md §3). A covered firing below high
    adds to, or stores, the day's expected alert, which tells no one. Any other adds to the day's open alert if there
    is one (raising its severity, and telling who must hear of the new one); else one at high or above lifts the
    day's expected alert to open at its severity; else it opens an alert. Returns 1 if an alert was stored."""
    moment = now()
    status = alert_status(finding.severity, covered)
    if status == "expected":
        alert = _alert_of(trial.id, finding.rule, day, "expected")
    else:
        alert = _alert_of(trial.id, finding.rule, day, "open")
        if alert is None and RANK[finding.severity] >= RANK["high"]:
            alert = _alert_of(trial.id, finding.rule, day, "expected")
    if alert is None:
        alert = Alert(clinic_id=trial.clinic_id, trial_id=trial.id, rule=finding.rule, severity=finding.severity,
                      local_day=day, status=status, count=1 if entry else 0, opened_at=moment, updated_at=moment,
                      first_entry_id=entry.id if entry else None, latest_entry_id=entry.id if entry else None,
                      escalate_at=escalation_time(finding.severity, moment) if status == "open" else None)
        db.session.add(alert)
        db.session.flush()
        if entry is not None:
            db.session.add(AlertEntry(alert_id=alert.id, entry_id=entry.id))
        if status == "open":
            alert_raised(alert, trial)
        return 1
    if entry is not None and not db.session.execute(select(AlertEntry.id).where(
            AlertEntry.alert_id == alert.id, AlertEntry.entry_id == entry.id)).first():
        db.session.add(AlertEntry(alert_id=alert.id, entry_id=entry.id))
        alert.count += 1
        alert.latest_entry_id, alert.updated_at = entry.id, moment
    if alert.status == "expected" and status == "open":  # the lead out on a day of expected redness: open, high
        alert.status, alert.opened_at = "open", moment
        alert.severity, alert.updated_at = finding.severity, moment
        alert.escalate_at = escalation_time(finding.severity, moment)
        alert_raised(alert, trial)
    elif RANK[finding.severity] > RANK[alert.severity]:  # e.g. a dressing off, then the lead out: now high
        alert.severity, alert.updated_at = finding.severity, moment
        if alert.status == "open":
            alert.escalate_at = escalation_time(finding.severity, moment)
            alert_raised(alert, trial)
    return 0


def _alert_of(trial_id: int, rule: str, day: date, status: str) -> Alert | None:
    """The day's live alert of this trial and rule in `status` (an acknowledged expected one is not live), locked."""
    query = select(Alert).where(Alert.trial_id == trial_id, Alert.rule == rule, Alert.local_day == day,
                                Alert.status == status)
    if status == "expected":
        query = query.where(Alert.acknowledged_at.is_(None))
    return db.session.execute(query.with_for_update()).scalar_one_or_none()


def _day_end(trial: Trial, day: date) -> datetime:
    """The end of a local day of the trial (the next local midnight), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(trial.timezone)).astimezone(UTC)


def _local_day(trial: Trial, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(trial.timezone)).date()

