"""Audit trail: every request that reads or changes patient data leaves one row, with its outcome.

A service names what it touches with `record()`. The row is written by the request's first commit, inside
that transaction, so a change and its audit row commit together or not at all. A read's row is written
after the response is decided; a refusal or failure (404 for a foreign trial, 409 for a closed diary)
rolls the request back and is recorded in a transaction of its own, with its status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from ..clock import now
from ..errors import OUTAGES, rollback_quietly, unavailable_response
from ..extensions import db
from ..models import AuditEvent

log = logging.getLogger(__name__)

OUTCOMES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large",
            422: "invalid", 429: "rate_limited"}

# Built once: this insert runs on nearly every request.
_INSERT = insert(AuditEvent.__table__)


@dataclass
class _PendingEvent:
    """The request's audit row until a commit writes it."""

    row: dict[str, Any]
    in_transaction: bool = False  # inserted in the transaction being committed
    written: bool = False  # committed

    def values(self, **overrides: Any) -> dict[str, Any]:
        return {**self.row, "at": now(), **overrides}


def record(action: str, *, patient_id: int | None, object_type: str | None = None, object_id=None,
           outcome: str = "success") -> None:
    """Name the patient data this request reads or changes; a later call before the commit replaces it.

    `outcome` other than success: a refusal answered as if nothing were there (a list filtered by another
    clinic's patient is empty), which the caller is not told and the audit trail keeps."""
    pending: _PendingEvent | None = g.get("audit_event")
    user = _user()
    if pending is None or pending.written:
        pending = g.audit_event = _PendingEvent({
            "actor_user_id": user.id if user else None, "actor_role": user.role if user else None,
            "clinic_id": user.clinic_id if user else None,
        })
    pending.row.update(request_values(action, object_type=object_type, object_id=object_id), patient_id=patient_id,
                       outcome=outcome)
    if user is not None and user.clinic_of(patient_id) is not None:  # a patient: the clinic of the record it names
        pending.row["clinic_id"] = user.clinic_of(patient_id)


def request_values(action: str, *, object_type: str | None, object_id) -> dict[str, Any]:
    """An audit row's values that the request itself knows: all but who acted and on which patient's data.

    `record()` completes them from the caller; a statement that writes its row together with its change
    (the diary's new entry on PostgreSQL) completes them from the rows it joins, and records nothing pending.
    """
    return {"action": action, "object_type": object_type, "object_id": None if object_id is None else str(object_id),
            "address": request.remote_addr, "request_id": g.get("request_id"), "outcome": "success",
            "status_code": None, "at": now()}


def register(app: Flask) -> None:
    @app.after_request
    def finish_audit_event(response):
        pending: _PendingEvent | None = g.pop("audit_event", None)
        if pending is None or (pending.written and response.status_code < 400):
            return response
        try:
            if response.status_code < 400:  # a read's row
                db.session.execute(_INSERT, pending.values())
            else:
                db.session.rollback()
                db.session.execute(_INSERT, pending.values(
                    outcome=OUTCOMES.get(response.status_code, "error"), status_code=response.status_code))
            db.session.commit()
        except OUTAGES:
            rollback_quietly()
            log.warning("audit event not written: the database is unavailable")
            # A read whose audit row cannot be written is not answered; a refusal or outage answer stands.
            return response if response.status_code >= 400 else unavailable_response()
        except Exception:
            db.session.rollback()
            log.exception("audit event could not be written")
            raise
        return response


@event.listens_for(Session, "before_commit")
def _write_with_the_change(session: Session) -> None:
    pending = g.get("audit_event") if has_request_context() else None
    if pending is not None and not pending.written and not pending.in_transaction:
        session.execute(_INSERT, pending.values())
        pending.in_transaction = True


@event.listens_for(Session, "after_commit")
def _written(_session: Session) -> None:
    pending = g.get("audit_event") if has_request_context() else None
    if pending is not None and pending.in_transaction:
        pending.written, pending.in_transaction = True, False


@event.listens_for(Session, "after_rollback")
def _not_written(_session: Session) -> None:
    pending = g.get("audit_event") if has_request_context() else None
    if pending is not None:
        pending.in_transaction = False


def _user():
    from .access import signed_in_actor  # access records through this module

    return signed_in_actor()
