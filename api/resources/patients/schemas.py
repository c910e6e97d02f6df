"""Patient payloads."""

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates

from ..fields import Timezone, text


class PatientIn(Schema):
    display_name = text(200, required=True)
    mrn = text(64, required=True)
    date_of_birth = fields.Date(required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    timezone = Timezone(required=True)

    @validates("date_of_birth")
    def _plausible_birth_date(self, value: date, **_):
        if value > date.today() or value.year < 1900:
            raise ValidationError("Must be a past date after 1900.")


class PatientOut(Schema):
    id = fields.Integer()
    display_name = fields.String()
    mrn = fields.String()
    date_of_birth = fields.Date()
    email = fields.String()
    timezone = fields.String()
    enrolled = fields.Boolean()
    created_at = fields.DateTime()


class EnrollmentOut(Schema):
    patient = fields.Nested(PatientOut)
    enrollment_code = fields.String(metadata={"description": "Single use; give it to the patient's phone."})
    enrollment_code_expires_at = fields.DateTime()
