"""The physician's implant decision, signed: once per trial, by a physician of its care team; it closes the diary.

Signing renders the trial report as it stands at that moment, stores its PDF bytes, and records their SHA-256
with the signer's name and NPI and the attestation: `GET .../decision/signed-report.pdf` gives back exactly
those bytes, so anyone can check the hash (docs/payer-packet.md).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from ..clock import now
from ..errors import Conflict, Forbidden, NotFound, TrialClosed
from ..exports import pdf
from ..extensions import db
from ..models import Decision, Evaluation, SignedReport, Trial, User
from .access import Actor, trial_for
from .evaluations import latest_of, run_evaluations
from .exports import gather

ATTESTATION = (
    "I attest that I personally reviewed this trial report, including the patient's diary results, the evaluation "
    "of each criterion and the pre-trial documentation; that the decision recorded here is my own medical "
    "judgement; and that this information is true, accurate and complete to the best of my knowledge. I sign this "
    "decision electronically."
)


class NpiMissing(Conflict):
    code = "npi_missing"


ONLY_CARE_TEAM_PHYSICIANS = "Only a physician on the trial's care team records its decision."


def may_decide(user: Actor, trial) -> bool:
    """The one rule of who records a trial's decision: a physician on its care team."""
    return user.role == "physician" and user.id in trial.care_team


def record_decision(*, user: Actor, trial_id: int, decision: str, rationale: str) -> Decision:
    trial = trial_for(user, trial_id, action="decision.create", lock=True)
    if not may_decide(user, trial):
        raise Forbidden(ONLY_CARE_TEAM_PHYSICIANS)
    _still_open(trial)
    signer = db.session.get(User, user.id)
    if not signer.npi:
        raise NpiMissing(
            "Your staff profile has no NPI, and a signed decision must carry the signer's National Provider "
            "Identifier. Ask your clinic's admin to add it (PATCH /api/v1/users/{id} with {\"npi\": ...}), then "
            "record the decision again.", errors={"npi": ["Missing from the physician's staff profile."]})
    if trial.end_at <= now() and not _has_final(trial.id):
        # The decision closes the diary for good, and no evaluation runs after it: take the final one first
        # (beat may not have swept the trial since it ended), so that the decision rests on it.
        run_evaluations(trial_ids=[trial.id])
        trial = db.session.get(Trial, trial.id, with_for_update={"of": Trial}, populate_existing=True)  # re-read
        _still_open(trial)
    moment = now()
    latest = latest_of(trial.id)
    record = Decision(trial_id=trial.id, physician_id=user.id, decision=decision, rationale=rationale,
                      evaluation_id=latest.id if latest else None, decided_at=moment, attestation=ATTESTATION,
                      signer_name=signer.display_name or signer.email, signer_npi=signer.npi)
    trial.closure, trial.closed_at = "decided", moment
    db.session.add(record)
    db.session.flush()
    signed = pdf.render(gather(trial, moment=moment))
    record.report_sha256 = hashlib.sha256(signed).hexdigest()
    db.session.add(SignedReport(decision_id=record.id, pdf=signed, created_at=moment))
    db.session.commit()
    return record


def get_decision(*, user: Actor, trial_id: int) -> Decision:
    trial = trial_for(user, trial_id, action="decision.read")
    record = decision_of(trial.id)
    if record is None:
        raise NotFound("No decision has been recorded for this trial.")
    return record


def signed_report(*, user: Actor, trial_id: int) -> tuple[bytes, str]:
    """The PDF the physician signed, byte for byte, and its SHA-256 as recorded with the signature."""
    trial = trial_for(user, trial_id, action="decision.signed_report")
    record = decision_of(trial.id)
    if record is None or not record.signed:
        raise NotFound("No signed decision has been recorded for this trial.")
    document = db.session.execute(select(SignedReport.pdf).where(SignedReport.decision_id == record.id)).scalar_one()
    return document, record.report_sha256


def decision_of(trial_id: int) -> Decision | None:
    return db.session.execute(select(Decision).where(Decision.trial_id == trial_id)).scalar_one_or_none()


def _still_open(trial: Trial) -> None:
    if trial.closure == "cancelled":
        raise TrialClosed("The trial was cancelled.")
    if trial.closure == "decided" or db.session.execute(
            select(Decision.id).where(Decision.trial_id == trial.id)).first():
        raise Conflict("The decision for this trial was already recorded; it cannot change.")


def _has_final(trial_id: int) -> bool:
    return db.session.execute(
        select(Evaluation.id).where(Evaluation.trial_id == trial_id, Evaluation.final.is_(True)).limit(1)
    ).first() is not None
