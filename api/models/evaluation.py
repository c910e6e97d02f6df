"""Stored evaluations (history, never edited) and the due-time rows that ask for one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..extensions.database import JSONDocument, UTCDateTime, db


class Evaluation(db.Model):
    __tablename__ = "evaluations"
    __table_args__ = (Index("ix_evaluations_trial_latest", "trial_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    final: Mapped[bool]
    outcome: Mapped[str] = mapped_column(String(30))
    protocol: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    result_hash: Mapped[str] = mapped_column(String(64))  # of everything but evaluated_at
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class EvaluationRequest(db.Model):
    """A trial that needs evaluating from `due_at` on; one row per trial coalesces bursts of entries.

    `generation` rises with every request, so an evaluation removes the row only if no request came
    in after it read the diary.
    """

    __tablename__ = "evaluation_requests"

    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    generation: Mapped[int] = mapped_column(default=1)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
