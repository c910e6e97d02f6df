"""Protocol payloads."""

from marshmallow import Schema, fields


class ParameterOut(Schema):
    name = fields.String()
    type = fields.String(metadata={"description": "boolean, integer, number or string."})
    minimum = fields.Float()
    maximum = fields.Float()
    choices = fields.List(fields.String())
    description = fields.String()
    default = fields.Raw(allow_none=True, metadata={"description": "null when it depends on the block's agent."})
    default_by_agent = fields.Dict(keys=fields.String(), values=fields.Float())


class TherapyProtocolOut(Schema):
    therapy = fields.String()
    title = fields.String()
    bucket = fields.String(metadata={"description": "day, hour, or entry (every entry its own timepoint)."})
    block = fields.Boolean(metadata={"description": "A diagnostic block: target and agent required."})
    criteria = fields.List(fields.String())
    parameters = fields.List(fields.Nested(ParameterOut))
