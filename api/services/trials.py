"""Trials: registration with baseline, protocol overrides and care team; end date changes; cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..clock import now
from ..domain import blocks, therapies
from ..errors import Invalid, TrialClosed
from ..extensions import db
from ..models import CareTeamMember, Patient, Trial, User
from . import audit, block_reminders, pathway
from .access import CARE, PATIENT, Actor, may_see_patient
from .evaluations import request_evaluation


def create_trial(
    *, staff: Actor, patient_id: int, therapy: str, start_at: datetime, end_at: datetime | None = None,
    baseline: dict[str, Any], protocol: dict[str, Any], timezone: str | None = None,
    care_team: list[int] | None = None,
    device: str | None = None, target: dict[str, Any] | None = None, agent: str | None = None,
) -> Trial:
    """Register a trial (validated by the schema for its therapy). A block's diary ends 8 hours after it unless
    told otherwise, its reminders are scheduled, and `trial.warnings` says when the yearly count is exceeded."""
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.clinic_id != staff.clinic_id:
        raise Invalid("No such patient in your clinic.", errors={"patient_id": ["No such patient."]})
    members = _care_team(staff, care_team if care_team is not None else [staff.id])
    row = therapies.therapy(therapy)
    if end_at is None:
        if not row.is_block:
            raise Invalid("The trial needs an end.", errors={"end_at": ["Missing data for required field."]})
        end_at = blocks.default_end(start_at)
    trial = Trial(
        clinic_id=staff.clinic_id, patient_id=patient.id, therapy=therapy, device=device,
        start_at=start_at, end_at=end_at, timezone=timezone or patient.timezone,
        baseline=baseline, protocol_overrides=protocol, created_by=staff.id,
        target=target if row.is_block else None, agent=agent if row.is_block else None,
        care_team_members=[CareTeamMember(user_id=u.id) for u in members],
    )
    db.session.add(trial)
    db.session.flush()
    warnings: list[str] = []
    if row.is_block:
        block_reminders.schedule_reminders(trial)
        warnings = pathway.frequency_warnings(trial)
    audit.record("trial.create", patient_id=patient.id, object_type="trial", object_id=trial.id)
    db.session.commit()
    trial.warnings = warnings  # not stored: the answer to this request only
    return trial


def list_trials(*, user: Actor, status: str | None = None, patient_id: int | None = None) -> list[Trial]:
    """The caller's trials (a patient's own; staff: the clinic's), optionally of one patient. A patient the caller
    may not see, or that does not exist, gives an empty list, audited as refused: never an existence oracle."""
    query = select(Trial).order_by(Trial.id)
    if user.role == PATIENT:
        query = query.where(Trial.patient_id.in_(user.patient_ids))  # at every clinic they enrolled with
    else:
        query = query.where(Trial.clinic_id == user.clinic_id)
    if patient_id is not None:
        if not may_see_patient(user, patient_id):
            audit.record("trial.list", patient_id=None, object_type="patient", object_id=patient_id,
                         outcome="not_found")
            return []
        query = query.where(Trial.patient_id == patient_id)
    audit.record("trial.list", patient_id=patient_id, object_type="clinic", object_id=user.clinic_id)
    trials = list(db.session.execute(query).scalars())
    moment = now()
    return [t for t in trials if status is None or t.status_at(moment) == status]


def open_trials(*, user: Actor) -> list[Trial]:
    """The caller's trials whose diary is open (not decided, not cancelled), the one ending soonest first: a
    patient's diary page writes to one of them (they choose when there are several)."""
    return sorted((t for t in list_trials(user=user) if t.diary_open), key=lambda t: (t.end_at, t.id))


def trial_labels(*, user: Actor, trial_ids) -> dict[int, dict[str, Any]]:
    """The patient's name and the therapy of the caller's clinic's trials, to name them in lists (alerts)."""
    ids = set(trial_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Trial.id, Trial.therapy, Trial.timezone, Patient.display_name)
        .join(Patient, Patient.id == Trial.patient_id)
        .where(Trial.id.in_(ids), Trial.clinic_id == user.clinic_id)).all()
    return {row.id: {"patient": row.display_name, "therapy": row.therapy, "timezone": row.timezone} for row in rows}


def patient_timezone(*, user: Actor, patient_id: int) -> str | None:
    """A patient's timezone (the default of their trial's), if the patient is of the caller's clinic."""
    patient = db.session.get(Patient, patient_id)
    return patient.timezone if patient is not None and patient.clinic_id == user.clinic_id else None


def update_trial(*, trial: Trial, end_at: datetime | None = None, cancel: bool = False,
                 care_team: list[int] | None = None, staff: Actor) -> Trial:
    """Move the end (lead out early, trial extended), change the care team, or cancel."""
    if not trial.diary_open:
        raise TrialClosed(f"The trial is {trial.closure}; it can no longer change.")
    if end_at is not None:
        if problem := therapies.therapy(trial.therapy).length_problem(trial.start_at, end_at):
            raise Invalid("The trial cannot end then.", errors={"end_at": [problem]})
        trial.end_at = end_at
        if trial.is_block:
            block_reminders.schedule_reminders(trial)
        request_evaluation(trial_id=trial.id)
    if care_team is not None:
        wanted = {u.id for u in _care_team(staff, care_team)}
        trial.care_team_members = [m for m in trial.care_team_members if m.user_id in wanted] + [
            CareTeamMember(user_id=uid) for uid in sorted(wanted - set(trial.care_team))
        ]
    if cancel:
        trial.closure, trial.closed_at = "cancelled", now()
    trial.updated_at = now()  # a care-team change alone does not update the trial's row
    audit.record("trial.update", patient_id=trial.patient_id, object_type="trial", object_id=trial.id)
    db.session.commit()
    return trial


def active_day_trials(moment) -> list[Trial]:
    """Open trials running at `moment` whose diary is kept in day buckets (missed days, evening reminders)."""
    trials = db.session.execute(
        select(Trial).where(Trial.start_at <= moment, Trial.end_at > moment, Trial.closure.is_(None))
    ).scalars()
    return [t for t in trials if t.protocol["bucket"] == "day"]  # not blocks: their diary has its own schedule


def _care_team(staff: Actor, user_ids: list[int]) -> list[User]:
    if not user_ids:
        raise Invalid("A trial needs a care team.", errors={"care_team": ["Name at least one nurse or physician."]})
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars()}
    bad = [uid for uid in user_ids if uid not in users or users[uid].clinic_id != staff.clinic_id
           or users[uid].role not in CARE]
    if bad:
        raise Invalid("Care team members must be nurses or physicians of your clinic.",
                      errors={"care_team": [f"Not a nurse or physician of this clinic: {', '.join(map(str, bad))}."]})
    return [users[uid] for uid in dict.fromkeys(user_ids)]

