"""Trial payloads."""

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ...domain.protocol import THERAPIES, override_problems
from ..fields import Id, Moment, Num, QueryId, Timezone, between, text


class BaselineSchema(Schema):
    pain = Num(required=True, validate=between(1, 10))
    mme = Num(validate=between(0, 100000), allow_none=True)
    odi = Num(validate=between(0, 100), allow_none=True)
    interference = Num(validate=between(0, 10), allow_none=True)


class TrialIn(Schema):
    patient_id = Id(required=True)
    therapy = fields.String(required=True, validate=validate.OneOf(THERAPIES))
    device = text(200)
    start_at = Moment(required=True)
    end_at = Moment(required=True)
    timezone = Timezone(metadata={"description": "IANA timezone; the patient's when absent."})
    baseline = fields.Nested(BaselineSchema, required=True)
    protocol = fields.Dict(load_default=dict, metadata={"description": "Overrides of the therapy's defaults."})
    care_team = fields.List(Id(), validate=validate.Length(min=1, max=50))

    @validates("protocol")
    def _known_parameters(self, value, **_):
        if problems := override_problems(value):
            raise ValidationError(problems)

    @validates_schema
    def _ends_after_start(self, data, **_):
        if "start_at" in data and "end_at" in data and data["end_at"] <= data["start_at"]:
            raise ValidationError("Must be after start_at.", "end_at")


class TrialPatchIn(Schema):
    end_at = Moment()
    status = fields.String(validate=validate.OneOf(["cancelled"]),
                           metadata={"description": "Send \"cancelled\" to cancel the trial."})
    care_team = fields.List(Id(), validate=validate.Length(min=1, max=50))

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Send end_at, status or care_team.", "_schema")


class TrialQuery(Schema):
    status = fields.String(validate=validate.OneOf(["scheduled", "active", "ended", "decided", "cancelled"]))
    patient_id = QueryId()


class TrialOut(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    therapy = fields.String()
    device = fields.String(allow_none=True)
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    timezone = fields.String()
    baseline = fields.Dict()
    protocol = fields.Dict(metadata={"description": "The thresholds in force: defaults with overrides."})
    protocol_overrides = fields.Dict()
    care_team = fields.List(fields.Integer())
    status = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
