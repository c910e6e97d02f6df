"""Decisions payloads."""

from marshmallow import Schema, fields, validate

from ...models.decision import DECISIONS


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    rationale = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class DecisionOut(Schema):
    id = fields.Integer()
    trial_id = fields.Integer()
    physician_id = fields.Integer()
    decision = fields.String()
    rationale = fields.String()
    evaluation_id = fields.Integer(allow_none=True, metadata={"description": "The latest evaluation at the time."})
    decided_at = fields.DateTime()
