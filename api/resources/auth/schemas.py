"""Auth payloads."""

from marshmallow import Schema, fields, validate

from ...services.passwords import MIN_LENGTH


class LoginIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024), load_only=True)


class EnrollIn(Schema):
    enrollment_code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=MIN_LENGTH, max=1024), load_only=True)


class TokensOut(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer(metadata={"description": "Seconds until the access token expires."})
