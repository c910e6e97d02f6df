"""What the diary page sends and receives beyond the API's own schemas."""

from marshmallow import Schema, fields, pre_dump, validate

from ..resources.patients.schemas import ClinicContactOut
from ..resources.trials.schemas import TargetSchema


class DiaryTrialOut(Schema):
    """A trial as the page draws it: its progress, schedule and form, and whom to call."""

    id = fields.Integer()
    therapy = fields.String()
    start_at = fields.DateTime()
    end_at = fields.DateTime()
    timezone = fields.String()
    schedule = fields.List(fields.DateTime(), allow_none=True)
    relief_measure = fields.String(allow_none=True)
    target = fields.Nested(TargetSchema, allow_none=True)
    clinic = fields.Nested(ClinicContactOut)

    @pre_dump
    def _from_trial(self, trial, **_):
        return {"id": trial.id, "therapy": trial.therapy, "start_at": trial.start_at, "end_at": trial.end_at,
                "timezone": trial.timezone, "schedule": trial.schedule, "target": trial.target,
                "relief_measure": trial.protocol.get("relief_measure"), "clinic": trial.clinic}


class SubscriptionIn(Schema):
    subscription = fields.Dict(required=True, metadata={
        "description": "PushSubscription.toJSON(): {endpoint, keys: {p256dh, auth}}."})


class SignInLinkIn(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "The token of a texted sign-in link, from the fragment of the address it opened."})
