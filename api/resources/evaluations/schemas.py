"""Evaluation payloads (the record of docs/clinical-rules.md §2)."""

from marshmallow import Schema, fields


class EvaluationOut(Schema):
    id = fields.Integer()
    trial_id = fields.Integer()
    evaluated_at = fields.DateTime()
    final = fields.Boolean()
    outcome = fields.String(metadata={"description": "success, failure or insufficient_data"})
    protocol = fields.Dict()
    metrics = fields.Dict()
    criteria = fields.List(fields.Dict())


class QueuedOut(Schema):
    status = fields.String()
    trial_id = fields.Integer()


class BucketOut(Schema):
    index = fields.Integer()
    label = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    closed = fields.Boolean()
    counted = fields.Boolean()
    entries = fields.Integer()
    pain = fields.Float(allow_none=True)
    mme = fields.Float(allow_none=True)
    interference = fields.Float(allow_none=True)


class SummaryOut(Schema):
    trial_id = fields.Integer()
    as_of = fields.DateTime()
    bucket = fields.String()
    baseline = fields.Dict()
    metrics = fields.Dict()
    outcome = fields.String()
    final = fields.Boolean()
    buckets = fields.List(fields.Nested(BucketOut))
