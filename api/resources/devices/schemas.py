"""Devices payloads."""

from marshmallow import Schema, fields, validate


class DeviceIn(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(["ios", "android"]))
    token = fields.String(required=True, validate=validate.Length(min=8, max=4096))


class DeviceOut(Schema):
    id = fields.Integer()
    platform = fields.String()
    created_at = fields.DateTime()
