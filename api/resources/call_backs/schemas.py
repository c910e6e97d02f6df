"""Call-back request payloads."""

from marshmallow import Schema, fields, validate

from ...extensions.openapi import Out, one_of
from ...models.safety import ALERT_STATUSES


class CallBackQuery(Schema):
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class CallBackRequestOut(Out):
    """What the patient's phone is told."""

    id = fields.Integer(metadata={"description": "The request's alert id."})
    trial_id = fields.Integer()
    requested_at = fields.DateTime(attribute="opened_at", metadata={
        "description": "When it was asked: asking again while it is open answers with the same request."})
    status = one_of(ALERT_STATUSES)


class CallBackOut(Out):
    """What staff see: the number to call; acknowledge it as an alert (POST /alerts/{id}/acknowledge)."""

    id = fields.Integer(metadata={"description": "The alert id of the request."})
    trial_id = fields.Integer()
    patient_id = fields.Integer()
    patient_display_name = fields.String()
    mobile_number = fields.String(allow_none=True, metadata={"description": "E.164; null when none is on file."})
    requested_at = fields.DateTime()
    status = one_of(ALERT_STATUSES)
    escalated_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True, metadata={"description": "When the care team called."})
    acknowledged_by = fields.Integer(allow_none=True, metadata={"description": "Who called."})
    acknowledgement_note = fields.String(allow_none=True)
