"""Devices payloads."""

from marshmallow import Schema, fields, validate

from ...channels.push.webpush import TOKEN_DESCRIPTION
from ...extensions.openapi import Out, one_of
from ...models.notification import PLATFORMS


class DeviceIn(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS),
                             metadata={"description": "web: a browser with the diary page (Web Push)."})
    token = fields.String(required=True, validate=validate.Length(min=8, max=4096), metadata={
        "description": f"ios, android: the push provider's device token. web: {TOKEN_DESCRIPTION}"})


class DeviceOut(Out):
    id = fields.Integer()
    platform = one_of(PLATFORMS)
    created_at = fields.DateTime()
