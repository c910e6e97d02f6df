"""The staff profile an admin edits: display name and NPI (kept apart from the account schemas)."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..documentation.schemas import Npi


class StaffProfileIn(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    npi = Npi(allow_none=True, metadata={"description": "National Provider Identifier: 10 digits, Luhn check. "
                                                        "A physician needs one to sign a decision."})

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Send display_name or npi.", "_schema")
