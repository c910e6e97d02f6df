"""Clinic profile and readiness requirement payloads."""

import re

from marshmallow import Schema, ValidationError, fields, validate

from ...domain.therapies import THERAPIES
from ...extensions.openapi import Out, one_of
from ..documentation.schemas import Npi, RequirementOverridesSchema, RequirementsSchema
from ..fields import PhoneNumber, Timezone, ValidatedByView

# An absolute URI as FHIR's Identifier.system takes it: http(s) URL, urn:oid:, urn:uuid: or another URN.
_URI = re.compile(r"(https?://[^\s/]+(/\S*)?|urn:oid:[0-2](\.(0|[1-9][0-9]*))+|urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
                  r"|urn:[a-z0-9][a-z0-9-]{1,31}:\S+)")


def _assigning_authority(value: str) -> None:
    if not _URI.fullmatch(value):
        raise ValidationError("Must be an absolute URI: an https:// URL, urn:oid:1.2.3 or urn:uuid:..., as the EHR "
                              "names its medical record numbers.")


class ClinicPatchIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    address = fields.String(validate=validate.Length(min=1, max=500), allow_none=True,
                            metadata={"description": "Postal address, lines separated by newlines."})
    npi = Npi(allow_none=True, metadata={"description": "The clinic's organisational NPI (10 digits, Luhn check)."})
    phone = PhoneNumber(allow_none=True, metadata={
        "description": "The number patients call (the diary page's \"when to call\" dials it); a text saying "
                       "HELP is answered with it. Stored in E.164."})
    timezone = Timezone(metadata={"description": "IANA name, such as America/Chicago: the worklist and the alerts "
                                                 "read times in it (a trial's own page reads its trial's)."})
    mrn_system = fields.String(allow_none=True, validate=[validate.Length(min=1, max=255), _assigning_authority],
                               metadata={"description": (
                                   "The assigning authority of the clinic's MRNs as its EHR names them (an absolute "
                                   "URI), sent as the system of each patient's MRN in FHIR; null restores the default, "
                                   "urn:uuid: and an id unique to the clinic.")})


class ClinicOut(Out):
    id = fields.Integer()
    name = fields.String()
    address = fields.String(allow_none=True)
    npi = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "E.164"})
    timezone = fields.String()
    mrn_system = fields.String(attribute="mrn_identifier_system", metadata={
        "description": "The system of the clinic's MRNs in FHIR: the one configured, else the default."})


class RequirementsIn(Schema):
    """Checked by the domain, field by field (readiness.requirement_problems), as the document describes them."""

    overrides = ValidatedByView(RequirementOverridesSchema, required=True, metadata={
        "description": "Overrides of the therapy's defaults, e.g. {\"min_conservative_treatment_months\": 3}; "
                       "{} restores the defaults."})


class RequirementsOut(Out):
    therapy = one_of(THERAPIES)
    defaults = fields.Nested(RequirementsSchema)
    overrides = fields.Nested(RequirementOverridesSchema)
    effective = fields.Nested(RequirementsSchema)
    sources = fields.List(fields.String(), metadata={"description": "The coverage policies the defaults follow."})
