"""Texting payloads, and the form fields Twilio posts to its callbacks."""

from marshmallow import EXCLUDE, Schema, fields, validate

from ...extensions.openapi import Out
from ..fields import MobileNumber

STATUSES = ["accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read",
            "canceled", "receiving", "received", "partially_delivered"]


class SignInLinkRequestIn(Schema):
    mobile_number = MobileNumber(required=True, metadata={"description": "The number the clinic has for you."})


class SignInLinkRequestOut(Out):
    message = fields.String(metadata={"description": "The same answer whether or not the number is known."})


class TwilioStatusIn(Schema):
    """What Twilio posts to a message's StatusCallback; its other parameters are ignored (but signed)."""

    class Meta:
        unknown = EXCLUDE

    MessageSid = fields.String(required=True, validate=validate.Length(min=1, max=64))
    MessageStatus = fields.String(required=True, validate=validate.OneOf(STATUSES))
    ErrorCode = fields.String(validate=validate.Length(max=10))


class TwilioInboundIn(Schema):
    """What Twilio posts when a patient texts the clinic's number; other parameters are ignored (but signed)."""

    class Meta:
        unknown = EXCLUDE

    MessageSid = fields.String(required=True, validate=validate.Length(min=1, max=64))
    From = fields.String(required=True, validate=validate.Length(min=1, max=40))
    Body = fields.String(load_default="", validate=validate.Length(max=1600))
