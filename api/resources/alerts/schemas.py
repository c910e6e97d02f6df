"""Alert and notification payloads."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from ...clock import now
from ...domain.safety import COVERABLE_RULES, REASON_MAX, RULES, SEVERITIES, until_problem
from ...extensions.openapi import Out, one_of
from ...models.notification import CAUSES, CHANNELS, STATES
from ...models.safety import ALERT_STATUSES
from ..fields import Moment, QueryId


class AlertQuery(Schema):
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES), metadata={
        "description": "open, acknowledged, or expected (a covered firing below high: it told no one)."})
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    trial_id = QueryId()
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class AcknowledgeIn(Schema):
    note = fields.String(validate=validate.Length(max=2000))


class AlertOut(Out):
    id = fields.Integer()
    trial_id = fields.Integer()
    rule = one_of(RULES)
    severity = one_of(SEVERITIES)
    local_day = fields.Date()
    status = one_of(ALERT_STATUSES, metadata={
        "description": "open until acknowledged; expected when an expected finding covered it (it stays expected "
                       "when acknowledged)."})
    count = fields.Integer()
    first_entry_id = fields.Integer(allow_none=True)
    latest_entry_id = fields.Integer(allow_none=True)
    opened_at = fields.DateTime()
    updated_at = fields.DateTime()
    escalate_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.Integer(allow_none=True)
    acknowledgement_note = fields.String(allow_none=True)


class NotificationOut(Out):
    id = fields.Integer()
    delivery_id = fields.String()
    cause = one_of(CAUSES)
    alert_id = fields.Integer(allow_none=True)
    channel = one_of(CHANNELS)
    recipient_user_id = fields.Integer(allow_none=True)
    subject = fields.String()
    state = one_of(STATES, metadata={"description": "The delivery: pending (being tried), sent, or failed (retries "
                                                    "ran out)."})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ExpectedFindingIn(Schema):
    rule = one_of(COVERABLE_RULES, required=True, metadata={"description": "A rule that can fire below high."})
    until = Moment(required=True, metadata={"description": "After now, at most 30 days ahead."})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=REASON_MAX))

    @validates("until")
    def _within_30_days(self, value, **_):
        if (problem := until_problem(value, now())) is not None:
            raise ValidationError(problem)


class ExpectedFindingOut(Out):
    id = fields.Integer()
    trial_id = fields.Integer()
    rule = one_of(COVERABLE_RULES)
    until = fields.DateTime()
    reason = fields.String()
    created_by = fields.Integer()
    created_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True, metadata={"description": "When it was ended early; null otherwise."})


class StatisticsQuery(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class RuleStatisticsOut(Out):
    rule = one_of(RULES)
    severity = one_of(SEVERITIES)
    raised = fields.Integer(metadata={"description": "Alerts stored in the period, expected ones included."})
    expected = fields.Integer(metadata={"description": "Of those, stored as expected (they told no one)."})
    acknowledged = fields.Integer()
    still_open = fields.Integer()
    median_minutes_to_acknowledge = fields.Float(allow_none=True)
    p90_minutes_to_acknowledge = fields.Float(allow_none=True)
    notifications_sent = fields.Integer()


class AlertStatisticsOut(Out):
    days = fields.Integer()
    since = fields.DateTime()
    rules = fields.List(fields.Nested(RuleStatisticsOut), metadata={
        "description": "One row per rule and severity that raised an alert in the period."})
