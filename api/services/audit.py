"""Audit trail: services name what a request touches; one row per request records it with its outcome.

The row is written after the response is decided, in its own transaction, so that refusals (404 for a
foreign trial, 409 for a closed diary) are recorded as well as successes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, g, request
from flask_jwt_extended import current_user

from ..extensions import db
from ..models import AuditEvent

log = logging.getLogger(__name__)

OUTCOMES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large",
            422: "invalid", 429: "rate_limited"}


@dataclass
class Target:
    action: str
    patient_id: int | None
    object_type: str | None
    object_id: str | None


def record(action: str, *, patient_id: int | None, object_type: str | None = None, object_id=None) -> None:
    """Name the patient data this request reads or changes (the last call in a request wins)."""
    g.audit_target = Target(action, patient_id, object_type, None if object_id is None else str(object_id))


def register(app: Flask) -> None:
    @app.after_request
    def write_audit_event(response):
        target: Target | None = g.pop("audit_target", None)
        if target is None:
            return response
        try:
            user = current_user if _has_user() else None
            db.session.rollback()  # anything the request left uncommitted is not part of the audit row
            db.session.add(AuditEvent(
                actor_user_id=user.id if user else None,
                actor_role=user.role if user else None,
                clinic_id=user.clinic_id if user else None,
                patient_id=target.patient_id,
                action=target.action,
                object_type=target.object_type,
                object_id=target.object_id,
                address=request.remote_addr,
                outcome="success" if response.status_code < 400 else OUTCOMES.get(response.status_code, "error"),
                status_code=response.status_code,
                request_id=g.get("request_id"),
            ))
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("audit event could not be written")
            raise
        return response


def _has_user() -> bool:
    try:
        return current_user is not None
    except RuntimeError:
        return False
