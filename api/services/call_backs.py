""""Call me back" (docs/sms.md): a patient's request that the care team call them, from the phone app, the diary
page or a text saying CALL. It is an alert of the rule `call_back`, severity high: it ranks on the worklist above
missed diaries, reaches the care team's nurses at once and its physicians if nobody acknowledges it, and is
acknowledged like any alert (who called, when, a note). One open request per trial: asking again answers with
the one already open."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clock import now
from ..errors import TrialClosed
from ..extensions import db
from ..extensions.database import get_locked
from ..models import Alert, Patient, Trial
from . import audit
from .access import Actor, own_diary
from .notifications import alert_raised, escalation_time

RULE, SEVERITY = "call_back", "high"


def request_call_back(*, user: Actor, trial_id: int) -> tuple[Alert, bool]:
    """The patient asks the care team of their trial to call; (the request, whether it is new)."""
    diary = own_diary(user, trial_id, action="call_back.request")
    if diary.closure is not None:
        raise TrialClosed("The diary of this trial is closed: please call your clinic.")
    alert, created = call_back_for(db.session.get(Trial, trial_id), moment=now())
    db.session.commit()
    return alert, created


def call_back_for(trial: Trial, *, moment: datetime) -> tuple[Alert, bool]:
    """The trial's open call-back request, or a new one with its notifications; in the caller's transaction.
    The trial's row is locked first, so that two requests at once open one."""
    get_locked(Trial, trial.id)
    open_one = db.session.execute(select(Alert).where(Alert.trial_id == trial.id, Alert.rule == RULE,
                                                      Alert.status == "open")).scalar_one_or_none()
    if open_one is not None:
        return open_one, False
    alert = Alert(clinic_id=trial.clinic_id, trial_id=trial.id, rule=RULE, severity=SEVERITY,
                  local_day=moment.astimezone(ZoneInfo(trial.timezone)).date(), status="open", count=0,
                  opened_at=moment, updated_at=moment, escalate_at=escalation_time(SEVERITY, moment))
    db.session.add(alert)
    db.session.flush()
    alert_raised(alert, trial)
    return alert, True


def list_call_backs(*, user: Actor, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The clinic's call-back requests (open first, then the newest), with the number to call."""
    query = (select(Alert, Patient).join(Trial, Trial.id == Alert.trial_id)
             .join(Patient, Patient.id == Trial.patient_id)
             .where(Alert.clinic_id == user.clinic_id, Alert.rule == RULE))
    if status:
        query = query.where(Alert.status == status)
    audit.record("call_back.list", patient_id=None, object_type="clinic", object_id=user.clinic_id)
    rows = db.session.execute(query.order_by(Alert.id.desc()).limit(limit)).all()
    return sorted((_row(alert, patient) for alert, patient in rows),
                  key=lambda r: (r["status"] != "open", -r["id"]))


def open_call_backs(trial_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The open call-back request of each of these trials, with the number to call (the worklist's column)."""
    if not trial_ids:
        return {}
    rows = db.session.execute(select(Alert, Patient).join(Trial, Trial.id == Alert.trial_id)
                              .join(Patient, Patient.id == Trial.patient_id)
                              .where(Alert.trial_id.in_(trial_ids), Alert.rule == RULE, Alert.status == "open"))
    return {alert.trial_id: {"alert_id": alert.id, "requested_at": alert.opened_at,
                             "mobile_number": patient.mobile_number} for alert, patient in rows}


def _row(alert: Alert, patient: Patient) -> dict[str, Any]:
    return {"id": alert.id, "trial_id": alert.trial_id, "patient_id": patient.id,
            "patient_display_name": patient.display_name, "mobile_number": patient.mobile_number,
            "requested_at": alert.opened_at, "status": alert.status, "escalated_at": alert.escalated_at,
            "acknowledged_at": alert.acknowledged_at, "acknowledged_by": alert.acknowledged_by,
            "acknowledgement_note": alert.acknowledgement_note}
