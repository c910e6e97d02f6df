"""Protocol payloads."""

from marshmallow import fields

from ...domain.blocks import AGENTS
from ...domain.parameters import KINDS
from ...domain.therapies import BUCKETS, CRITERIA, THERAPIES
from ...extensions.openapi import Either, Out, one_of, optional
from ..trials.schemas import ProtocolSchema

DefaultByAgentOut = Out.from_dict({agent: fields.Float() for agent in AGENTS}, name="DefaultByAgent")


class ParameterOut(Out):
    name = one_of(ProtocolSchema().fields)
    type = one_of(KINDS.values(), metadata={"description": "The JSON type of its value."})
    minimum = optional(fields.Float())
    maximum = optional(fields.Float())
    choices = optional(fields.List(fields.String(), metadata={"description": "The values a string may take."}))
    description = optional(fields.String())
    default = Either(fields.Float(), fields.Boolean(), fields.String(), allow_none=True, metadata={
        "description": "Of the parameter's type; null when it depends on the block's agent (default_by_agent)."})
    default_by_agent = optional(fields.Nested(DefaultByAgentOut))


class TherapyProtocolOut(Out):
    therapy = one_of(THERAPIES)
    title = fields.String()
    bucket = one_of(BUCKETS, metadata={"description": "day, hour, or entry (every entry its own timepoint)."})
    block = fields.Boolean(metadata={"description": "A diagnostic block: target and agent required."})
    max_length_hours = fields.Integer(metadata={
        "description": "The longest a trial of this therapy may run, from start_at to end_at (720 is 30 days)."})
    criteria = fields.List(one_of(CRITERIA), metadata={"description": "The criteria judged, in report order."})
    parameters = fields.List(fields.Nested(ParameterOut))
