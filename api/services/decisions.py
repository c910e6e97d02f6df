"""The physician's implant decision: once per trial, by a physician of its care team; it closes the diary."""

from __future__ import annotations

from sqlalchemy import select

from ..clock import now
from ..errors import Conflict, Forbidden, NotFound, TrialClosed
from ..extensions import db
from ..models import Decision
from .access import Actor, trial_for
from .evaluations import latest_of

ONLY_CARE_TEAM_PHYSICIANS = "Only a physician on the trial's care team records its decision."


def may_decide(user: Actor, trial) -> bool:
    """The one rule of who records a trial's decision: a physician on its care team."""
    return user.role == "physician" and user.id in trial.care_team


def record_decision(*, user: Actor, trial_id: int, decision: str, rationale: str) -> Decision:
    trial = trial_for(user, trial_id, action="decision.create", lock=True)
    if not may_decide(user, trial):
        raise Forbidden(ONLY_CARE_TEAM_PHYSICIANS)
    if trial.closure == "cancelled":
        raise TrialClosed("The trial was cancelled.")
    if trial.closure == "decided" or db.session.execute(
            select(Decision.id).where(Decision.trial_id == trial.id)).first():
        raise Conflict("The decision for this trial was already recorded; it cannot change.")
    latest = latest_of(trial.id)
    record = Decision(trial_id=trial.id, physician_id=user.id, decision=decision, rationale=rationale,
                      evaluation_id=latest.id if latest else None, decided_at=now())
    trial.closure, trial.closed_at = "decided", record.decided_at
    db.session.add(record)
    db.session.commit()
    return record


def get_decision(*, user: Actor, trial_id: int) -> Decision:
    trial = trial_for(user, trial_id, action="decision.read")
    record = decision_of(trial.id)
    if record is None:
        raise NotFound("No decision has been recorded for this trial.")
    return record


def decision_of(trial_id: int) -> Decision | None:
    return db.session.execute(select(Decision).where(Decision.trial_id == trial_id)).scalar_one_or_none()
