"""Staff account payloads."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...extensions.openapi import Out, one_of
from ...models.clinic import STAFF_ROLES
from ...services.passwords import password_problem
from ..auth.schemas import new_password


class UserIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    password = new_password()
    display_name = fields.String(validate=validate.Length(min=1, max=200))

    @validates_schema
    def _password_is_not_the_email(self, data, **kwargs):
        if problem := password_problem(data["password"], email=data["email"]):
            raise ValidationError(problem, field_name="password")


class UserOut(Out):
    id = fields.Integer()
    clinic_id = fields.Integer()
    email = fields.String()
    role = one_of(STAFF_ROLES)
    display_name = fields.String(allow_none=True)
    npi = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()
