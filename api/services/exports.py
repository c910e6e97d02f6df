"""Gathers a trial's whole record once, for the report, the FHIR Bundle and the CSV (audited)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ..clock import now
from ..exports import TrialRecord
from ..exports.fhir import fhir_base
from ..extensions import db
from ..models import Alert, Clinic, Decision, DiaryEntry, SignedReport, Trial, User
from .access import Actor, trial_for
from .documentation import documentation_of, readiness_of
from .evaluations import evaluate_as_of, latest_of, record_fields
from .pathway import target_pathway


def trial_record(*, user: Actor, trial_id: int, action: str) -> TrialRecord:
    trial = trial_for(user, trial_id, action=action)
    return gather(trial, moment=now())


def gather(trial: Trial, *, moment: datetime) -> TrialRecord:
    """Everything the documents show about `trial` (no access check: the caller made it)."""
    entries = list(db.session.execute(
        select(DiaryEntry).where(DiaryEntry.trial_id == trial.id).order_by(DiaryEntry.recorded_at, DiaryEntry.id)
    ).scalars())
    stored = latest_of(trial.id)
    at = stored.evaluated_at if stored else moment
    result = evaluate_as_of(trial, at)
    evaluation = ({"id": stored.id, "evaluated_at": stored.evaluated_at, "final": stored.final,
                   "outcome": stored.outcome, "protocol": stored.protocol, "metrics": stored.metrics,
                   "criteria": stored.criteria} if stored else {"id": None, **record_fields(result)})
    alerts = list(db.session.execute(
        select(Alert).where(Alert.trial_id == trial.id).order_by(Alert.local_day, Alert.id)).scalars())
    # Read here rather than through services.decisions, which renders its signed report with gather().
    decision = db.session.execute(select(Decision).where(Decision.trial_id == trial.id)).scalar_one_or_none()
    wanted = {a.acknowledged_by for a in alerts if a.acknowledged_by} | ({decision.physician_id} if decision else set())
    wanted |= set(trial.care_team)
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(wanted))).scalars()} if wanted else {}
    clinic = db.session.get(Clinic, trial.clinic_id)
    documentation = documentation_of(trial.id)
    decision_id = decision.id if decision is not None and decision.signed else None
    return TrialRecord(
        timepoints=result.timepoints, pathway=target_pathway(trial) if trial.is_block else None,
        clinic_name=clinic.name, clinic_address=clinic.address, clinic_npi=clinic.npi, trial=trial,
        patient=trial.patient, care_team=[users[i] for i in trial.care_team if i in users], entries=entries,
        evaluation=evaluation, evaluation_stored=stored is not None, buckets=result.buckets, alerts=alerts,
        users=users, decision=decision, generated_at=moment,
        documentation=documentation.content if documentation else {}, readiness=readiness_of(trial),
        documentation_updated_at=documentation.updated_at if documentation else None,
        fhir_base=fhir_base(current_app.config["PUBLIC_BASE_URL"]),
        signed_pdf=lambda: _signed_pdf(decision_id),
    )


def _signed_pdf(decision_id: int | None) -> bytes | None:
    if decision_id is None:
        return None
    return db.session.execute(select(SignedReport.pdf).where(SignedReport.decision_id == decision_id)).scalar_one()
