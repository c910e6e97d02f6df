"""Audit trail: every request that reads or changes patient data leaves one row, with its outcome.

A service names what it touches with `record()`: the row joins the service's own transaction, so a
change and its audit row commit together. Reads are committed after the response is decided; a refusal
or failure (404 for a foreign trial, 409 for a closed diary) rolls the request back and is recorded in
a transaction of its own.
"""

from __future__ import annotations

import logging

from flask import Flask, g, request
from flask_jwt_extended import current_user

from ..extensions import db
from ..models import AuditEvent

log = logging.getLogger(__name__)

OUTCOMES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large",
            422: "invalid", 429: "rate_limited"}


def record(action: str, *, patient_id: int | None, object_type: str | None = None, object_id=None) -> None:
    """Name the patient data this request reads or changes; a later call in the same request replaces it."""
    event: AuditEvent | None = g.get("audit_event")
    if event is None or event not in db.session:
        user = _user()
        event = AuditEvent(actor_user_id=user.id if user else None, actor_role=user.role if user else None,
                           clinic_id=user.clinic_id if user else None, address=request.remote_addr,
                           request_id=g.get("request_id"), outcome="success")
        db.session.add(event)
        g.audit_event = event
    event.action, event.patient_id, event.object_type = action, patient_id, object_type
    event.object_id = None if object_id is None else str(object_id)


def register(app: Flask) -> None:
    @app.after_request
    def finish_audit_event(response):
        event: AuditEvent | None = g.pop("audit_event", None)
        if event is None:
            return response
        try:
            if response.status_code < 400:
                db.session.commit()  # a read's row; a change's row is already committed with it
            else:
                db.session.rollback()
                db.session.add(AuditEvent(
                    actor_user_id=event.actor_user_id, actor_role=event.actor_role, clinic_id=event.clinic_id,
                    patient_id=event.patient_id, action=event.action, object_type=event.object_type,
                    object_id=event.object_id, address=event.address, request_id=event.request_id,
                    outcome=OUTCOMES.get(response.status_code, "error"), status_code=response.status_code,
                ))
                db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("audit event could not be written")
            raise
        return response


def _user():
    try:
        return current_user
    except RuntimeError:  # no token was verified in this request (enrollment)
        return None
