"""The nurse's worklist: every open trial with what needs attention, most urgent first."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..clock import now
from ..domain import blocks
from ..domain.safety import SEVERITIES
from ..extensions import db
from ..models import Alert, CareTeamMember, DiaryEntry, Evaluation, Trial, User
from . import audit
from .access import Actor
from .call_backs import open_call_backs


def worklist(*, user: Actor, mine: bool = False) -> list[dict[str, Any]]:
    """One row per open trial of the clinic (or of the caller's care teams), ordered as docs/clinical-rules.md §3 says:
    open critical alerts, then high (a call-back request is one: docs/sms.md), then missed diaries, then the rest
    by end time."""
    moment = now()
    query = select(Trial).where(Trial.clinic_id == user.clinic_id, Trial.closure.is_(None))
    if mine:
        query = query.join(CareTeamMember, CareTeamMember.trial_id == Trial.id).where(CareTeamMember.user_id == user.id)
    trials = list(db.session.execute(query).scalars())
    audit.record("monitoring.worklist", patient_id=None, object_type="clinic", object_id=user.clinic_id)
    ids = [t.id for t in trials]
    last_entries = _last_entries(ids)
    today = _entries_today(trials, moment)
    alerts = _open_alerts(ids)
    evaluations = _latest_evaluations(ids)
    recorded = _timepoints_recorded([t for t in trials if t.is_block])
    call_backs = open_call_backs(ids)
    answered = _critical_answered_today(trials, moment)
    rows = []
    for trial in trials:
        counts = alerts.get(trial.id, {})
        last = last_entries.get(trial.id)
        evaluation = evaluations.get(trial.id)
        metrics = evaluation.metrics if evaluation else {}
        day, of = _progress(trial, moment)
        rows.append({
            "trial_id": trial.id, "patient_id": trial.patient_id, "patient_display_name": trial.patient.display_name,
            "therapy": trial.therapy, "status": trial.status_at(moment), "bucket": trial.protocol["bucket"],
            "day": day, "of": of, "start_at": trial.start_at, "end_at": trial.end_at,
            "entries_today": today.get(trial.id, 0),
            "last_entry_at": last[0] if last else None, "latest_pain": last[1] if last else None,
            "compliance": metrics.get("compliance"), "timely_percent": metrics.get("timely_percent"),
            "pain_relief_percent": metrics.get("pain_relief_percent"),
            "outcome": evaluation.outcome if evaluation else None, "final": evaluation.final if evaluation else None,
            "open_alerts": {s: counts.get(s, 0) for s in reversed(SEVERITIES)},
            "missed_diary_days": counts.get("missed_diary", 0),
            "call_back": call_backs.get(trial.id),
            "critical_acknowledged_today": answered.get(trial.id, []),
            **_block_progress(trial, moment, recorded),
        })
    rows.sort(key=_urgency)
    return rows


def _critical_answered_today(trials: list[Trial], moment) -> dict[int, list[dict[str, Any]]]:
    """Critical alerts of the trial's local today that were acknowledged: who and when, so that the row still says
    "critical, acknowledged 07:58 by Nora" for the rest of the day."""
    if not trials:
        return {}
    today = {t.id: moment.astimezone(ZoneInfo(t.timezone)).date() for t in trials}
    answered: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for trial_id, day, at, name, email in db.session.execute(
            select(Alert.trial_id, Alert.local_day, Alert.acknowledged_at, User.display_name, User.email)
            .join(User, User.id == Alert.acknowledged_by)
            .where(Alert.trial_id.in_(today), Alert.severity == "critical", Alert.status == "acknowledged",
                   Alert.local_day >= min(today.values())).order_by(Alert.acknowledged_at)):
        if day == today[trial_id]:
            answered[trial_id].append({"acknowledged_at": at, "by": name or email})
    return answered


def _urgency(row: dict[str, Any]) -> tuple:
    alerts = row["open_alerts"]
    group = 0 if alerts["critical"] else 1 if alerts["high"] else 2 if row["missed_diary_days"] else 3
    return group, row["end_at"], row["trial_id"]


def _progress(trial: Trial, moment) -> tuple[int, int]:
    """Day (or hour) N of M, counting the implant day (or first hour) as 1."""
    unit = timedelta(days=1) if trial.protocol["bucket"] == "day" else timedelta(hours=1)
    total = max(1, math.ceil((trial.end_at - trial.start_at) / unit))
    elapsed = (moment - trial.start_at) // unit + 1
    return max(0, min(elapsed, total)), total


def _block_progress(trial: Trial, moment, recorded: dict[int, int]) -> dict[str, Any]:
    """A block's own progress: timepoints recorded of those its schedule expected by now (null otherwise)."""
    if not trial.is_block:
        return {"timepoints_recorded": None, "timepoints_expected": None, "timepoints_scheduled": None}
    return {"timepoints_recorded": recorded.get(trial.id, 0),
            "timepoints_expected": blocks.expected_so_far(trial.start_at, trial.end_at, moment),
            "timepoints_scheduled": len(trial.schedule)}


def _timepoints_recorded(block_trials: list[Trial]) -> dict[int, int]:
    """Valid entries of each block trial within its window (start to end), in one query."""
    if not block_trials:
        return {}
    return dict(db.session.execute(
        select(DiaryEntry.trial_id, func.count())
        .join(Trial, Trial.id == DiaryEntry.trial_id)
        .where(DiaryEntry.trial_id.in_([t.id for t in block_trials]), DiaryEntry.voided_at.is_(None),
               DiaryEntry.recorded_at >= Trial.start_at, DiaryEntry.recorded_at <= Trial.end_at)
        .group_by(DiaryEntry.trial_id)
    ).all())


def _last_entries(trial_ids: list[int]) -> dict[int, tuple[Any, int]]:
    """Each trial's latest valid entry (by recorded_at, then the newest row): when, and its pain score.

    One probe of the (trial, recorded_at) index per trial, and only the score read out of the entry's JSON.
    """
    if not trial_ids:
        return {}
    latest = (select(DiaryEntry.id).where(DiaryEntry.trial_id == Trial.id, DiaryEntry.voided_at.is_(None))
              .order_by(DiaryEntry.recorded_at.desc(), DiaryEntry.id.desc()).limit(1)
              .correlate(Trial).scalar_subquery())
    rows = db.session.execute(
        select(DiaryEntry.trial_id, DiaryEntry.recorded_at, DiaryEntry.content[("pain", "score")].as_integer())
        .where(DiaryEntry.id.in_(select(latest).where(Trial.id.in_(trial_ids))))
    ).all()
    return {trial_id: (at, score) for trial_id, at, score in rows}


def _entries_today(trials: list[Trial], moment) -> dict[int, int]:
    """Entries (not voided) recorded since local midnight in each trial's timezone."""
    if not trials:
        return {}
    midnight = {t.id: moment.astimezone(ZoneInfo(t.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
                for t in trials}
    counts: dict[int, int] = defaultdict(int)
    for trial_id, at in db.session.execute(
            select(DiaryEntry.trial_id, DiaryEntry.recorded_at)
            .where(DiaryEntry.trial_id.in_(midnight), DiaryEntry.voided_at.is_(None),
                   DiaryEntry.recorded_at >= min(midnight.values()))):
        if at >= midnight[trial_id]:
            counts[trial_id] += 1
    return counts


def _open_alerts(trial_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if not trial_ids:
        return counts
    rows = db.session.execute(
        select(Alert.trial_id, Alert.severity, Alert.rule, func.count())
        .where(Alert.trial_id.in_(trial_ids), Alert.status == "open")
        .group_by(Alert.trial_id, Alert.severity, Alert.rule)
    ).all()
    for trial_id, severity, rule, count in rows:
        counts[trial_id][severity] = counts[trial_id].get(severity, 0) + count
        if rule == "missed_diary":
            counts[trial_id]["missed_diary"] = counts[trial_id].get("missed_diary", 0) + count
    return counts


def _latest_evaluations(trial_ids: list[int]) -> dict[int, Any]:
    """Each trial's newest evaluation: only the columns a row shows (not its protocol and criteria documents)."""
    if not trial_ids:
        return {}
    newest = (select(func.max(Evaluation.id)).where(Evaluation.trial_id.in_(trial_ids))
              .group_by(Evaluation.trial_id))
    rows = db.session.execute(select(Evaluation.trial_id, Evaluation.outcome, Evaluation.final, Evaluation.metrics)
                              .where(Evaluation.id.in_(newest)))
    return {row.trial_id: row for row in rows}
