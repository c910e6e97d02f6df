"""Pre-trial documentation payloads: codes, conservative care, evaluations, imaging (docs/payer-packet.md)."""

from marshmallow import Schema, ValidationError, fields, validate

from ...clock import now
from ...domain import readiness
from ...domain.documentation import (
    DURATION_UNITS,
    EARLIEST_DATE,
    MODALITIES,
    SCREENING_RESULTS,
    cpt_or_hcpcs,
    icd10cm,
    latest_past_date,
    npi_problem,
)
from ...domain.therapies import THERAPIES
from ...extensions.openapi import Out, one_of
from ..fields import Num, between, text


class Icd10Cm(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = icd10cm(super()._deserialize(value, attr, data, **kwargs))
        if code is None:
            raise ValidationError("Not an ICD-10-CM code: a letter, a digit, a letter or digit, then optionally a "
                                  "dot and up to 4 letters or digits (M96.1, G89.4, M54.16, G90.50).")
        return code


class CptHcpcs(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        code = cpt_or_hcpcs(super()._deserialize(value, attr, data, **kwargs))
        if code is None:
            raise ValidationError("Not a CPT or HCPCS code: 5 digits (63650), 4 digits and T (0784T), or a letter "
                                  "and 4 digits (L8680).")
        return code


class Npi(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        npi = super()._deserialize(value, attr, data, **kwargs).strip()
        if problem := npi_problem(npi):
            raise ValidationError(problem)
        return npi


class PastDate(fields.Date):
    """A date of something that already happened: not before 1900, not after today anywhere on Earth.

    Stored as ISO text in the documentation's JSON, so it is dumped back as it was stored.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if day < EARLIEST_DATE:
            raise ValidationError(f"Must not be before {EARLIEST_DATE.isoformat()}.")
        if day > latest_past_date(now()):
            raise ValidationError("Must not be in the future.")
        return day.isoformat()

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) or value is None else super()._serialize(value, attr, obj, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "yes", 1 or "true" are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class IndicationSchema(Schema):
    code = Icd10Cm(required=True, metadata={"description": "ICD-10-CM, e.g. M96.1, G89.4, M54.16."})
    description = text(300)


class ProcedureSchema(Schema):
    code = CptHcpcs(required=True, metadata={"description": "CPT or HCPCS, e.g. 63650 (SCS trial lead), 62350."})
    description = text(300)


class ConservativeTreatmentSchema(Schema):
    treatment = text(200, required=True, metadata={"description": "e.g. physical therapy, NSAIDs, epidural steroids"})
    duration = Num(required=True, validate=between(0.1, 600))
    unit = fields.String(required=True, validate=validate.OneOf(DURATION_UNITS))


class PsychologicalEvaluationSchema(Schema):
    date = PastDate(required=True)
    clinician = text(200, required=True)
    cleared = StrictBoolean(required=True, metadata={"description": "Cleared for the implant."})


class SubstanceUseScreeningSchema(Schema):
    date = PastDate(required=True)
    result = fields.String(required=True, validate=validate.OneOf(list(SCREENING_RESULTS)))


class ImagingSchema(Schema):
    date = PastDate(required=True)
    modality = fields.String(required=True, validate=validate.OneOf(list(MODALITIES)))
    region = text(100, metadata={"description": "e.g. lumbar spine"})


class DocumentationIn(Schema):
    """The whole document: what is left out is not documented (yet)."""

    indications = fields.List(fields.Nested(IndicationSchema), validate=validate.Length(max=20))
    procedures = fields.List(fields.Nested(ProcedureSchema), validate=validate.Length(max=20))
    conservative_treatments = fields.List(fields.Nested(ConservativeTreatmentSchema), validate=validate.Length(max=30))
    psychological_evaluation = fields.Nested(PsychologicalEvaluationSchema, allow_none=True)
    substance_use_screening = fields.Nested(SubstanceUseScreeningSchema, allow_none=True)
    imaging = fields.List(fields.Nested(ImagingSchema), validate=validate.Length(max=20))
    life_expectancy_months = Num(validate=between(0, 1200), allow_none=True,
                                 metadata={"description": "The physician's estimate (pumps: at least 3 asked)."})


class DocumentationOut(Out, DocumentationIn):
    """The documentation as stored: the parts documented so far, and who last changed it (null before anyone)."""

    trial_id = fields.Integer()
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.Integer(allow_none=True)


def _requirement_field(name: str, **kwargs) -> fields.Field:
    """A typed field for one readiness requirement, from the domain's generic defaults and maxima."""
    if name.startswith("require_"):
        return StrictBoolean(**kwargs)
    if name == "procedure_codes":
        return fields.List(CptHcpcs(), validate=validate.Length(max=readiness.MAX_PROCEDURE_CODES),
                           metadata={"description": "CPT or HCPCS codes of the trial procedure a payer accepts."},
                           **kwargs)
    return Num(validate=between(0, readiness.MAXIMA[name]), **kwargs)


# Every readiness requirement, typed from the domain (docs/payer-packet.md): in force (all of them), and a clinic's
# overrides (any of them).
RequirementsSchema = Out.from_dict({name: _requirement_field(name) for name in readiness.GENERIC},
                                   name="Requirements")
RequirementOverridesSchema = Schema.from_dict({name: _requirement_field(name) for name in readiness.GENERIC},
                                              name="RequirementOverrides")


class ReadinessItemOut(Out):
    key = one_of(readiness.ITEMS)
    label = fields.String()
    status = one_of(readiness.ITEM_STATUSES, metadata={
        "description": "documented, missing (nothing recorded), or not_met (recorded but short)."})
    detail = fields.String(metadata={"description": "What the record shows."})
    gap = fields.String(allow_none=True, metadata={"description": "What a payer will find missing; null when "
                                                                  "documented."})


class ReadinessOut(Out):
    trial_id = fields.Integer()
    therapy = one_of(THERAPIES)
    ready = fields.Boolean()
    items = fields.List(fields.Nested(ReadinessItemOut))
    missing = fields.List(fields.String(), metadata={"description": "What a payer would find missing, in words."})
    requirements = fields.Nested(RequirementsSchema, metadata={
        "description": "The clinic's requirements in force for the therapy."})
    sources = fields.List(fields.String(), metadata={"description": "The coverage policies the defaults follow."})
