"""Trial payloads."""

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ...domain.blocks import AGENTS, REGIONS, SIDES
from ...domain.therapies import REGISTRY, THERAPIES, therapy
from ...domain.trial_status import STATUSES
from ...extensions.openapi import Out, one_of, optional
from ..fields import Id, Int, Moment, Num, QueryId, Timezone, between, text


class BaselineSchema(Schema):
    pain = Num(required=True, validate=between(1, 10))
    mme = Num(validate=between(0, 100000), allow_none=True)
    odi = Num(validate=between(0, 100), allow_none=True)
    interference = Num(validate=between(0, 10), allow_none=True)


class StrictBool(fields.Boolean):
    """true or false only: not "yes", not 1."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


def _parameter_field(name: str) -> fields.Field:
    """A typed field for one protocol parameter, from the registry (type, range, the therapies that use it)."""
    users = [t for t in REGISTRY.values() if name in t.parameters]
    parameter = users[0].parameters[name]
    choices = sorted({c for t in users for c in t.parameters[name].choices})
    described = parameter.describe()
    metadata = {"description": " ".join(filter(None, [
        described.get("description"), f"Therapies: {', '.join(t.name for t in users)}.",
        "Defaults: " + "; ".join(f"{t.name} {t.defaults.get(name)}" for t in users
                                 if t.defaults.get(name) is not None) + "."]))}
    if parameter.kind is bool:
        return StrictBool(metadata=metadata)
    if parameter.kind is str:
        return fields.String(validate=validate.OneOf(choices), metadata=metadata)
    kind = Int if parameter.kind is int else Num
    return kind(validate=between(parameter.low, parameter.high), metadata=metadata)


# Every parameter of every therapy, typed: the OpenAPI document describes the protocol object exactly. Which
# parameters a trial may set depends on its therapy, checked by TrialIn (registry's override_problems).
ProtocolSchema = Schema.from_dict(
    {name: _parameter_field(name) for t in REGISTRY.values() for name in t.parameters}, name="Protocol")

LEVEL = re.compile(r"^(C[1-8]|T(1[0-2]|[1-9])|L[1-5]|S[1-5])(-(C[1-8]|T(1[0-2]|[1-9])|L[1-5]|S[1-5]))?$")


class TargetSchema(Schema):
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    levels = fields.List(
        fields.String(validate=validate.Regexp(LEVEL, error="Not a spinal segment or level, such as L5 or L4-L5.")),
        load_default=list, validate=validate.Length(max=10),
        metadata={"description": "Segments such as \"L4-L5\": at least one for medial branch and nerve root blocks, "
                                 "none for sacroiliac blocks."})

    @validates_schema
    def _levels_once(self, data, **_):
        if len(set(data.get("levels", ()))) != len(data.get("levels", ())):
            raise ValidationError("List each level once.", "levels")


class TrialIn(Schema):
    patient_id = Id(required=True)
    therapy = fields.String(required=True, validate=validate.OneOf(THERAPIES))
    device = text(200)
    start_at = Moment(required=True, metadata={"description": "For a block: when it was given."})
    end_at = Moment(metadata={"description": "Required, except for blocks: start_at + 8 h by default. At most "
                                             "the therapy's max_length_hours after start_at (GET /protocols): 30 "
                                             "days for scs and intrathecal, 60 for pns, 24 hours for blocks."})
    timezone = Timezone(metadata={"description": "IANA timezone; the patient's when absent."})
    baseline = fields.Nested(BaselineSchema, required=True,
                             metadata={"description": "For blocks only `pain` (just before the block) is used."})
    protocol = fields.Nested(ProtocolSchema, load_default=dict,
                             metadata={"description": "Overrides of the therapy's defaults (GET /protocols)."})
    care_team = fields.List(Id(), validate=validate.Length(min=1, max=50))
    target = fields.Nested(TargetSchema, metadata={"description": "Blocks only, and required for them."})
    agent = fields.String(validate=validate.OneOf(AGENTS),
                          metadata={"description": "Blocks only, and required for them: the local anaesthetic."})

    @validates_schema
    def _fits_the_therapy(self, data, **_):
        if "therapy" not in data:
            return
        row = therapy(data["therapy"])
        errors: dict = {}
        if problems := row.override_problems(data.get("protocol") or {}):
            errors["protocol"] = problems
        if row.is_block:
            for name in ("target", "agent"):
                if name not in data:
                    errors[name] = [f"Required for {row.in_a_sentence}."]
            levels = (data.get("target") or {}).get("levels")
            if levels is not None and row.levels_required and not levels:
                errors["target"] = {"levels": [f"Name at least one level for {row.in_a_sentence}."]}
            elif levels and not row.levels_required:
                errors["target"] = {"levels": [f"{row.in_a_sentence[0].upper()}{row.in_a_sentence[1:]} has no levels."]}
        else:
            for name in ("target", "agent"):
                if name in data:
                    errors[name] = ["Only for block therapies."]
            if "end_at" not in data:
                errors["end_at"] = ["Missing data for required field."]
        if "start_at" in data and "end_at" in data and (
                problem := row.length_problem(data["start_at"], data["end_at"])):
            errors["end_at"] = [problem]
        if errors:
            raise ValidationError(errors)


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
    status = fields.String(validate=validate.OneOf(STATUSES))
    patient_id = QueryId()


class TrialOut(Out):
    id = fields.Integer()
    patient_id = fields.Integer()
    therapy = one_of(THERAPIES)
    device = fields.String(allow_none=True)
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    timezone = fields.String()
    baseline = fields.Nested(BaselineSchema)
    protocol = fields.Nested(ProtocolSchema, metadata={"description": "The thresholds in force: defaults with "
                                                                      "overrides."})
    protocol_overrides = fields.Nested(ProtocolSchema, metadata={"description": "This trial's own thresholds."})
    target = fields.Nested(TargetSchema, allow_none=True, metadata={"description": "Blocks only; null otherwise."})
    agent = one_of(AGENTS, allow_none=True, metadata={"description": "Blocks only; null otherwise."})
    schedule = fields.List(fields.DateTime(), allow_none=True,
                           metadata={"description": "Blocks: when the diary expects an entry (+15, +30, +45, +60 "
                                                    "minutes, then hourly to end_at); null for other therapies."})
    warnings = optional(fields.List(fields.String(), metadata={
        "description": "On creation only: what the clinic should know, such as a yearly block count over the limit."}))
    care_team = fields.List(fields.Integer(), metadata={"description": "User ids of the nurses and physicians."})
    status = one_of(STATUSES)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
