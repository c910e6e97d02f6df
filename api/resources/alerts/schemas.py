"""Alert and notification payloads."""

from marshmallow import Schema, fields, validate

from ...domain.safety import SEVERITIES
from ..fields import QueryId


class AlertQuery(Schema):
    status = fields.String(validate=validate.OneOf(["open", "acknowledged"]))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    trial_id = QueryId()
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class AcknowledgeIn(Schema):
    note = fields.String(validate=validate.Length(max=2000))


class AlertOut(Schema):
    id = fields.Integer()
    trial_id = fields.Integer()
    rule = fields.String()
    severity = fields.String()
    local_day = fields.Date()
    status = fields.String()
    count = fields.Integer()
    first_entry_id = fields.Integer(allow_none=True)
    latest_entry_id = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
    updated_at = fields.DateTime()
    escalate_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.Integer(allow_none=True)
    acknowledgement_note = fields.String(allow_none=True)


class NotificationOut(Schema):
    id = fields.Integer()
    delivery_id = fields.String()
    cause = fields.String()
    alert_id = fields.Integer(allow_none=True)
    channel = fields.String()
    recipient_user_id = fields.Integer(allow_none=True)
    subject = fields.String()
    state = fields.String(metadata={"description": "pending, sent or failed"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
