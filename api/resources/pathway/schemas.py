"""Pathway payloads."""

from marshmallow import Schema, fields

NEXT_STEPS = "rfa_candidate, confirmatory_block_due, therapeutic_injection_candidate, not_indicated or pending"


class PathwayTarget(Schema):
    region = fields.String()
    side = fields.String(metadata={"description": "left, right or bilateral (a side of its own)."})


class PathwayBlock(Schema):
    trial_id = fields.Integer()
    therapy = fields.String()
    levels = fields.List(fields.String())
    agent = fields.String()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    status = fields.String()
    outcome = fields.String(allow_none=True, metadata={"description": "The latest final outcome; null before it."})
    frequency_exceeded = fields.Boolean(metadata={
        "description": "More blocks of this therapy in this region (any side) in the 365 days up to it than the "
                       "limit (4 medial branch, 2 sacroiliac)."})


class PathwayRow(Schema):
    target = fields.Nested(PathwayTarget)
    blocks = fields.List(fields.Nested(PathwayBlock), metadata={"description": "In time order."})
    next_step = fields.String(metadata={"description": NEXT_STEPS})
    frequency_exceeded = fields.Boolean(metadata={"description": "Any of the target's blocks exceeded the limit."})


class PathwayOut(Schema):
    patient_id = fields.Integer()
    targets = fields.List(fields.Nested(PathwayRow))
