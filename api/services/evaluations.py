"""Evaluations: due-time requests (the outbox of evaluation work), running them, and reading history."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, delete, exists, select, update

from ..clock import now
from ..domain import evaluation as rules
from ..domain.mme import Medication
from ..errors import NotFound
from ..extensions import db
from ..extensions.database import dialect_statement
from ..models import DiaryEntry, Evaluation, EvaluationRequest, Trial
from .access import Actor, trial_for
from .dispatch import claim_due
from .notifications import final_evaluation_stored

log = logging.getLogger(__name__)
FAILED_RETRY_SECONDS = 900  # a trial whose evaluation raised is tried again this much later, alone


def request_evaluation(*, trial_id: int, immediately: bool = False) -> None:
    """Ask for an evaluation, in the caller's transaction; a burst of requests makes one row.

    Not committed here: the request becomes visible with the change that caused it, or not at all.
    """
    moment = now()
    due = moment if immediately else moment + timedelta(seconds=current_app.config["EVALUATION_DEBOUNCE_SECONDS"])
    db.session.execute(_upsert_request(), {"trial_id": trial_id, "due_at": due, "generation": 1})


@dialect_statement
def _upsert_request(insert):
    """A new request row, or the trial's existing one one generation on, due at the earlier of the two times."""
    table = EvaluationRequest.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.trial_id],
        set_={
            "generation": table.c.generation + 1,
            "due_at": case((statement.excluded.due_at < table.c.due_at, statement.excluded.due_at),
                           else_=table.c.due_at),
        },
    )


def queue_evaluation(*, user: Actor, trial_id: int) -> None:
    """On request of the care team: evaluate as soon as a worker is free."""
    trial_for(user, trial_id, action="evaluation.request")
    request_evaluation(trial_id=trial_id, immediately=True)
    db.session.commit()


def claim_due_requests(*, limit: int = 1000) -> list[int]:
    """Trials whose evaluation is due, marked dispatched (the caller sends them and commits)."""
    rows = claim_due(EvaluationRequest, due=EvaluationRequest.due_at, limit=limit,
                     lease_seconds=current_app.config["EVALUATION_LEASE_SECONDS"])
    return [row.trial_id for row in rows]


def request_final_evaluations() -> int:
    """Request a final evaluation for every open trial past its end that has none yet."""
    moment = now()
    has_final = exists().where(and_(Evaluation.trial_id == Trial.id, Evaluation.final.is_(True)))
    pending = exists().where(EvaluationRequest.trial_id == Trial.id)
    trial_ids = db.session.execute(
        select(Trial.id).where(Trial.end_at <= moment, Trial.closure.is_(None), ~has_final, ~pending)
    ).scalars().all()
    for trial_id in trial_ids:
        request_evaluation(trial_id=trial_id, immediately=True)
    db.session.commit()
    return len(trial_ids)


def request_active_refresh() -> int:
    """Request an interim evaluation of every active trial: compliance changes as buckets close."""
    moment = now()
    trial_ids = db.session.execute(
        select(Trial.id).where(Trial.start_at <= moment, Trial.end_at > moment, Trial.closure.is_(None))
    ).scalars().all()
    for trial_id in trial_ids:
        request_evaluation(trial_id=trial_id, immediately=True)
    db.session.commit()
    return len(trial_ids)


def run_evaluations(*, trial_ids: list[int]) -> list[Evaluation]:
    """Evaluate these trials now; store each result that differs from the trial's latest. Idempotent.

    One transaction: the trials are locked (no key update, so diary inserts go on), each request row
    is removed only if no new request arrived since it was read, and the rest are released. A trial whose
    evaluation raises is logged and retried later on its own: it never holds back the others of its batch.
    """
    moment = now()
    ids = sorted(set(trial_ids))
    trials = list(db.session.execute(
        select(Trial).where(Trial.id.in_(ids)).order_by(Trial.id).with_for_update(key_share=True, of=Trial)
    ).scalars())
    generations = dict(db.session.execute(
        select(EvaluationRequest.trial_id, EvaluationRequest.generation)
        .where(EvaluationRequest.trial_id.in_(ids)).order_by(EvaluationRequest.trial_id).with_for_update()
    ).all())
    evaluable = [t for t in trials if t.closure is None]
    entries = valid_entries([t.id for t in evaluable], until=moment)
    latest = _latest_hashes([t.id for t in evaluable])
    stored, failed = [], []
    for trial in evaluable:
        try:
            result = rules.evaluate(facts_of(trial), entries.get(trial.id, []), moment)
            record = _record_of(trial.id, result)
        except Exception:
            log.exception("evaluation of trial %s failed; retried in %s s", trial.id, FAILED_RETRY_SECONDS)
            failed.append(trial.id)
            continue
        if record.result_hash != latest.get(trial.id):
            db.session.add(record)
            stored.append((trial, record))
    finals = [(t, r) for t, r in stored if r.final]
    if finals:
        db.session.flush()
        previous = _previous_final_outcomes([t.id for t, _ in finals], before={r.id for _, r in finals})
        for trial, record in finals:
            if previous.get(trial.id) != record.outcome:  # the first final result, or a changed one
                final_evaluation_stored(record, trial)
    # Each request read is removed unless a newer one arrived meanwhile; only those left (newer, or failed) are
    # released for the next sweep: usually none, and then no statement is needed.
    left = list(failed)
    for trial_id, generation in generations.items():
        if trial_id not in failed and not db.session.execute(delete(EvaluationRequest).where(
                EvaluationRequest.trial_id == trial_id, EvaluationRequest.generation == generation)).rowcount:
            left.append(trial_id)
    if left:
        db.session.execute(update(EvaluationRequest).where(EvaluationRequest.trial_id.in_(left))
                           .values(dispatched_at=None))
    if failed:
        db.session.execute(update(EvaluationRequest).where(EvaluationRequest.trial_id.in_(failed)).values(
            due_at=moment + timedelta(seconds=FAILED_RETRY_SECONDS)))
    db.session.commit()
    for _, record in stored:
        log.info("evaluation %s stored for trial %s: %s", record.id, record.trial_id, record.outcome)
    return [record for _, record in stored]


def evaluation_history(*, user: Actor, trial_id: int) -> list[Evaluation]:
    trial = trial_for(user, trial_id, action="evaluation.list")
    return list(db.session.execute(
        select(Evaluation).where(Evaluation.trial_id == trial.id).order_by(Evaluation.id.desc())
    ).scalars())


def latest_evaluation(*, user: Actor, trial_id: int) -> Evaluation:
    trial = trial_for(user, trial_id, action="evaluation.read")
    evaluation = latest_of(trial.id)
    if evaluation is None:
        raise NotFound("The trial has no evaluation yet.")
    return evaluation


def latest_of(trial_id: int) -> Evaluation | None:
    return db.session.execute(
        select(Evaluation).where(Evaluation.trial_id == trial_id).order_by(Evaluation.id.desc()).limit(1)
    ).scalar_one_or_none()


def trial_summary(*, user: Actor, trial_id: int) -> dict[str, Any]:
    """The per-bucket series (pain, MME, interference, entries) beside the baseline, as of now."""
    trial = trial_for(user, trial_id, action="trial.summary")
    moment = now()
    result = evaluate_as_of(trial, moment)
    return {
        "trial_id": trial.id,
        "as_of": moment,
        "bucket": result.protocol["bucket"],
        "baseline": trial.baseline,
        "metrics": result.metrics,
        "outcome": result.outcome,
        "final": result.final,
        "buckets": [asdict(b) for b in result.buckets],
    }


def evaluate_as_of(trial: Trial, moment) -> rules.Result:
    """The trial's evaluation at `moment` from its entries as stored now (not stored itself)."""
    return rules.evaluate(facts_of(trial), valid_entries([trial.id], until=moment).get(trial.id, []), moment)


def facts_of(trial: Trial) -> rules.TrialFacts:
    baseline = trial.baseline
    return rules.TrialFacts(
        therapy=trial.therapy, start_at=trial.start_at, end_at=trial.end_at, timezone=trial.timezone,
        baseline=rules.Baseline(pain=baseline["pain"], mme=baseline.get("mme"), odi=baseline.get("odi"),
                                interference=baseline.get("interference")),
        protocol=trial.protocol, agent=trial.agent,
    )


def entry_facts(client_id: str, recorded_at, content: dict[str, Any], stored: int = 0,
                received_at=None) -> rules.Entry:
    function = content.get("function") or {}
    return rules.Entry(
        recorded_at=recorded_at, pain_score=content["pain"]["score"], key=client_id, stored=stored,
        received_at=received_at,
        relief_percent=content["pain"].get("relief_percent"),
        interference=function.get("interference"), odi=function.get("odi"), pgic=content.get("pgic"),
        sedation_score=content.get("sedation_score"), symptoms=tuple(content.get("symptoms", ())),
        medications=tuple(Medication(m["name"], m["dose"], m["unit"], m.get("route"))
                          for m in content.get("medications", ())),
    )


def valid_entries(trial_ids: list[int], *, until) -> dict[int, list[rules.Entry]]:
    """Current, unvoided entries of these trials recorded up to `until` (the domain trims the window)."""
    if not trial_ids:
        return {}
    rows = db.session.execute(
        select(DiaryEntry.trial_id, DiaryEntry.client_id, DiaryEntry.recorded_at, DiaryEntry.content, DiaryEntry.id,
               DiaryEntry.created_at)
        .where(DiaryEntry.trial_id.in_(trial_ids), DiaryEntry.voided_at.is_(None), DiaryEntry.recorded_at <= until)
    )
    entries: dict[int, list[rules.Entry]] = defaultdict(list)
    for trial_id, client_id, recorded_at, content, stored, received_at in rows:
        entries[trial_id].append(entry_facts(client_id, recorded_at, content, stored, received_at))
    return entries


def _latest_hashes(trial_ids: list[int]) -> dict[int, str]:
    if not trial_ids:
        return {}
    newest = (
        select(Evaluation.trial_id, db.func.max(Evaluation.id).label("id"))
        .where(Evaluation.trial_id.in_(trial_ids)).group_by(Evaluation.trial_id).subquery()
    )
    return dict(db.session.execute(
        select(Evaluation.trial_id, Evaluation.result_hash).join(newest, Evaluation.id == newest.c.id)
    ).all())


def _previous_final_outcomes(trial_ids: list[int], *, before: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(Evaluation.trial_id, Evaluation.outcome).where(
            Evaluation.trial_id.in_(trial_ids), Evaluation.final.is_(True), Evaluation.id.not_in(before))
        .order_by(Evaluation.id)
    ).all()
    return {trial_id: outcome for trial_id, outcome in rows}  # the newest wins


def record_fields(result: rules.Result) -> dict[str, Any]:
    """An evaluation result as the fields of its record (docs/clinical-rules.md §2's shape)."""
    return {
        "evaluated_at": result.evaluated_at,
        "final": result.final,
        "outcome": result.outcome,
        "protocol": result.protocol,
        "metrics": result.metrics,
        "criteria": [c.as_dict() for c in result.criteria],
    }


def _record_of(trial_id: int, result: rules.Result) -> Evaluation:
    body = record_fields(result)
    del body["evaluated_at"]  # the result, not when it was computed, decides whether it is new
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return Evaluation(trial_id=trial_id, evaluated_at=result.evaluated_at, result_hash=digest, **body)
