"""Staff account payloads."""

from marshmallow import Schema, fields, validate

from ...models.clinic import STAFF_ROLES
from ...services.passwords import MIN_LENGTH


class UserIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    password = fields.String(required=True, validate=validate.Length(min=MIN_LENGTH, max=1024), load_only=True)
    display_name = fields.String(validate=validate.Length(min=1, max=200))


class UserOut(Schema):
    id = fields.Integer()
    clinic_id = fields.Integer()
    email = fields.String()
    role = fields.String()
    display_name = fields.String(allow_none=True)
    npi = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()
