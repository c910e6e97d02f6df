"""Expected findings: a safety rule a nurse or physician marks expected for one trial until a time, so that its
medium and low firings are stored as `expected` alerts that tell no one (docs/clinical-rules.md §3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..clock import now
from ..domain.safety import Expectation, expectation_problems
from ..errors import Invalid, NotFound
from ..extensions import db
from ..extensions.database import get_locked
from ..models import ExpectedFinding
from . import audit
from .access import Actor, trial_for


def create_finding(*, user: Actor, trial_id: int, rule: str, until: datetime, reason: str) -> ExpectedFinding:
    trial = trial_for(user, trial_id, action="expected_finding.create")
    moment = now()
    problems = expectation_problems(rule, until, reason, moment)
    if problems:
        raise Invalid("The expected finding is not valid.", errors={k: [v] for k, v in problems.items()})
    finding = ExpectedFinding(clinic_id=trial.clinic_id, trial_id=trial.id, rule=rule, until=until,
                              reason=reason.strip(), created_by=user.id, created_at=moment)
    db.session.add(finding)
    db.session.flush()
    audit.record("expected_finding.create", patient_id=trial.patient_id, object_type="expected_finding",
                 object_id=finding.id)
    db.session.commit()
    return finding


def list_findings(*, user: Actor, trial_id: int) -> list[ExpectedFinding]:
    """The trial's expected findings, ended ones too, newest first."""
    trial = trial_for(user, trial_id, action="expected_finding.list")
    return findings_of(trial.id)


def findings_of(trial_id: int) -> list[ExpectedFinding]:
    """For a caller that already checked access (and audited it)."""
    return list(db.session.execute(select(ExpectedFinding).where(ExpectedFinding.trial_id == trial_id)
                                   .order_by(ExpectedFinding.id.desc())).scalars())


def end_finding(*, user: Actor, trial_id: int, finding_id: int) -> ExpectedFinding:
    """End a finding early: kept, with who ended it and when. Ending an ended one changes nothing."""
    trial = trial_for(user, trial_id, action="expected_finding.end")
    finding = get_locked(ExpectedFinding, finding_id)
    if finding is None or finding.trial_id != trial.id:
        raise NotFound("No such expected finding.")
    audit.record("expected_finding.end", patient_id=trial.patient_id, object_type="expected_finding",
                 object_id=finding.id)
    if finding.ended_at is None:
        finding.ended_at, finding.ended_by = now(), user.id
    db.session.commit()
    return finding


def expectations_of(trial_id: int) -> list[Expectation]:
    """The trial's findings not ended, as the safety rules read them."""
    return [Expectation(rule, until, None) for rule, until in db.session.execute(
        select(ExpectedFinding.rule, ExpectedFinding.until)
        .where(ExpectedFinding.trial_id == trial_id, ExpectedFinding.ended_at.is_(None)))]
