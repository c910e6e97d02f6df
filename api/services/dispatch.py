"""Dispatch of work to the workers: at once after the commit that makes it visible, and by claiming due rows, the
safety net behind it (evaluation requests, outbox messages, notifications).

`at_once` hands a task to the process's publisher when the transaction that made its row commits: the work
starts within milliseconds, and a write never waits on the broker. The row stays due all the same: a sweep claims
it once it has been due for DISPATCH_GRACE_SECONDS (the time the publish had to start it) and marks it
dispatched; if that work does not finish (a lost message, a killed worker), the row is due again after the lease
and is claimed again. A task sent twice is harmless: each one is idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import InstrumentedAttribute

from ..clock import now
from ..extensions import db
from ..logs import current_request_id

log = logging.getLogger(__name__)

_PENDING = "tasks_after_commit"  # in the session's info: what to publish when its transaction commits


def at_once(task_name: str, item_id: int, *, urgent: bool = False) -> None:
    """Start `task_name(item_id)` as soon as the caller's transaction commits (nothing if it rolls back).

    `urgent` work (what may tell the care team of a critical or high alert) goes alone to the queue that workers
    empty first; other work goes to the common queue, those of a moment in one message when the task takes a list
    (`Publisher.TOGETHER`)."""
    if current_app.config["DISPATCH_AT_ONCE"]:
        pending = db.session.info.setdefault(_PENDING, ([], current_app.extensions["publisher"]))[0]
        pending.append((task_name, item_id, urgent, current_request_id()))


@event.listens_for(db.session, "after_commit")
def _publish(session) -> None:
    if (pending := session.info.pop(_PENDING, None)) is not None:
        tasks, publisher = pending
        publisher.submit(tasks)


@event.listens_for(db.session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(_PENDING, None)


def sweep_grace() -> timedelta:
    """How long a row due now is left to the publish made when it was committed, before a sweep sends it."""
    config = current_app.config
    return timedelta(seconds=config["DISPATCH_GRACE_SECONDS"] if config["DISPATCH_AT_ONCE"] else 0)


def claim_due(model, *, due: InstrumentedAttribute, lease_seconds: float, limit: int, where=(),
              grace: timedelta = timedelta(0)) -> list:
    """Due rows of `model` (for `grace` at least) not dispatched within the lease, locked (SKIP LOCKED) and marked
    dispatched.

    Not committed: the caller commits the claim before it hands the rows' work to the broker (a worker skips a
    row still locked by the claim), and `release`s what the broker did not take.
    """
    moment = now()
    query = (
        select(model)
        .where(due <= moment - grace, *where)
        .where(model.dispatched_at.is_(None) | (model.dispatched_at < moment - timedelta(seconds=lease_seconds)))
        .order_by(due)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(db.session.execute(query).scalars())
    for row in rows:
        row.dispatched_at = moment
    return rows


def release(claims: list[tuple[InstrumentedAttribute, list]]) -> None:
    """Make claimed rows due again at once: their work never reached the broker. `claims`: (the rows' key column,
    some keys). Best effort: if this fails too, the rows come back after their lease."""
    keys: dict[InstrumentedAttribute, list] = {}
    for column, some in claims:
        keys.setdefault(column, []).extend(some)
    try:
        for column, all_keys in keys.items():
            db.session.execute(update(column.class_).where(column.in_(all_keys)).values(dispatched_at=None))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.warning("claims could not be released; the rows are due again after their lease", exc_info=True)
