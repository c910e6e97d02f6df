"""A trial's pre-trial documentation (replaced whole by the care team) and its readiness checklist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..clock import now
from ..domain import readiness as rules
from ..errors import TrialClosed
from ..extensions import db
from ..models import ReadinessRequirement, Trial, TrialDocumentation
from .access import Actor, trial_for


def get_documentation(*, user: Actor, trial_id: int) -> dict[str, Any]:
    trial = trial_for(user, trial_id, action="documentation.read")
    return _shown(trial, documentation_of(trial.id))


def put_documentation(*, user: Actor, trial_id: int, content: dict[str, Any]) -> dict[str, Any]:
    """Replace the trial's documentation; refused once the decision (which signed it) or a cancellation closed it."""
    trial = trial_for(user, trial_id, action="documentation.update", lock=True)
    if not trial.diary_open:
        raise TrialClosed(f"The trial is {trial.closure}; its documentation can no longer change.")
    stored = documentation_of(trial.id)
    if stored is None:
        stored = TrialDocumentation(trial_id=trial.id, content=content, updated_by=user.id, updated_at=now())
        db.session.add(stored)
    else:
        stored.content, stored.updated_by, stored.updated_at = content, user.id, now()
    db.session.commit()
    return _shown(trial, stored)


def trial_readiness(*, user: Actor, trial_id: int) -> dict[str, Any]:
    trial = trial_for(user, trial_id, action="readiness.read")
    return {"trial_id": trial.id, **readiness_of(trial)}


def readiness_of(trial: Trial) -> dict[str, Any]:
    """The checklist of `trial` under its clinic's requirements for its therapy (no access check: callers did)."""
    stored = documentation_of(trial.id)
    return rules.readiness(trial.therapy, stored.content if stored else {}, clinic_overrides(trial.clinic_id,
                                                                                           trial.therapy))


def documentation_of(trial_id: int) -> TrialDocumentation | None:
    return db.session.get(TrialDocumentation, trial_id)


def clinic_overrides(clinic_id: int, therapy: str) -> dict[str, Any]:
    row = db.session.execute(select(ReadinessRequirement.overrides).where(
        ReadinessRequirement.clinic_id == clinic_id, ReadinessRequirement.therapy == therapy)).first()
    return row[0] if row else {}


def _shown(trial: Trial, stored: TrialDocumentation | None) -> dict[str, Any]:
    return {"trial_id": trial.id, **(stored.content if stored else {}),
            "updated_at": stored.updated_at if stored else None, "updated_by": stored.updated_by if stored else None}
