"""Diary entry payloads, validated field by field (the OpenAPI document describes the entry)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from marshmallow import Schema, ValidationError, fields, pre_dump, validate, validates, validates_schema

from ...clock import now
from ...domain.vocabulary import MEDICATION_UNITS, ROUTES, SYMPTOMS
from ...extensions.openapi import FieldErrors, Out, one_of, optional
from ...services.diary import BATCH_STATUSES, entry_is_late
from ..fields import Int, Moment, Num, ValidatedItemByItem, between, text


class PainSchema(Schema):
    score = Int(required=True, validate=between(0, 10))
    worst_24h = Int(validate=between(0, 10))
    least_24h = Int(validate=between(0, 10))
    relief_percent = Num(validate=between(0, 100))

    @validates_schema
    def _least_not_above_worst(self, data, **_):
        if "least_24h" in data and "worst_24h" in data and data["least_24h"] > data["worst_24h"]:
            raise ValidationError("Cannot be above worst_24h.", "least_24h")


class FunctionSchema(Schema):
    interference = Num(validate=between(0, 10))
    steps = Int(validate=between(0, 200_000))
    sleep_hours = Num(validate=between(0, 24))
    odi = Num(validate=between(0, 100))


class MedicationSchema(Schema):
    name = text(100, required=True)
    dose = Num(required=True, validate=validate.Range(min=0, max=100_000, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.OneOf(MEDICATION_UNITS))
    route = fields.String(validate=validate.OneOf(ROUTES))


class StimulationSchema(Schema):
    program = text(40)
    coverage_percent = Num(validate=between(0, 100))
    satisfaction = Num(validate=between(0, 10))


def _each_once(symptoms: list[str]) -> None:
    if len(set(symptoms)) != len(symptoms):
        raise ValidationError("List each symptom once.")


class EntryContent(Schema):
    """Every field of an entry but client_id; optional ones may be null in a correction (to clear them)."""

    recorded_at = Moment(required=True)
    pain = fields.Nested(PainSchema, required=True)
    function = fields.Nested(FunctionSchema)
    medications = fields.List(fields.Nested(MedicationSchema), validate=validate.Length(max=50))
    # Checked once every item is known: a list with an unknown item never reaches the repeat check (its valid items
    # alone would, and the two errors would share one key as an item index and "_schema").
    symptoms = fields.List(
        fields.String(validate=validate.OneOf(SYMPTOMS)), validate=[validate.Length(max=len(SYMPTOMS)), _each_once],
        metadata={"uniqueItems": True})
    temperature_c = Num(validate=between(30, 45))
    sedation_score = Int(validate=between(1, 4))
    stimulation = fields.Nested(StimulationSchema)
    pgic = Int(validate=between(1, 7))
    note = fields.String(validate=validate.Length(max=2000))

    @validates("recorded_at")
    def _not_in_future(self, value, **_):
        if value > now() + timedelta(seconds=current_app.config["CLOCK_SKEW_SECONDS"]):
            raise ValidationError("Cannot be in the future.")


class EntryIn(EntryContent):
    client_id = fields.UUID(required=True)


class EntryPatchIn(EntryContent):
    """The fields to replace; null clears an optional field."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.required = False
        field_obj.allow_none = field_name not in ("recorded_at", "pain")

    @validates_schema
    def _something(self, data, **_):
        if not data:
            raise ValidationError("Send at least one field to correct.", "_schema")


class VoidIn(Schema):
    reason = text(500, required=True)


class VoidQuery(Schema):
    reason = text(500)


class BatchIn(Schema):
    entries = fields.List(ValidatedItemByItem(EntryIn), required=True, validate=validate.Length(min=1, max=500))


class BatchResultOut(Out):
    client_id = fields.String(allow_none=True, metadata={"description": "Null when the entry sent none."})
    status = one_of(BATCH_STATUSES, metadata={
        "description": "created; duplicate (stored before with this content); conflict (stored before with other "
                       "content: `id` is the stored one); invalid (`errors` says why; nothing stored)."})
    id = fields.Integer(allow_none=True, metadata={"description": "The stored entry; null when invalid."})
    errors = FieldErrors(allow_none=True, metadata={"description": "Why the entry was refused; null when stored."})


class BatchOut(Out):
    results = fields.List(fields.Nested(BatchResultOut))


class EntryQuery(Schema):
    updated_since = Moment()
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=between(1, 500))  # query strings are text: not strict


class ContentOut(Out):
    """An entry's content as stored: what the phone sent but client_id and recorded_at (the parts it left out are
    left out here too)."""

    pain = fields.Nested(PainSchema)
    function = optional(fields.Nested(FunctionSchema))
    medications = optional(fields.List(fields.Nested(MedicationSchema)))
    symptoms = optional(fields.List(one_of(SYMPTOMS)))
    temperature_c = optional(fields.Float())
    sedation_score = optional(fields.Integer())
    stimulation = optional(fields.Nested(StimulationSchema))
    pgic = optional(fields.Integer())
    note = optional(fields.String())


class EntryOut(ContentOut):
    id = fields.Integer()
    trial_id = fields.Integer()
    client_id = fields.UUID()
    recorded_at = fields.String(metadata={"format": "date-time", "description": "As the phone sent it, with its "
                                                                                "offset."})
    version = fields.Integer()
    voided = fields.Boolean()
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    received_at = fields.DateTime(metadata={
        "description": "When the server first received the entry. It is late when received more than 24 hours after "
                       "recorded_at (2 hours for intrathecal trials and blocks)."})
    late = fields.Boolean(metadata={"description": "Received later than the trial's therapy allows (above)."})

    @pre_dump
    def _flatten(self, entry, **_):
        return {
            **entry.content,
            "id": entry.id, "trial_id": entry.trial_id, "client_id": entry.client_id,
            "recorded_at": entry.recorded_at_local.isoformat(), "version": entry.version,
            "voided": entry.voided, "voided_at": entry.voided_at, "void_reason": entry.void_reason,
            "created_at": entry.created_at, "updated_at": entry.updated_at, "received_at": entry.received_at,
            "late": entry_is_late(entry),
        }


class EntryPageOut(Out):
    items = fields.List(fields.Nested(EntryOut))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as cursor for the next page."})


class EntryVersionOut(Out):
    version = fields.Integer()
    recorded_at = fields.DateTime()
    content = fields.Nested(ContentOut)
    replaced_at = fields.DateTime()
