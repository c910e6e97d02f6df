"""Claiming due rows for dispatch: the one mechanism behind evaluation requests, outbox messages and
notifications. A claimed row is marked dispatched; if its work does not finish (a lost message, a killed
worker), the row is due again after the lease and is claimed again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from ..clock import now
from ..extensions import db


def claim_due(model, *, due: InstrumentedAttribute, lease_seconds: float, limit: int, where=()) -> list:
    """Due rows of `model` not dispatched within the lease, locked (SKIP LOCKED) and marked dispatched.

    Not committed: the caller commits once every claimed row was handed to the broker.
    """
    moment = now()
    query = (
        select(model)
        .where(due <= moment, *where)
        .where(model.dispatched_at.is_(None) | (model.dispatched_at < moment - timedelta(seconds=lease_seconds)))
        .order_by(due)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.execute(query).scalars())
    for row in rows:
        row.dispatched_at = moment
    return rows
