"""Decisions payloads."""

from marshmallow import Schema, fields, validate

from ...extensions.openapi import Out, one_of
from ...models.decision import DECISIONS


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    rationale = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class SignatureOut(Out):
    signer_id = fields.Integer()
    name = fields.String()
    npi = fields.String()
    signed_at = fields.DateTime()
    statement = fields.String(metadata={"description": "The attestation the physician signed."})
    report_sha256 = fields.String(metadata={
        "description": "SHA-256 (hex) of the PDF given by GET /trials/{id}/decision/signed-report.pdf."})


class DecisionOut(Out):
    id = fields.Integer()
    trial_id = fields.Integer()
    physician_id = fields.Integer()
    decision = one_of(DECISIONS)
    rationale = fields.String()
    evaluation_id = fields.Integer(allow_none=True, metadata={"description": "The latest evaluation at the time."})
    decided_at = fields.DateTime()
    signature = fields.Nested(SignatureOut, allow_none=True,
                              metadata={"description": "Null only on decisions recorded before signatures."})
