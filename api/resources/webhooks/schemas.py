"""Webhooks payloads."""

from marshmallow import Schema, fields, validate

from ...extensions.openapi import Out


class WebhookIn(Schema):
    url = fields.URL(required=True, require_tld=False, schemes={"https", "http"}, validate=validate.Length(max=500))
    description = fields.String(validate=validate.Length(max=200))


class WebhookOut(Out):
    id = fields.Integer()
    url = fields.String()
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()


class WebhookCreatedOut(WebhookOut):
    secret = fields.String(metadata={"description": "HMAC-SHA256 signing secret; shown only now."})
