"""Clinic profile and readiness requirement payloads."""

from marshmallow import Schema, fields, validate

from ..documentation.schemas import Npi


class ClinicPatchIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    address = fields.String(validate=validate.Length(min=1, max=500), allow_none=True,
                            metadata={"description": "Postal address, lines separated by newlines."})
    npi = Npi(allow_none=True, metadata={"description": "The clinic's organisational NPI (10 digits, Luhn check)."})


class ClinicOut(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String(allow_none=True)
    npi = fields.String(allow_none=True)


class RequirementsIn(Schema):
    overrides = fields.Dict(required=True, metadata={
        "description": "Overrides of the therapy's defaults, e.g. {\"min_conservative_treatment_months\": 3}; "
                       "{} restores the defaults."})


class RequirementsOut(Schema):
    therapy = fields.String()
    defaults = fields.Dict()
    overrides = fields.Dict()
    effective = fields.Dict()
    sources = fields.List(fields.String())
