"""Pathway payloads."""

from marshmallow import fields

from ...domain.blocks import AGENTS, NEXT_STEPS, REGIONS, SIDES
from ...domain.facts import OUTCOMES
from ...domain.therapies import BLOCK_THERAPIES
from ...domain.trial_status import STATUSES
from ...extensions.openapi import Out, one_of


class PathwayTarget(Out):
    region = one_of(REGIONS)
    side = one_of(SIDES, metadata={"description": "left, right or bilateral (a side of its own)."})


class PathwayBlock(Out):
    trial_id = fields.Integer()
    therapy = one_of(BLOCK_THERAPIES)
    levels = fields.List(fields.String())
    agent = one_of(AGENTS)
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    status = one_of(STATUSES)
    outcome = one_of(OUTCOMES, allow_none=True, metadata={
        "description": "The latest final outcome; null before it."})
    frequency_exceeded = fields.Boolean(metadata={
        "description": "More blocks of this therapy in this region (any side) in the 365 days up to it than the "
                       "limit (4 medial branch, 2 sacroiliac)."})


class PathwayRow(Out):
    target = fields.Nested(PathwayTarget)
    blocks = fields.List(fields.Nested(PathwayBlock), metadata={"description": "In time order."})
    next_step = one_of(NEXT_STEPS)
    frequency_exceeded = fields.Boolean(metadata={"description": "Any of the target's blocks exceeded the limit."})


class PathwayOut(Out):
    patient_id = fields.Integer()
    targets = fields.List(fields.Nested(PathwayRow))
