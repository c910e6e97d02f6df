"""What a patient's diagnostic blocks say together (docs/blocks.md "The pathway"): per target, the blocks in
time order with their latest final outcome, the next step, and whether the yearly count was exceeded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..domain import blocks
from ..domain.therapies import BLOCK_THERAPIES, therapy
from ..extensions import db
from ..models import Evaluation, Trial
from .access import Actor, patient_for


def patient_pathway(*, user: Actor, patient_id: int) -> dict[str, Any]:
    """The pathway of a patient of the caller's clinic (another clinic's patient: 404). Audited."""
    patient = patient_for(user, patient_id, action="pathway.read")
    return {"patient_id": patient.id, "targets": _rows(_block_trials(patient.id))}


def target_pathway(trial: Trial) -> dict[str, Any] | None:
    """The pathway row of one block trial's target (for its report); the caller has checked access."""
    if trial.target is None:
        return None
    wanted = {"region": trial.target["region"], "side": trial.target["side"]}
    return next((row for row in _rows(_block_trials(trial.patient_id)) if row["target"] == wanted), None)


def _rows(trials: list[Trial]) -> list[dict[str, Any]]:
    """One row per target (region and side as given; bilateral is a side of its own), in order of first block."""
    outcomes = _latest_final_outcomes([t.id for t in trials])
    facts = {t.id: _block(t, outcomes.get(t.id)) for t in trials}
    counted = list(facts.values())
    targets: dict[tuple[str, str], list[Trial]] = {}
    for trial in trials:
        targets.setdefault((trial.target["region"], trial.target["side"]), []).append(trial)
    rows = []
    for (region, side), members in targets.items():
        items = [{
            "trial_id": t.id, "therapy": t.therapy, "levels": list(t.target.get("levels") or []), "agent": t.agent,
            "start_at": t.start_at, "end_at": t.end_at, "status": t.status, "outcome": outcomes.get(t.id),
            "frequency_exceeded": blocks.frequency_exceeded(facts[t.id], counted),
        } for t in members]
        rows.append({
            "target": {"region": region, "side": side},
            "blocks": items,
            "next_step": blocks.next_step([facts[t.id] for t in members]),
            "frequency_exceeded": any(item["frequency_exceeded"] for item in items),
        })
    return rows


def frequency_warnings(trial: Trial) -> list[str]:
    """Why the clinic should look twice at this new block: its therapy's yearly count in the region exceeded."""
    limit = blocks.FREQUENCY_LIMITS.get(trial.therapy)
    if limit is None:
        return []
    others = [_block(t, None) for t in _block_trials(trial.patient_id)]
    block = _block(trial, None)
    count = blocks.count_in_year(block, others)
    if count <= limit:
        return []
    return [f"frequency_exceeded: {count} {therapy(trial.therapy).short.lower()}s in the {trial.target['region']} "
            f"region within 365 days, this one included; the limit is {limit}. The trial was registered."]


def _block_trials(patient_id: int) -> list[Trial]:
    """The patient's block trials that count: cancelled ones neither count nor show."""
    return list(db.session.execute(
        select(Trial).where(Trial.patient_id == patient_id, Trial.therapy.in_(BLOCK_THERAPIES),
                            Trial.closure.is_distinct_from("cancelled"))
        .order_by(Trial.start_at, Trial.id)
    ).scalars())


def _latest_final_outcomes(trial_ids: list[int]) -> dict[int, str]:
    if not trial_ids:
        return {}
    rows = db.session.execute(
        select(Evaluation.trial_id, Evaluation.outcome)
        .where(Evaluation.trial_id.in_(trial_ids), Evaluation.final.is_(True)).order_by(Evaluation.id)
    ).all()
    return {trial_id: outcome for trial_id, outcome in rows}  # the newest wins


def _block(trial: Trial, outcome: str | None) -> blocks.Block:
    target = trial.target or {}
    return blocks.Block(trial.id, trial.therapy, target.get("region", ""), target.get("side", ""),
                        tuple(target.get("levels") or ()), trial.start_at, trial.end_at, outcome)
